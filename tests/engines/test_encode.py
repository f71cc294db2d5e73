"""The local engine's FFmpeg command, built with ``create=False`` (what ``--dry-run`` shows) from a
hand-made plan: one decode split into every definition, each encoder on the same keyframe grid,
every definition and audio rendition a variant stream of one HLS output. Nothing runs FFmpeg
and nothing is written."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg._utils
import pytest

from hlskit.domain.configs import FFmpegConfig
from hlskit.domain.errors import ConfigError
from hlskit.domain.plan import Clip, Watermark
from hlskit.domain.tracks import AudioRendition
from hlskit.engines.encode import (
    FFMPEG_PLAYLIST,
    build_encode,
    ffmpeg_exe,
    for_stream,
    gop_seconds,
    output_rate,
    snap_first_frame,
)
from tests.plans import media, plan

FFMPEG = "/opt/ffmpeg"
SNAP = snap_first_frame(Fraction(30))  # a first picture less than a frame late moved to the start


def encode(p, tmp_path: Path, rungs=None, **kw) -> list[str]:
    return build_encode(
        p,
        p.rungs if rungs is None else rungs,
        FFMPEG,
        "veryfast",
        tmp_path / "stage",
        tmp_path / "text",
        create=False,
        **kw,
    ).args


def stream(args: list[str], kind: str, index: int) -> dict[str, str]:
    """The options of one output stream (``-b:v:1 1800k`` → ``{"-b": "1800k"}``)."""
    suffix = f":{kind}:{index}"
    return {a[: -len(suffix)]: args[i + 1] for i, a in enumerate(args) if a.startswith("-") and a.endswith(suffix)}


def value(args: list[str], flag: str) -> str:
    assert args.count(flag) == 1, flag
    return args[args.index(flag) + 1]


def graph(args: list[str]) -> list[str]:
    return value(args, "-filter_complex").split(";")


def maps(args: list[str]) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a == "-map"]


def test_the_decode_reads_the_titles_video_stream_by_its_index(tmp_path):
    info = media()
    info = dataclasses.replace(info, video=dataclasses.replace(info.video, index=2))  # e.g. after a cover picture
    g = graph(encode(plan(("LD",), info=info), tmp_path))
    assert g[0].startswith(f"[0:2]{SNAP},fps=30/1,")


def test_one_decode_is_split_into_every_definition_of_one_hls_output(tmp_path):
    p = plan(("LD", "SD", "HD"))
    args = encode(p, tmp_path)
    assert args[0] == FFMPEG and args.count("-i") == 1 and value(args, "-i") == "/videos/talk.mp4"
    g = graph(args)
    assert g[0] == f"[0:0]{SNAP},fps=30/1,split=3[s0][s1][s2]"
    assert [s.split("scale=")[1].split(":flags")[0] for s in g if s.startswith("[s")] == [
        "640:360",
        "848:478",
        "1280:720",
    ]
    assert maps(args) == ["[v0]", "[v1]", "[v2]", "0:a:0", "0:a:0", "0:a:0"]
    # One output: its variant streams named after the definitions, each with its own audio.
    assert value(args, "-var_stream_map") == "v:0,a:0,name:LD v:1,a:1,name:SD v:2,a:2,name:HD"
    assert args[-1] == str(tmp_path / "stage" / "%v" / FFMPEG_PLAYLIST) and args.count("-f") == 1
    assert [stream(args, "v", i)["-b"] for i in range(3)] == ["400k", "800k", "1800k"]
    assert [stream(args, "a", i)["-b"] for i in range(3)] == ["64k", "80k", "128k"]
    assert not (tmp_path / "stage").exists() and not (tmp_path / "text").exists()  # create=False


@pytest.mark.parametrize("segment, gop, frames", [(4, 2, 60), (6, 2, 60), (2, 2, 60), (3, 1, 30), (1, 1, 30)])
def test_every_definition_shares_one_keyframe_grid_that_divides_the_segment(tmp_path, segment, gop, frames):
    args = encode(plan(("LD", "HD"), segment_duration=segment), tmp_path)
    assert gop_seconds(segment) == gop and segment % gop == 0
    for i in range(2):
        v = stream(args, "v", i)
        assert v["-g"] == v["-keyint_min"] == str(frames)
        assert v["-force_key_frames"] == f"expr:gte(t,n_forced*{gop})"
    assert value(args, "-hls_time") == str(segment)


@pytest.mark.parametrize(
    "rate, fps, frames",
    [("30000/1001", "30000/1001", 60), ("25/1", "25/1", 50), ("120/1", "60/1", 120), ("24000/1001", "24000/1001", 48)],
)
def test_the_output_keeps_the_source_rate_capped_at_60(tmp_path, rate, fps, frames):
    args = encode(plan(("LD",), info=media(frame_rate=rate)), tmp_path)
    assert output_rate(rate) == Fraction(fps) and graph(args)[0].startswith(
        f"[0:0]{snap_first_frame(Fraction(fps))},fps={fps},"
    )
    assert stream(args, "v", 0)["-g"] == str(frames)


def test_a_clip_seeks_the_input_and_reads_only_its_span(tmp_path):
    args = encode(plan(("LD",), clip=Clip(90.25, 45.0)), tmp_path)
    assert args[args.index("-ss") : args.index("-i") + 2] == ["-ss", "90.250", "-t", "45.000", "-i", "/videos/talk.mp4"]
    to_end = encode(plan(("LD",), clip=Clip(3.0)), tmp_path)
    assert "-t" not in to_end[: to_end.index("-i")] and value(to_end, "-ss") == "3.000"


def test_no_audio_stream_means_no_audio_map_and_odd_rates_become_48k(tmp_path):
    silent = encode(plan(("LD", "HD"), info=media(audio=False)), tmp_path)
    assert "0:a:0" not in maps(silent) and stream(silent, "a", 0) == {}
    assert value(silent, "-var_stream_map") == "v:0,name:LD v:1,name:HD"
    odd = stream(encode(plan(("LD",), info=media(sample_rate=22050)), tmp_path), "a", 0)
    assert (odd["-c"], odd["-ar"], odd["-ac"]) == ("aac", "48000", "2")
    assert stream(encode(plan(("LD",), info=media(sample_rate=44100)), tmp_path), "a", 0)["-ar"] == "44100"


def test_audio_renditions_are_encoded_once_and_shared_by_every_definition(tmp_path):
    renditions = [
        AudioRendition("en", "/videos/talk.mp4", 0, "en", "English", default=True, kbps=96),
        AudioRendition("fr", "/extra/french.m4a", 0, "fr", "Français", kbps=64),
    ]
    p = plan(("LD", "HD"))
    p.audio = renditions
    args = encode(p, tmp_path)
    assert maps(args) == ["[v0]", "[v1]", "0:a:0", "1:a:0"]  # the French file is input 1
    assert args.count("-i") == 2 and args[args.index("/extra/french.m4a") - 1] == "-i"
    assert value(args, "-var_stream_map") == "v:0,name:LD v:1,name:HD a:0,name:audio/en a:1,name:audio/fr"
    assert [stream(args, "a", k)["-b"] for k in (0, 1)] == ["96k", "64k"]
    assert stream(args, "a", 2) == {}  # no muxed audio per definition


def test_an_added_audio_file_is_cut_like_the_source(tmp_path):
    p = plan(("LD",), clip=Clip(10.0, 5.0))
    p.audio = [AudioRendition("fr", "/extra/french.m4a", 0, "fr", "Français")]
    args = encode(p, tmp_path)
    i = args.index("/extra/french.m4a")
    assert args[i - 5 : i + 1] == ["-ss", "10.000", "-t", "5.000", "-i", "/extra/french.m4a"]


def test_an_image_watermark_is_one_input_scaled_and_placed_per_definition(tmp_path):
    mark = Watermark("image", refer_pos="BottomRight", dx=0.05, dy=10, width=0.1, image="/marks/logo.png")
    args = encode(plan(("LD", "HD"), watermarks=[mark]), tmp_path)
    assert args.count("-i") == 2 and args[args.index("/marks/logo.png") - 1] == "-i"
    g = graph(args)
    assert "[1:v]format=rgba,split=2[m0_0][m0_1]" in g
    assert "[m0_0]scale=64:-1[mk0_0]" in g and "[m0_1]scale=128:-1[mk0_1]" in g  # 10% of each width
    # BottomRight, 5% of the width from the right edge and 10 px from the bottom, in each size.
    assert "[b0][mk0_0]overlay=x=640-w-32:y=360-h-10:format=auto[b0w0]" in g
    assert "[b1][mk0_1]overlay=x=1280-w-64:y=720-h-10:format=auto[b1w0]" in g


def test_a_text_watermark_reads_its_text_from_a_file_outside_the_package(tmp_path):
    mark = Watermark("text", refer_pos="TopLeft", dx=8, dy=0.02, width=0.05, text="Preview {definition}")
    p = plan(("LD", "HD"), watermarks=[mark])
    args = encode(p, tmp_path)
    draws = [s for s in graph(args) if "drawtext=" in s]
    assert len(draws) == 2
    assert f"textfile='{tmp_path / 'text' / 'text-0-0.txt'}':expansion=none:" in draws[0] and "fontsize=18:" in draws[0]
    assert "fontsize=36:" in draws[1] and ":x=8:y=14[" in draws[1]
    assert not (tmp_path / "text").exists()
    (tmp_path / "text").mkdir()
    build_encode(p, p.rungs, FFMPEG, "veryfast", tmp_path / "stage", tmp_path / "text", create=True)
    assert (tmp_path / "text" / "text-1-0.txt").read_text() == "Preview HD"  # the real run writes them
    assert sorted(f.name for f in (tmp_path / "stage").iterdir()) == ["HD", "LD"]


def test_fmp4_writes_an_init_section_and_m4s_segments(tmp_path):
    args = encode(plan(("LD",), fmt="fmp4"), tmp_path)
    assert value(args, "-hls_segment_type") == "fmp4" and value(args, "-hls_fmp4_init_filename") == "init.mp4"
    assert value(args, "-hls_segment_filename") == str(tmp_path / "stage" / "%v" / "seg-%05d.m4s")
    ts = encode(plan(("LD",)), tmp_path)
    assert value(ts, "-hls_segment_type") == "mpegts" and value(ts, "-hls_segment_filename").endswith("%v/seg-%05d.ts")


def test_an_hdr_source_is_tone_mapped_once_for_h264_and_kept_in_hevc(tmp_path):
    p = plan(("LD",), codecs=("h264", "hevc"), fmt="fmp4", info=media(transfer="smpte2084"))
    args = encode(p, tmp_path)
    g = graph(args)
    assert g[0] == f"[0:0]{SNAP},fps=30/1,split=2[sdr][hdr]"
    assert g[1].startswith("[sdr]zscale=tin=smpte2084") and g[1].endswith("split=1[s0]") and g[2] == "[hdr]split=1[s1]"
    h264, hevc = stream(args, "v", 0), stream(args, "v", 1)
    assert (h264["-color_trc"], h264["-color_primaries"]) == ("bt709", "bt709")
    assert (hevc["-color_trc"], hevc["-color_primaries"], hevc["-profile"]) == ("smpte2084", "bt2020", "main10")
    assert "[b1]format=yuv420p10le[v1]" in g and "[b0]format=yuv420p[v0]" in g
    assert "master-display" not in hevc["-x265-params"]  # the source states none: x265 invents none


def test_hdr10_static_metadata_reaches_x265_and_svt_av1_in_their_own_units(tmp_path):
    display = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)"
    info = media(transfer="smpte2084")
    info = dataclasses.replace(
        info, video=dataclasses.replace(info.video, mastering_display=display, content_light="1000,400")
    )
    args = encode(plan(("LD",), codecs=("h264", "hevc", "av1"), fmt="fmp4", info=info), tmp_path)
    h264, hevc, av1 = (stream(args, "v", i) for i in range(3))
    x265 = hevc["-x265-params"].split(":")
    assert x265[0] == "scenecut=0" and {"hdr10=1", f"master-display={display}", "max-cll=1000,400"} <= set(x265)
    svt = av1["-svtav1-params"].split(":")
    assert "content-light=1000,400" in svt and svt[0] == "scd=0"
    assert (
        "mastering-display=G(0.2650,0.6900)B(0.1500,0.0600)R(0.6800,0.3200)WP(0.3127,0.3290)L(1000.0000,0.0001)" in svt
    )
    assert "-x265-params" not in h264 and "-svtav1-params" not in h264


def test_rate_control_reaches_every_encoder(tmp_path):
    args = encode(plan(("LD", "HD")), tmp_path, rate_control="capped-crf", crf=26)
    for i in range(2):
        v = stream(args, "v", i)
        assert v["-crf"] == "26" and "-b" not in v and "-maxrate" in v


def test_for_stream_gives_each_option_its_stream_specifier():
    assert for_stream(["-c:v", "libx264", "-b:v", "1k", "-g", "60"], "v", 2) == [
        "-c:v:2",
        "libx264",
        "-b:v:2",
        "1k",
        "-g:v:2",
        "60",
    ]


def test_the_bundled_ffmpeg_is_found_without_starting_it(monkeypatch):
    """imageio-ffmpeg would run ``ffmpeg -version`` to prove its binary: an FFmpeg start-up per command."""
    monkeypatch.delenv("IMAGEIO_FFMPEG_EXE", raising=False)
    imageio_ffmpeg._utils._get_ffmpeg_exe.cache_clear()

    def no_process(*args, **kwargs):
        raise AssertionError(f"started {args[0]}")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    exe = Path(ffmpeg_exe())
    # the wheel's own binary (what imageio-ffmpeg's lookup tries first), an executable file
    assert exe.parent == Path(imageio_ffmpeg.__file__).parent / "binaries" and exe.name.startswith("ffmpeg-")
    assert exe.is_file() and os.access(exe, os.X_OK)


def test_the_bundled_ffmpeg_is_used_unless_one_is_configured(tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", "/from/imageio/ffmpeg")  # imageio-ffmpeg returns it unchecked
    assert ffmpeg_exe() == ffmpeg_exe(FFmpegConfig()) == "/from/imageio/ffmpeg"
    real = tmp_path / "ffmpeg"
    real.write_text("#!/bin/sh\n")
    assert ffmpeg_exe(FFmpegConfig(path=str(real))) == str(real)
    with pytest.raises(ConfigError) as caught:
        ffmpeg_exe(FFmpegConfig(path=str(tmp_path / "nope")))
    assert caught.value.message == (
        f"FFmpeg binary {tmp_path / 'nope'} was not found: fix the ffmpeg setting or unset it to use the bundled one."
    )
