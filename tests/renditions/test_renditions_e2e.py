"""Renditions end to end with real FFmpeg: a source with two tagged audio streams and subtitle
streams; a master assembled by hand from FFmpeg-made pieces (a video-only TS variant, two
audio-only TS renditions, a WebVTT rendition cut by hlskit's segmenter from the source's own
subtitle stream); independent FFmpeg builds list it by language and `hlskit validate` passes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from hlskit.domain.errors import InputError, JobError
from hlskit.domain.names import segment_name
from hlskit.engines.subtitles import SourceTrack, extract_webvtt, source_tracks
from hlskit.hls.validate import validate
from hlskit.hls.vttsegments import media_start
from hlskit.hls.webvtt import Cue, parse_webvtt
from tests.conftest import run_hlskit
from tests.renditions.packages import VIDEO, build_package, hls, make_source
from tests.tiers import debian_ffmpeg

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def source(ffmpeg, tmp_path_factory) -> Path:
    return make_source(ffmpeg, tmp_path_factory.mktemp("source"))


@pytest.fixture(scope="module")
def package(ffmpeg, source, tmp_path_factory) -> Path:
    return build_package(ffmpeg, source, tmp_path_factory.mktemp("package"))


def test_source_tracks_report_languages_titles_and_dispositions(source):
    for path in (source, source.with_suffix(".mkv")):
        tracks = source_tracks(path)
        audio = [(t.index, t.language, t.title, t.channels) for t in tracks if t.kind == "audio"]
        assert audio == [(0, "eng", None, 1), (1, "fre", "Version française", 1)], path
        en, fr = [t for t in tracks if t.kind == "subtitle"]
        assert (en.language, en.forced, en.hearing_impaired, en.text) == ("eng", False, False, True)
        assert (fr.language, fr.forced, fr.hearing_impaired, fr.text) == ("fre", True, True, True)
    subrip, ass = (t.codec for t in source_tracks(source.with_suffix(".mkv")) if t.kind == "subtitle")
    assert subrip in ("subrip", "srt") and ass in ("ass", "ssa")  # FFmpeg's decoder names


@pytest.mark.parametrize("name", ["src.mp4", "src.mkv"])  # mov_text; subrip and ASS
def test_subtitle_streams_become_webvtt(ffmpeg, source, name):
    path = source.parent / name
    en, fr = [t for t in source_tracks(path) if t.kind == "subtitle"]
    assert parse_webvtt(extract_webvtt(ffmpeg, path, en), name).cues == [
        Cue(500, 1500, "<i>Hello</i> & bye"),
        Cue(1800, 2600, "Across"),
    ]
    assert parse_webvtt(extract_webvtt(ffmpeg, path, fr), name).cues == [Cue(3000, 4000, "Bonjour")]


def test_picture_subtitles_and_ffmpeg_failures_are_one_sentence(ffmpeg, source):
    pgs = SourceTrack("subtitle", 0, "hdmv_pgs_subtitle", "eng", None, False, False, False, False, text=False)
    with pytest.raises(InputError, match="holds pictures, not text, so it cannot become WebVTT: give the subtitles"):
        extract_webvtt(ffmpeg, source, pgs)
    missing = SourceTrack("subtitle", 7, "subrip", None, None, False, False, False, False)
    with pytest.raises(JobError) as err:
        extract_webvtt(ffmpeg, source, missing)
    assert err.value.message.startswith("FFmpeg could not convert subtitle stream 0:s:7 (subrip) of ")
    assert "\n" not in err.value.message


def test_media_start_is_the_first_presented_frame(ffmpeg, source, tmp_path):
    # TS: FFmpeg's muxer starts DTS at 1.4 s; two B-frames delay the first PTS by two frames (80 ms)
    ts = hls(ffmpeg, source, tmp_path / "ts", ["-map", "0:v"], VIDEO)
    assert media_start((ts.parent / "index-00001.ts").read_bytes()) == 126000 + 2 * 3600
    audio = hls(ffmpeg, source, tmp_path / "a", ["-map", "0:a:0"], ["-c:a", "aac"])
    assert media_start((audio.parent / "index-00001.ts").read_bytes()) == 126000
    # fMP4: tfdt 0, the first frame composed two frames later (its edit list is not applied: as hls.js)
    fm = hls(ffmpeg, source, tmp_path / "fmp4", ["-map", "0:v"], VIDEO, fmt="fmp4")
    init = (fm.parent / "init.mp4").read_bytes()
    assert media_start((fm.parent / "index-00001.m4s").read_bytes(), init) == 2 * 3600
    with pytest.raises(ValueError):
        media_start(b"not a segment")


def test_debian_ffmpeg_lists_the_renditions_by_language(package):
    ffmpeg = debian_ffmpeg()
    assert Path(ffmpeg).exists(), "Debian's ffmpeg is missing: apt-get install ffmpeg (make test does it)"
    proc = subprocess.run([ffmpeg, "-hide_banner", "-v", "verbose", "-i", str(package)], capture_output=True, text=True)
    streams = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip().startswith("Stream #")]
    assert any("(en): Audio: aac" in s for s in streams) and any("(fr): Audio: aac" in s for s in streams), streams
    assert any("Video: h264" in s for s in streams)
    assert "comment         : Version française" in proc.stderr and "comment         : English" in proc.stderr
    # FFmpeg 5.1's hls demuxer reads EXT-X-MEDIA subtitles but cannot play them, and says so
    assert "Can't support the subtitle(uri: subtitles/en/index.m3u8)" in proc.stderr


def test_newer_ffmpeg_lists_the_subtitle_renditions_too(ffmpeg, package):
    proc = subprocess.run([ffmpeg, "-hide_banner", "-i", str(package)], capture_output=True, text=True)
    streams = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip().startswith("Stream #")]
    if not any("Subtitle" in s for s in streams):
        pytest.skip("this FFmpeg's hls demuxer has no subtitle support")
    assert sum("(en): Subtitle: webvtt" in s for s in streams) == 1
    assert sum("(fr): Subtitle: webvtt" in s for s in streams) == 1


def test_segments_carry_cues_and_the_video_start(package):
    folder = package.parent / "subtitles" / "en"
    first, second, third = (parse_webvtt((folder / segment_name(i, ".vtt")).read_text(), "s") for i in range(3))
    assert first.timestamp_map == (133200, 0)  # the first video frame's PTS
    assert [c.text for c in first.cues] == ["<i>Hello</i> & bye", "Across"]
    assert [c.text for c in second.cues] == ["Across"]  # 1.8-2.6 s spans the boundary at 2 s
    assert third.cues == []
    forced = (package.parent / "subtitles" / "fr-forced" / "index.m3u8").read_text()
    assert "#EXT-X-TARGETDURATION:2" in forced


def test_hlskit_validate_passes(package):
    proc = run_hlskit("validate", str(package), "--json")
    report = json.loads(proc.stdout)
    assert proc.returncode == 0, [(f["rule"], f["message"]) for f in report["findings"]]
    assert [f["rule"] for f in report["findings"]] == ["AHS-9.9"]  # one video rung: advice only
    assert {r["name"] for r in report["renditions"]} == {
        "audio/en/index.m3u8",
        "audio/fr/index.m3u8",
        "subtitles/en/index.m3u8",
        "subtitles/fr-forced/index.m3u8",
    }
    assert {r["codecs"] for r in report["renditions"] if r["name"].startswith("audio")} == {"mp4a.40.2"}
    text = package.read_text()
    assert 'LANGUAGE="fr",NAME="Version française",DEFAULT=NO,AUTOSELECT=YES,CHANNELS="1"' in text
    assert 'NAME="Français",DEFAULT=NO,AUTOSELECT=YES,FORCED=YES,CHARACTERISTICS="public.accessibility.' in text


def test_real_media_faults(package, tmp_path):
    copy = tmp_path / "pkg"
    shutil.copytree(package.parent, copy)
    master = copy / "master.m3u8"
    text = master.read_text()
    master.write_text(text.replace(',mp4a.40.2"', '"'))  # CODECS without the audio group's codec
    assert validate(str(master)).rules("MUST") == {"G12"}
    bandwidth = int(text.split("BANDWIDTH=")[1].split(",")[0])
    video_only = bandwidth - 80_000  # what BANDWIDTH would be without the audio rendition
    master.write_text(text.replace(f"BANDWIDTH={bandwidth},", f"BANDWIDTH={video_only},", 1))
    assert "B1" in validate(str(master)).rules("MUST")  # the audio rendition counts toward the peak
    master.write_text(text)
    fr = copy / "audio" / "fr" / "index.m3u8"
    lines = fr.read_text().splitlines()
    cut = [i for i, ln in enumerate(lines) if ln.startswith("#EXTINF")][1]
    fr.write_text("\n".join(lines[:cut] + ["#EXT-X-ENDLIST"]) + "\n")  # 2 s of audio for 6 s of video
    assert validate(str(master)).rules("MUST") == {"G11"}
