"""Bad or odd input to `hlskit package`: one sentence, a documented exit code, nothing half-done.

Every case asserts the contract of issue 11 (tests/reliability/helpers.assert_outcome): the
documented exit code (0 packaged, 1 a job failed, 2 bad input), exactly one "error:" line for a
failure, no traceback, nothing visible under --out unless a package was published, no live key of
a run that did not publish, and no process left running.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from hlskit.domain.errors import InputError
from hlskit.pipeline.probe import probe
from tests.conftest import HLSKIT, run_hlskit
from tests.reliability.helpers import EXIT_INPUT, EXIT_OK, assert_outcome, live_keys, visible
from tests.reliability.inputs import clip, make_source

pytestmark = pytest.mark.slow

# (kind, expected exit code, words the error or warning must contain)
SOURCES = [
    ("not-media", EXIT_INPUT, "not a readable media file"),
    ("empty", EXIT_INPUT, "is empty"),
    ("random-bytes", EXIT_INPUT, "not a readable media file"),
    ("truncated-half", EXIT_INPUT, "truncated"),
    ("truncated-tail", EXIT_INPUT, "truncated"),
    ("truncated-head", EXIT_INPUT, "truncated"),
    ("header-only", EXIT_INPUT, "truncated"),
    ("audio-only", EXIT_INPUT, "audio only"),
    ("png", EXIT_INPUT, "still image"),
    ("jpeg", EXIT_INPUT, "still image"),
    ("mjpeg-stream", EXIT_INPUT, "raw stream of pictures without timestamps"),  # was "a still image": loop it
    ("one-frame", EXIT_INPUT, "too short"),
    ("very-short", EXIT_INPUT, "too short"),
    ("directory", EXIT_INPUT, "is a folder"),
    ("missing", EXIT_INPUT, "does not exist"),
    ("tiny-16x16", EXIT_OK, "capped at the source's own"),  # a 16x16 picture needs a few kb/s
    ("odd-321x181", EXIT_OK, ""),
    ("10-bit", EXIT_OK, ""),
    ("444", EXIT_OK, ""),
    ("vfr", EXIT_OK, ""),
    ("rotated", EXIT_OK, ""),
    ("hdr-pq", EXIT_OK, "tone-mapped to SDR"),
    ("hdr-hlg", EXIT_OK, "tone-mapped to SDR"),
    ("corrupt-middle", EXIT_OK, "decode error"),
    ("mpeg-ts", EXIT_OK, ""),
    ("no-audio", EXIT_OK, ""),
    ("mkv-from-pipe", EXIT_OK, ""),  # its duration read from its packets
    ("audio-longer-mkv", EXIT_OK, ""),  # not truncated: its video's length is packaged
    ("audio-longer-mp4", EXIT_OK, ""),
    ("raw-h264", EXIT_INPUT, "raw video stream without timestamps"),
    ("cover-first-mkv", EXIT_OK, ""),  # the cover is not the title's video
    ("cover-first-mp4", EXIT_OK, ""),
    ("audio-with-cover", EXIT_INPUT, "audio only"),
    ("quoted-track-titles", EXIT_OK, ""),  # a title a playlist's NAME cannot carry is cleaned
    ("subtitle-with-arrow", EXIT_OK, ""),  # FFmpeg's WebVTT of it has "-->" in a cue's text
    ("spaces in name", EXIT_OK, ""),
    ("unicode-name", EXIT_OK, ""),
    ("leading-dash", EXIT_OK, ""),
]

# (id, extra arguments, expected exit code, words the error must contain); "{dir}" is the case folder.
OPTIONS = [
    ("segment-duration-0", ["--segment-duration", "0"], EXIT_INPUT, "from 1 to 60"),
    ("segment-duration-61", ["--segment-duration", "61"], EXIT_INPUT, "from 1 to 60"),
    ("segment-duration-negative", ["--segment-duration", "-1"], EXIT_INPUT, "from 1 to 60"),
    ("segment-duration-abc", ["--segment-duration", "abc"], EXIT_INPUT, "not a valid integer"),
    ("rotate-key-every-0", ["--rotate-key-every", "0"], EXIT_INPUT, "1 or more"),
    ("clear-lead-negative", ["--clear-lead", "-1"], EXIT_INPUT, "0 or more"),
    ("ladder-unknown-name", ["--ladder", "LD,XXL"], EXIT_INPUT, "unknown definition"),
    ("ladder-empty", ["--ladder", ","], EXIT_INPUT, "is empty"),
    ("ladder-folder", ["--ladder", "{dir}"], EXIT_INPUT, "is a folder"),
    ("ladder-folder-toml", ["--ladder", "{dir}/folder.toml"], EXIT_INPUT, "is a folder"),
    ("ladder-missing-file", ["--ladder", "{dir}/nope.toml"], EXIT_INPUT, "does not exist"),
    ("ladder-invalid-toml", ["--ladder", "{dir}/invalid.toml"], EXIT_INPUT, "not valid TOML"),
    ("ladder-unknown-key", ["--ladder", "{dir}/unknown-key.toml"], EXIT_INPUT, "unknown key"),
    ("ladder-zero-width", ["--ladder", "{dir}/zero-width.toml"], EXIT_INPUT, "width must be"),
    ("ladder-no-rungs", ["--ladder", "{dir}/no-rungs.toml"], EXIT_INPUT, "no [[definition]]"),
    ("clip-after-end", ["--clip", "10+1"], EXIT_INPUT, "choose a start inside"),
    ("clip-too-short", ["--clip", "0+0.05"], EXIT_INPUT, "too short"),
    ("clip-ends-after-end", ["--clip", "1+5"], EXIT_INPUT, "ends after the end"),
    ("clip-not-a-time", ["--clip", "abc"], EXIT_INPUT, "not a time"),
    ("clip-near-end", ["--clip", "1.8"], EXIT_INPUT, "too short"),
    # starts between two frames: the sprite's one tile once fell past the clip's end and FFmpeg failed
    ("clip-between-frames", ["--clip", "1.25+0.6"], EXIT_OK, ""),
    ("watermark-missing", ["--watermark", "{dir}/nope.png"], EXIT_INPUT, "does not exist"),
    ("watermark-not-png", ["--watermark", "{dir}/invalid.toml"], EXIT_INPUT, "not a PNG"),
    ("watermark-bad-position", ["--watermark", "{dir}/logo.png:Middle"], EXIT_INPUT, "position"),
    ("text-watermark-bad-field", ["--text-watermark", "Hi {user}"], EXIT_INPUT, "only {definition}"),
    ("text-watermark-format-spec", ["--text-watermark", "{definition:>99999999999}"], EXIT_INPUT, "only {definition}"),
    ("text-watermark-percent", ["--text-watermark", "100% \\ {definition}"], EXIT_OK, ""),  # drawtext failed on it
    ("out-is-a-file", ["--out", "{dir}/a-file"], EXIT_INPUT, "is a file"),
    ("out-under-a-file", ["--out", "{dir}/a-file/sub"], EXIT_INPUT, "which is a file"),
    ("key-url-not-http", ["--key-url", "ftp://keys"], EXIT_INPUT, "http(s) URL"),
    # the key URL goes into every EXT-X-KEY's quoted URI: refused before anything is encoded
    ("key-url-quote", ["--key-url", 'https://k.example.com/k"x'], EXIT_INPUT, "URI characters"),
    ("key-url-space", ["--key-url", "https://k.example.com/a b"], EXIT_INPUT, "URI characters"),
    ("key-url-line-break", ["--key-url", "/keys\n#EXT-X-ENDLIST"], EXIT_INPUT, "URI characters"),
    ("audio-name-quote", ["--audio", '{dir}/a-file:fr:Le "cut"'], EXIT_INPUT, "NAME cannot carry"),
    ("subtitles-name-line-break", ["--subtitles", "{dir}/a-file:fr:A\nB"], EXIT_INPUT, "NAME cannot carry"),
    # another video's subtitles (or offset times): was packaged as an empty track without a word
    ("subtitles-all-after-the-end", ["--subtitles", "{dir}/late.srt:fr"], EXIT_INPUT, "none of its 2 cues starts"),
    ("subtitles-some-after-the-end", ["--subtitles", "{dir}/some-late.srt:fr"], EXIT_OK, "cues start after the video"),
    ("content-id-slash", ["--content-id", "a/b"], EXIT_INPUT, "not valid"),
    ("notify-bad-ipv6", ["--notify", "https://[::1/hook"], EXIT_INPUT, "not a valid URL"),
    ("source-like-an-option", ["--bogus"], EXIT_INPUT, "no such option"),
]

SUBTITLE_FILES = {
    "late.srt": "1\n01:00:00,000 --> 01:00:01,000\nx\n\n2\n01:00:02,000 --> 01:00:03,000\ny\n",
    "some-late.srt": "1\n00:00:00,500 --> 00:00:01,000\na\n\n2\n00:00:10,000 --> 00:00:11,000\nb\n",
}
LADDERS = {
    "invalid.toml": "[[definition]\nname = 'x'\n",
    "unknown-key.toml": "[[definition]]\nname = 'x'\nwidth = 320\nvideo_kbps = 300\nheigth = 180\n",
    "zero-width.toml": "[[definition]]\nname = 'x'\nwidth = 0\nvideo_kbps = 300\n",
    "no-rungs.toml": "title = 'no rungs'\n",
}


@pytest.fixture(scope="module")
def base(tmp_path_factory, ffmpeg) -> Path:
    return clip(ffmpeg, tmp_path_factory.mktemp("base") / "base.mp4")


def _package(source: str, case: Path, *extra: str) -> tuple:
    out, home = case / "out", case / "home"
    out.mkdir(exist_ok=True)
    (out / "previous-package").mkdir()  # something already published must stay as it was
    args = ["package", "--out", str(out), "--segment-duration", "1", *extra, "--", source]
    done = run_hlskit(*args, env={"HLSKIT_HOME": str(home)}, timeout=120)
    (out / "previous-package").rmdir()
    return done, out, home


def _check(done, code: int, out: Path, home: Path, case: Path, words: str) -> None:
    assert_outcome(done, code, out, home, str(case))
    if code != EXIT_OK:
        assert words.lower() in done.stderr.lower(), done.stderr
        return
    [package] = visible(out)
    manifest = json.loads((out / package / "hlskit.json").read_text())
    assert live_keys(home) == {(manifest["content_id"], k["key_id"]) for k in manifest["keys"]}
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    if words:
        assert len([w for w in warnings if words in w]) == 1, done.stderr  # printed once
        assert any(words in w for w in manifest["warnings"]), manifest.get("warnings")
    else:
        assert manifest["warnings"] == [], manifest["warnings"]  # the manifest lists no warning


@pytest.mark.parametrize("kind,code,words", SOURCES, ids=[s[0] for s in SOURCES])
def test_source(kind, code, words, tmp_path, ffmpeg, base):
    source = make_source(kind, tmp_path, ffmpeg, base)
    done, out, home = _package(str(source), tmp_path)
    _check(done, code, out, home, tmp_path, words)


def test_a_complete_mkv_whose_audio_runs_on_lasts_as_long_as_its_video_and_a_cut_one_is_truncated(
    tmp_path, ffmpeg, base
):
    source = make_source("audio-longer-mkv", tmp_path, ffmpeg, base)
    assert probe(source).duration == pytest.approx(probe(base).duration, abs=0.05)  # the container says 3.5 s
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(source.read_bytes()[: source.stat().st_size * 6 // 10])
    with pytest.raises(InputError, match="the file is truncated"):
        probe(cut)


def test_an_unreadable_source_is_bad_input_with_a_read_fix(tmp_path, base):
    locked = tmp_path / "locked.mp4"
    locked.write_bytes(base.read_bytes())
    locked.chmod(0)
    # as root, permissions are bypassed: drop the capabilities that do that
    drop = "-dac_override,-dac_read_search"
    command = ["setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}", *HLSKIT, "probe", str(locked)]
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        command = [*HLSKIT, "probe", str(locked)]
    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, "HLSKIT_HOME": str(tmp_path / "h")}
    )
    assert done.returncode == EXIT_INPUT, done.stderr  # was 1 and "choose a folder you can write to"
    assert (
        done.stderr
        == f"error: {locked} cannot be read (permission denied): make it readable, or give a copy you can read.\n"
    )


def test_an_empty_source_path_is_named_so(tmp_path):
    done, out, _ = _package("", tmp_path)
    assert done.returncode == EXIT_INPUT  # was "error:  is a folder, not a video file" (the current folder)
    assert done.stderr == "error: no source given (an empty path): give the path or URL of a video file.\n"


def test_a_header_stating_too_long_a_duration_says_a_remux_fixes_it(tmp_path, ffmpeg, base):
    source = tmp_path / "long-header.mkv"
    subprocess.run([ffmpeg, "-v", "error", "-i", str(base), "-c", "copy", str(source)], check=True)
    data = bytearray(source.read_bytes())
    at = data.index(b"\x44\x89\x88")  # Matroska's Segment Duration (EBML id 0x4489), an 8-byte float in ms
    data[at + 3 : at + 11] = struct.pack(">d", 10_000.0)
    source.write_bytes(bytes(data))
    with pytest.raises(InputError) as err:
        probe(source)
    assert "before its stated duration of 10.0 s: the file is truncated or its header is wrong" in err.value.message
    assert "remux it (ffmpeg -i IN -c copy OUT)" in err.value.message


@pytest.mark.parametrize("container", ["mkv", "mp4"])
def test_audio_running_on_past_the_video_is_not_packaged_past_it(container, tmp_path, ffmpeg, base):
    source = make_source(f"audio-longer-{container}", tmp_path, ffmpeg, base)
    video = probe(base).duration
    assert probe(source).video_end == pytest.approx(video, abs=0.05)
    done, out, _ = _package(str(source), tmp_path, "--no-encrypt")
    assert done.returncode == EXIT_OK, done.stderr
    [package] = visible(out)
    pcm = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(out / package / "LD" / "index.m3u8"), "-map", "0:a"]
        + ["-f", "s16le", "-ac", "1", "-ar", "8000", "-"],
        capture_output=True,
        check=True,
    ).stdout
    assert video - 0.1 < len(pcm) / 16000 < video + 0.1  # 3.5 s before: the last segment ran on past its EXTINF


def _audio_of(ffmpeg: str, playlist: Path) -> bytes:
    """The decoded audio of a media playlist: 8 kHz mono 16-bit samples."""
    return subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(playlist), "-map", "0:a", "-f", "s16le", "-ac", "1", "-ar", "8000", "-"],
        capture_output=True,
        check=True,
    ).stdout


@pytest.mark.parametrize("layout", [("--format", "fmp4"), ("--audio-renditions",)])
def test_audio_ending_before_the_video_runs_on_in_silence(layout, tmp_path, ffmpeg):
    source = tmp_path / "short-audio.mp4"
    subprocess.run(
        [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=4", "-f", "lavfi", "-i"]
        + ["sine=d=1.5", "-c:v", "libx264", "-c:a", "aac", str(source)],
        check=True,
    )
    done, out, _ = _package(str(source), tmp_path, "--no-encrypt", "--ladder", "LD", *layout)
    assert done.returncode == EXIT_OK, done.stderr  # before: fMP4 failed validation, a rendition was dropped
    [package] = visible(out)
    folder = "audio/und" if "--audio-renditions" in layout else "LD"
    pcm = _audio_of(ffmpeg, out / package / folder / "index.m3u8")
    assert 3.9 < len(pcm) / 16000 < 4.1  # the video's 4 s: 1.5 s of sound, then silence


def test_a_gap_in_the_source_s_audio_keeps_the_sound_after_it_in_place(tmp_path, ffmpeg):
    whole, gap = tmp_path / "whole.mp4", tmp_path / "gap.mkv"
    subprocess.run(
        [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=4", "-f", "lavfi", "-i"]
        + ["aevalsrc='if(gte(t,2),sin(2*PI*1000*t),0)':s=48000:d=4", "-c:v", "libx264", "-c:a", "aac", str(whole)],
        check=True,
    )
    # four AAC frames (85 ms) dropped at 0.4 s: a gap under aresample's default 100 ms threshold
    subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(whole), "-c", "copy", "-bsf:a", "noise=drop='between(n,20,23)'", str(gap)],
        check=True,
    )
    done, out, _ = _package(str(gap), tmp_path, "--no-encrypt", "--ladder", "LD")
    assert done.returncode == EXIT_OK, done.stderr
    [package] = visible(out)
    pcm = _audio_of(ffmpeg, out / package / "LD" / "index.m3u8")
    samples = [int.from_bytes(pcm[i : i + 2], "little", signed=True) for i in range(0, len(pcm), 2)]
    onset = next(i for i, v in enumerate(samples) if abs(v) > 3000) / 8000
    assert onset == pytest.approx(2.0, abs=0.03)  # before: 1.915 s, the rest of the title's sound early


@pytest.mark.parametrize(
    "name, make, fps",
    [
        # 30 fps whose timestamps jitter by up to 12 ms: the average, 30.337, repeated and dropped frames
        ("jitter.mp4", ["-vf", "setpts='N/30/TB+0.012*sin(N)/TB'", "-fps_mode", "passthrough", "-c:v", "libx264"], 30),
        # 10 fps with half a second of frames missing: the average, 8.33, slowed the rest down
        ("gap.mp4", ["-vf", "select='not(between(n,10,14))'", "-fps_mode", "passthrough", "-c:v", "libx264"], 10),
        # raw DV: its average rate reads 60000
        ("camcorder.dv", ["-vf", "scale=720:576,setsar=16/15,format=yuv420p", "-c:v", "dvvideo"], 25),
    ],
)
def test_the_frame_rate_is_the_stream_s_own_not_its_average(name, make, fps, tmp_path, ffmpeg):
    source = tmp_path / name
    subprocess.run(
        [ffmpeg, "-v", "error", "-f", "lavfi", "-i", f"testsrc2=s=320x180:r={fps}:d=3", *make, str(source)], check=True
    )
    assert probe(source).video.frame_rate == f"{fps}/1"


def test_an_embedded_subtitle_s_text_becomes_cue_text(tmp_path, ffmpeg, base):
    source = make_source("subtitle-with-arrow", tmp_path, ffmpeg, base)
    done, out, _ = _package(str(source), tmp_path, "--no-encrypt")
    assert done.returncode == EXIT_OK, done.stderr  # before: FFmpeg's "-->" in the text failed the run
    [package] = visible(out)
    text = "".join(vtt.read_text() for vtt in (out / package / "subtitles").glob("*/*.vtt"))
    # FFmpeg writes "<" and "&" as they are, where "<" would open a tag that hides the rest
    assert "left --&gt; right, 5 &lt; 6 &amp; <i>so</i>\n" in text, text


def _packaged_subtitles(tmp_path: Path, ffmpeg: str, base: Path, name: str, content: str, language: str = "eng"):
    """Package ``base`` with a Matroska subtitle track made from ``content`` (a file ``name``) tagged
    ``language``: the run and its --out."""
    subtitles = tmp_path / name
    subtitles.write_text(content)
    source = tmp_path / f"{subtitles.stem}-track.mkv"
    subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(base), "-i", str(subtitles), "-map", "0", "-map", "1", "-c", "copy"]
        + ["-metadata:s:s:0", f"language={language}", str(source)],
        check=True,
    )
    done, out, _ = _package(str(source), tmp_path, "--no-encrypt", "--ladder", "LD")
    assert done.returncode == EXIT_OK, done.stderr
    return done, out


def _cue_text(out: Path, language: str) -> str:
    """Every WebVTT segment of the one package in ``out``'s subtitle rendition ``language``, in order."""
    [package] = visible(out)
    return "".join(v.read_text() for v in sorted((out / package / "subtitles" / language).glob("*.vtt")))


def test_an_embedded_webvtt_track_keeps_its_escapes_settings_and_tags(tmp_path, ffmpeg, base):
    track = (
        "WEBVTT\n\n00:00:00.500 --> 00:00:01.500 line:0 align:start\nIf x &lt; y then <i>go</i>\n\n"
        "00:00:01.500 --> 00:00:02.000\n<v Bob>Tom &amp; Jerry</v>\n"
    )
    done, out = _packaged_subtitles(tmp_path, ffmpeg, base, "en.vtt", track)
    text = _cue_text(out, "en")
    # FFmpeg's WebVTT decode and encode wrote "If x < y", dropped the settings and the voice tag
    assert "00:00:00.500 --> 00:00:01.500 line:0 align:start\nIf x &lt; y then <i>go</i>\n" in text, text
    assert "<v Bob>Tom &amp; Jerry</v>" in text, text


def test_a_commentary_and_a_default_listed_second_get_the_right_default_and_autoselect(tmp_path, ffmpeg):
    source = tmp_path / "three-tracks.mkv"  # English commentary (flagged comment), English (default), French
    tones = [arg for f in (300, 500, 700) for arg in ("-f", "lavfi", "-i", f"sine=f={f}:d=2")]
    subprocess.run(
        [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=2", *tones]
        + ["-map", "0:v", "-map", "1:a", "-map", "2:a", "-map", "3:a", "-c:v", "libx264", "-c:a", "aac"]
        + ["-metadata:s:a:0", "language=eng", "-metadata:s:a:0", "title=Commentary", "-disposition:a:0", "comment"]
        + ["-metadata:s:a:1", "language=eng", "-disposition:a:1", "default"]
        + ["-metadata:s:a:2", "language=fre", "-disposition:a:2", "0", str(source)],
        check=True,
    )
    for extra in ([], ["--default-audio", "en"]):  # both picked the commentary or marked two English YES
        case = tmp_path / f"case{len(extra)}"
        case.mkdir()
        done, out, _ = _package(str(source), case, "--no-encrypt", "--ladder", "LD", *extra)
        assert done.returncode == EXIT_OK, done.stderr
        [package] = visible(out)
        master = (out / package / "master.m3u8").read_text()
        flags = re.findall(r'NAME="([^"]+)",DEFAULT=(\w+),AUTOSELECT=(\w+)', master)
        assert flags == [("Commentary", "NO", "NO"), ("English", "YES", "YES"), ("Français", "NO", "YES")], flags


def test_an_ass_track_s_hard_spaces_and_drawings_do_not_show_as_text(tmp_path, ffmpeg, base):
    track = (
        "[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\nFormat: Name, Fontname, Fontsize\nStyle: Default,Arial,20\n\n"
        "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
        "Dialogue: 0,0:00:00.20,0:00:00.90,Default,,0,0,0,,{\\k20}Ka\\hra\\hoke\n"
        "Dialogue: 0,0:00:01.00,0:00:01.50,Default,,0,0,0,,{\\p1}m 0 0 l 100 0 100 100 0 100{\\p0}\n"
        "Dialogue: 0,0:00:01.50,0:00:01.90,Default,,0,0,0,,{\\an8}Top\n"
    )
    done, out = _packaged_subtitles(tmp_path, ffmpeg, base, "signs.ass", track)
    text = _cue_text(out, "en")
    assert "Ka\u00a0ra\u00a0oke" in text and "Top" in text, text  # was "Ka\\hra\\hoke"
    assert "m 0 0 l" not in text and "\\h" not in text, text  # the drawing's commands were shown as words


def test_a_source_s_zero_length_cue_is_left_out_with_a_warning_not_the_whole_title(tmp_path, ffmpeg, base):
    track = "1\n00:00:00,500 --> 00:00:01,000\nkept\n\n2\n00:00:01,200 --> 00:00:01,200\ninstant\n"
    done, out = _packaged_subtitles(tmp_path, ffmpeg, base, "en.srt", track)
    # was exit 2: "the cue ends at 00:01.200, not after it starts"
    assert "1 cue(s) ending as they start left out (the first at 00:00:01.200)" in done.stderr, done.stderr
    text = _cue_text(out, "en")
    assert "kept" in text and "instant" not in text


def test_a_source_subtitle_stream_without_cues_is_left_out(tmp_path, ffmpeg, base):
    header = "[Script Info]\nScriptType: v4.00+\n\n[Events]\nFormat: Layer, Start, End, Style, Text\n"  # no event
    done, out = _packaged_subtitles(tmp_path, ffmpeg, base, "empty.ass", header, "jpn")
    assert "subtitle stream 0 of" in done.stderr and "holds no cue: left out" in done.stderr, done.stderr
    [package] = visible(out)
    assert "TYPE=SUBTITLES" not in (out / package / "master.m3u8").read_text()  # was an empty 日本語 rendition


def test_source_track_titles_become_names_a_playlist_can_carry(tmp_path, ffmpeg, base):
    source = make_source("quoted-track-titles", tmp_path, ffmpeg, base)
    done, out, _ = _package(str(source), tmp_path, "--no-encrypt")
    assert done.returncode == EXIT_OK, done.stderr  # before: a traceback after the whole encode
    [package] = visible(out)
    names = re.findall(r'NAME="([^"]*)"', (out / package / "master.m3u8").read_text())
    assert names == ["English", "Le 'Director' cut"], names  # double quotes single, the tab a space


@pytest.mark.parametrize("kind", ["cover-first-mkv", "cover-first-mp4"])
@pytest.mark.parametrize("ladder", ["auto", "source"])
def test_a_cover_picture_listed_first_is_not_taken_for_the_video(kind, ladder, tmp_path, ffmpeg, base):
    source = make_source(kind, tmp_path, ffmpeg, base)
    media = probe(source)
    assert (media.video.index, media.video.codec) == (1, "h264")  # stream 0 is the 600x600 picture
    if kind == "cover-first-mkv":  # and of two real videos, both default, the larger one
        preview = probe(make_source("preview-track-first", tmp_path, ffmpeg, base)).video
        assert (preview.index, preview.display_width) == (1, 320)
    assert media.duration == pytest.approx(probe(base).duration, abs=0.15)
    extra = ["--transmux"] if ladder == "source" else []  # the copy maps the stream; the encode filters it
    done, out, _ = _package(str(source), tmp_path, "--no-encrypt", *extra)
    assert done.returncode == EXIT_OK, done.stderr
    [package] = visible(out)
    master = (out / package / "master.m3u8").read_text()
    sizes = {tuple(map(int, r.split("x"))) for r in re.findall(r"RESOLUTION=(\d+x\d+)", master)}
    # the base clip is 320x180: the cover would give square renditions, upscaled to 600x600
    assert sizes and all(abs(w / h - 16 / 9) < 0.02 and w <= 320 for w, h in sizes), master


@pytest.mark.parametrize("case_id,extra,code,words", OPTIONS, ids=[o[0] for o in OPTIONS])
def test_option(case_id, extra, code, words, tmp_path, base, ffmpeg):
    for name, text in (LADDERS | SUBTITLE_FILES).items():
        (tmp_path / name).write_text(text)
    (tmp_path / "folder.toml").mkdir()
    (tmp_path / "a-file").write_text("x")
    make_source("png", tmp_path, ffmpeg, base).rename(tmp_path / "logo.png")
    args = [a.replace("{dir}", str(tmp_path)) for a in extra]
    if case_id == "source-like-an-option":
        done = run_hlskit("package", "--bogus", str(base), env={"HLSKIT_HOME": str(tmp_path / "home")})
        out, home = tmp_path / "out", tmp_path / "home"
    else:
        done, out, home = _package(str(base), tmp_path, *args)
    _check(done, code, out if "--out" not in args else out, home, tmp_path, words)
    if "--out" in args:
        target = Path(args[args.index("--out") + 1])
        assert not target.is_dir()


def _pgs(path: Path) -> Path:
    """A Blu-ray (PGS) subtitle stream of two 60x16 pictures, as a .sup file: bitmap subtitles,
    which FFmpeg cannot make from text."""

    def seg(pts: int, kind: int, data: bytes) -> bytes:
        return b"PG" + struct.pack(">IIBH", pts, 0, kind, len(data)) + data

    def window(pts: int, number: int, shown: bool) -> bytes:
        pcs = struct.pack(">HHBHBBBB", 320, 180, 0x10, number, 0x80 if shown else 0, 0, 0, int(shown))
        pcs += struct.pack(">HBBHH", 0, 0, 0, 100, 140) if shown else b""
        out = seg(pts, 0x16, pcs) + seg(pts, 0x17, struct.pack(">BBHHHH", 1, 0, 100, 140, 60, 16))
        if shown:
            rle = bytes([0x00, 0x80 | 60, 0x01, 0x00, 0x00]) * 16
            ods = struct.pack(">HBB", 0, 0, 0xC0) + (len(rle) + 4).to_bytes(3, "big") + struct.pack(">HH", 60, 16)
            out += seg(pts, 0x14, struct.pack(">BB", 0, 0) + bytes([1, 235, 128, 128, 255])) + seg(pts, 0x15, ods + rle)
        return out + seg(pts, 0x80, b"")

    path.write_bytes(
        window(45000, 0, True) + window(135000, 1, False) + window(180000, 2, True) + window(240000, 3, False)
    )
    return path


def test_a_picture_subtitle_stream_is_left_out_with_a_warning(tmp_path, ffmpeg, base):
    source = tmp_path / "pgs.mkv"
    subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(base), "-i", str(_pgs(tmp_path / "s.sup")), "-map", "0", "-map", "1"]
        + ["-c", "copy", "-metadata:s:s:0", "language=eng", str(source)],
        check=True,
    )
    done, out, _ = _package(str(source), tmp_path, "--no-encrypt", "--ladder", "LD")
    assert done.returncode == EXIT_OK, done.stderr
    # it vanished without a word: a viewer's English subtitles were simply missing
    assert "subtitle stream 0 (pgssub, eng) of" in done.stderr and "is pictures" in done.stderr, done.stderr
    [package] = visible(out)
    assert "TYPE=SUBTITLES" not in (out / package / "master.m3u8").read_text()
    manifest = json.loads((out / package / "hlskit.json").read_text())
    assert any("is pictures, which WebVTT cannot carry" in w for w in manifest["warnings"])
