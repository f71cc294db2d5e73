"""The WebVTT segmenter: one segment per video segment, cues repeated across boundaries, an
X-TIMESTAMP-MAP in each, and the subtitle media playlist."""

from __future__ import annotations

import pytest

from hlskit.hls.playlist import MediaPlaylist, parse
from hlskit.hls.vttsegments import boundaries_ms, segment_cues, subtitle_playlist, target_duration
from hlskit.hls.webvtt import Cue, WebVTT, parse_webvtt

DURATIONS = [2.0, 2.0, 1.52]  # the video playlist's EXTINF values


def _cues(text: str) -> list[tuple[int, int, str]]:
    return [(c.start, c.end, c.text) for c in parse_webvtt(text, "seg.vtt").cues]


def test_cues_land_in_every_segment_they_overlap():
    cues = [
        Cue(2500, 3000, "second only"),
        Cue(500, 1500, "first only"),
        Cue(1800, 4200, "spans all three"),  # repeated with its full timing
        Cue(2000, 2100, "starts on a boundary"),  # [2.000, 4.000) is segment 1 only
        Cue(5600, 7000, "after the end"),
    ]
    out = segment_cues(cues, DURATIONS, mpegts=126000)
    assert len(out.texts) == 3 and out.cues_after_end == 1
    assert _cues(out.texts[0]) == [(500, 1500, "first only"), (1800, 4200, "spans all three")]
    assert _cues(out.texts[1]) == [
        (1800, 4200, "spans all three"),
        (2000, 2100, "starts on a boundary"),
        (2500, 3000, "second only"),
    ]  # sorted by start (W3C WebVTT §4.1)
    assert _cues(out.texts[2]) == [(1800, 4200, "spans all three")]
    for text in out.texts:
        assert text.startswith("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n")
        assert parse_webvtt(text, "seg.vtt").timestamp_map == (126000, 0)


def test_segments_without_cues_are_still_valid_webvtt():
    out = segment_cues([Cue(100, 200, "early")], [2.0, 2.0, 2.0], mpegts=0)
    assert out.texts[1] == out.texts[2] == "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n"
    assert parse_webvtt(out.texts[2], "empty.vtt").cues == []


def test_styles_regions_settings_and_ids_go_into_each_segment():
    doc = WebVTT(
        cues=[Cue(0, 3000, "<c.loud>Hi</c>", identifier="c1", settings="region:top line:0")],
        styles=["::cue(.loud) { color: red }"],
        regions=["id:top width:40%"],
    )
    for text in segment_cues(doc, [2.0, 2.0], mpegts=900000).texts:
        again = parse_webvtt(text, "s.vtt")
        assert again.cues == doc.cues and again.styles == doc.styles and again.regions == doc.regions


def test_boundaries_do_not_drift():
    spans = boundaries_ms([2.002] * 1000 + [0.5])  # 29.97 fps GOPs: summed in microseconds
    assert spans[999] == (1_999_998, 2_002_000) and spans[-1] == (2_002_000, 2_002_500)
    with pytest.raises(ValueError):
        boundaries_ms([2.0, 0.0])
    with pytest.raises(ValueError):
        segment_cues([], [2.0], mpegts=1 << 33)  # PTS are 33 bits


def test_subtitle_playlist():
    names = [f"index-{i:05d}.vtt" for i in range(1, 4)]
    text = subtitle_playlist(DURATIONS, names)
    pl = parse(text, "subtitles/en/index.m3u8")
    assert isinstance(pl, MediaPlaylist) and not pl.problems
    assert pl.target_duration == 2 and pl.playlist_type == "VOD" and pl.endlist
    assert [s.raw_uri for s in pl.segments] == names and [s.duration for s in pl.segments] == DURATIONS
    assert parse(subtitle_playlist(DURATIONS, names, target=4), "x.m3u8").target_duration == 4  # the video's
    assert target_duration([2.0, 2.5, 1.0]) == 3  # rounded half up (RFC 8216 §4.3.3.1)
    with pytest.raises(ValueError, match="below the longest"):
        subtitle_playlist([2.6], ["a.vtt"], target=2)
    with pytest.raises(ValueError):
        subtitle_playlist(DURATIONS, names[:2])
