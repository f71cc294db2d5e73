"""Validator rules for EXT-X-MEDIA (hlskit.hls.validate.renditions): a small hand-written master
and media set, clean, then broken one rule at a time; each break adds exactly its rule.

The video and audio segments here are placeholders (the media checks report them the same way
in every case); rules that need real media (CODECS of the audio group, bandwidth) are in
test_renditions_e2e.py with FFmpeg-made segments."""

from __future__ import annotations

from pathlib import Path

import pytest

from hlskit.hls.validate import validate
from hlskit.hls.vttsegments import segment_cues, subtitle_playlist
from hlskit.hls.webvtt import Cue
from hlskit.hls.write import Entry, media_playlist

DURATIONS = [2.0, 2.0, 2.0]
FAST = {"fetch_timeout": 2.0, "time_budget": 20.0}
MASTER = (
    "#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n"
    '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",LANGUAGE="en",NAME="English",DEFAULT=YES,AUTOSELECT=YES,'
    'CHANNELS="2",URI="audio/en/index.m3u8"\n'
    '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",LANGUAGE="fr",NAME="Français",DEFAULT=NO,AUTOSELECT=YES,'
    'CHANNELS="2",URI="audio/fr/index.m3u8"\n'
    '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en",NAME="English",DEFAULT=NO,AUTOSELECT=YES,'
    'URI="subtitles/en/index.m3u8"\n'
    '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en",NAME="English (forced)",DEFAULT=NO,'
    'AUTOSELECT=YES,FORCED=YES,URI="subtitles/en/index.m3u8"\n'
    '#EXT-X-STREAM-INF:BANDWIDTH=300000,AVERAGE-BANDWIDTH=200000,CODECS="avc1.42c00d,mp4a.40.2",'
    'RESOLUTION=320x180,FRAME-RATE=25.000,AUDIO="aud",SUBTITLES="subs"\n'
    "video/index.m3u8\n"
)


def _media(folder: Path, durations=DURATIONS, suffix=".ts") -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"index-{i:05d}{suffix}" for i in range(1, len(durations) + 1)]
    (folder / "index.m3u8").write_text(
        media_playlist([Entry(n, d) for n, d in zip(names, durations)], target_duration=2)
    )
    return names


@pytest.fixture
def package(tmp_path) -> Path:
    for part in ("video", "audio/en", "audio/fr"):
        for name in _media(tmp_path / part):
            (tmp_path / part / name).write_bytes(bytes(376))  # placeholder, the same in every case
    subs = tmp_path / "subtitles" / "en"
    names = _media(subs, suffix=".vtt")
    cues = [Cue(500, 2500, "hello"), Cue(4000, 5000, "bye")]
    for name, text in zip(names, segment_cues(cues, DURATIONS, mpegts=126000).texts):
        (subs / name).write_text(text)
    (subs / "index.m3u8").write_text(subtitle_playlist(DURATIONS, names))
    (tmp_path / "master.m3u8").write_text(MASTER)
    return tmp_path


def _rules(package: Path, master: str | None = None) -> set[str]:
    if master is not None:
        (package / "master.m3u8").write_text(master)
    return validate(str(package / "master.m3u8"), **FAST).rules()


RENDITION_RULES = {f"G{n}" for n in range(1, 14)}


def test_clean_set_has_no_rendition_finding(package):
    report = validate(str(package / "master.m3u8"), **FAST)
    assert not report.rules() & RENDITION_RULES, [(f.rule, f.message) for f in report.findings if f.rule[0] == "G"]
    names = sorted(r.name for r in report.renditions)
    assert names == ["audio/en/index.m3u8", "audio/fr/index.m3u8", "subtitles/en/index.m3u8"]  # read once each
    subs = next(r for r in report.renditions if r.name.startswith("subtitles"))
    assert subs.segments == 3 and subs.checked_segments == 3 and subs.duration == 6.0


@pytest.mark.parametrize(
    "rule, old, new",
    [
        ("G1", 'NAME="Français",', ""),
        (
            "G1",
            'TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en",NAME="English",',
            'TYPE=TEXT,GROUP-ID="subs",LANGUAGE="en",NAME="English",',
        ),
        ("G3", 'AUDIO="aud"', 'AUDIO="audio"'),
        ("G3", 'SUBTITLES="subs"', 'SUBTITLES="aud"'),
        ("G4", 'NAME="Français",DEFAULT=NO', 'NAME="Français",DEFAULT=YES'),
        ("G5", 'NAME="English",DEFAULT=YES,AUTOSELECT=YES', 'NAME="English",DEFAULT=YES,AUTOSELECT=NO'),
        ("G6", 'LANGUAGE="fr"', 'LANGUAGE="fr_FR"'),
        ("G6", 'LANGUAGE="fr"', 'LANGUAGE="fr",ASSOC-LANGUAGE="french-language-x"'),
        ("G7", 'NAME="Français"', 'NAME="English"'),
        ("G8", 'CHANNELS="2",URI="audio/fr', 'CHANNELS="2",FORCED=NO,URI="audio/fr'),
        (
            "G13",
            'NAME="English (forced)",DEFAULT=NO,AUTOSELECT=YES,FORCED=YES',
            'NAME="English (forced)",DEFAULT=NO,AUTOSELECT=YES',
        ),
        ("F5", "DEFAULT=YES,AUTOSELECT=YES", "DEFAULT=yes,AUTOSELECT=YES"),
    ],
)
def test_each_break_adds_exactly_its_rule(package, rule, old, new):
    clean = _rules(package)
    assert old in MASTER
    broken = _rules(package, MASTER.replace(old, new, 1))
    assert broken - clean == {rule}, (rule, broken - clean)


def test_subtitles_without_a_uri_and_captions_with_one(package):
    clean = _rules(package)
    no_uri = MASTER.replace(',URI="subtitles/en/index.m3u8"\n#EXT-X-MEDIA', "\n#EXT-X-MEDIA", 1)
    assert _rules(package, no_uri) - clean == {"G1"}
    captions = MASTER.replace(
        "#EXT-X-STREAM-INF",
        '#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="CC",INSTREAM-ID="CC1",URI="cc.m3u8"\n#EXT-X-STREAM-INF',
    )
    assert _rules(package, captions) - clean == {"G1"}
    fine = captions.replace(',URI="cc.m3u8"', "").replace('SUBTITLES="subs"', 'SUBTITLES="subs",CLOSED-CAPTIONS="cc"')
    assert _rules(package, fine) - clean == set()
    assert _rules(package, MASTER.replace('SUBTITLES="subs"', 'SUBTITLES="subs",CLOSED-CAPTIONS=NONE')) - clean == set()


def _rewrite_segments(package: Path, change) -> None:
    subs = package / "subtitles" / "en"
    for seg in sorted(subs.glob("*.vtt")):
        seg.write_text(change(seg.read_text()))


@pytest.mark.parametrize(
    "rule, change",
    [
        ("G9", lambda t: t.replace("WEBVTT\n", "1\n", 1)),  # not WebVTT (an SRT, say)
        ("G9", lambda t: t.replace("MPEGTS:126000", "MPEGTS:abc")),
        ("G9", lambda t: t.replace("LOCAL:00:00:00.000", "LOCAL:0")),
        ("G10", lambda t: t.replace("X-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n", "")),
    ],
)
def test_subtitle_segments(package, rule, change):
    clean = _rules(package)
    _rewrite_segments(package, change)
    assert _rules(package) - clean == {rule}


def test_segments_that_are_not_utf8_are_not_webvtt(package):
    clean = _rules(package)
    (package / "subtitles" / "en" / "index-00002.vtt").write_bytes(b"WEBVTT\n\n00:00.000 --> 00:01.000\n\xff\xfe\n")
    report = validate(str(package / "master.m3u8"), **FAST)
    assert report.rules() - clean == {"G9"}
    assert any("index-00002.vtt (not UTF-8 at byte" in f.message for f in report.findings)


def test_only_the_first_subtitle_segments_are_read(package):
    # a fourth segment without X-TIMESTAMP-MAP lies past the bounded read
    subs = package / "subtitles" / "en"
    names = _media(subs, DURATIONS + [2.0], suffix=".vtt")
    (subs / names[-1]).write_text("WEBVTT\n\n")
    report = validate(str(package / "master.m3u8"), **FAST)
    assert "G10" not in report.rules()
    assert next(r for r in report.renditions if r.name.startswith("subtitles")).checked_segments == 3


def test_rendition_durations_match_the_video(package):
    clean = _rules(package)
    _media(package / "audio" / "fr", DURATIONS[:1])  # 2 s of 6: more than one target duration short
    report = validate(str(package / "master.m3u8"), **FAST)
    assert report.rules() - clean == {"G11"}
    (g11,) = [f.message for f in report.findings if f.rule == "G11"]
    assert "audio/fr/index.m3u8 2.000 s" in g11 and "video's 6.000 s" in g11
    _media(package / "audio" / "fr", DURATIONS[:2])  # 2 s short: within one target duration
    assert "G11" not in _rules(package)


def test_unreadable_rendition_playlist(package):
    clean = _rules(package)
    (package / "audio" / "fr" / "index.m3u8").unlink()
    report = validate(str(package / "master.m3u8"), **FAST)
    assert report.rules() - clean == {"G2"}
    assert any("AUDIO rendition audio/fr/index.m3u8 cannot be read" in f.message for f in report.findings)
