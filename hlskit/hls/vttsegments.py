"""Subtitle renditions as HLS wants them: one WebVTT segment per video segment, each with an
X-TIMESTAMP-MAP, and the subtitle media playlist that lists them (RFC 8216 §3.5, §4.3.3).

A cue goes into every segment whose time range it overlaps, with its full timing: RFC 8216 §3.5
asks each WebVTT segment to hold every cue shown during its EXTINF span, and repeating a cue in
the segments it spans is what Apple's tools write and what hls.js expects (it keeps one copy of
cues that share an id, or timing and text). A segment with no cue is still written, a valid
WebVTT file with just its header, so the subtitle playlist covers the whole video and its
segments line up with the video's one for one.

**MPEGTS.** Cue times are presentation times from the start of the video; X-TIMESTAMP-MAP ties cue
time 00:00:00.000 (LOCAL) to media timestamp MPEGTS, in 90 kHz units (RFC 8216 §3.5; without it a
client must map cue time 0 to timestamp 0, which is wrong for FFmpeg's TS). The caller passes the
media timestamp of the video's first frame, which :func:`media_start` reads from the first video
segment:

- MPEG-2 TS: the lowest PTS among the first segment's video frames. FFmpeg's mpegts muxer starts
  DTS at 1.4 s (126000) unless told otherwise, so the first PTS is 126000 plus the B-frame reorder
  delay (133200 with two B-frames at 25 fps, measured).
- fMP4: the first video samples' earliest composition time, tfdt baseMediaDecodeTime plus
  composition offset, in 90 kHz: 7200 for FFmpeg's hls muxer with two B-frames at 25 fps. The
  edit list is not applied: hls.js and Chromium's MSE ignore it and place the samples at that
  composition time (measured: the video SourceBuffer starts at 0.08 s for FFmpeg's output, whose
  edit list would start it at 0), so cues follow the same clock. A player that applies the edit
  list (ISO/IEC 14496-12 §8.6.6) shows the cues one reorder delay late.

Why that value lines cues up in both: hls.js (src/utils/webvtt-parser.ts, 1.7) shows a cue at
LOCAL-relative cue time + (MPEGTS - initPTS) / 90000, where initPTS is the main media's first
timestamp it found (TS: the first fragment's lowest audio PTS / video DTS; fMP4: the first
fragment's tfdt, src/remux/passthrough-remuxer.ts), and it shows video frames at
(PTS - initPTS) / 90000 too, so a cue at cue time t lands on the frame at media time MPEGTS + t.
Checked in Chromium with stock hls.js for TS and fMP4 (tests/renditions/test_subtitle_timing_browser.py):
each cue starts within a frame of its source time after the first video frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from . import fmp4, ts
from .playlist import round_half_up
from .webvtt import Cue, WebVTT, write_webvtt
from .write import Entry, media_playlist

US = 1_000_000


@dataclass(frozen=True)
class SubtitleSegments:
    texts: list[str]  # one WebVTT file per video segment, in order
    cues_after_end: int  # cues that start when the video has ended: in no segment


def boundaries_ms(durations: Sequence[float]) -> list[tuple[int, int]]:
    """[start, end) of each segment in ms, from EXTINF durations summed in microseconds (no drift)."""
    out, at = [], 0
    for d in durations:
        if d <= 0:
            raise ValueError(f"segment duration {d} is not positive")
        end = at + round(d * US)
        out.append((at // 1000, end // 1000))
        at = end
    return out


def segment_cues(subtitles: WebVTT | Iterable[Cue], durations: Sequence[float], *, mpegts: int) -> SubtitleSegments:
    """One WebVTT file per video segment (``durations``: the video media playlist's EXTINF values);
    a cue is in every segment it overlaps. STYLE and REGION blocks of a :class:`WebVTT` go into
    every segment, since each is a file of its own. ``mpegts``: see the module docstring."""
    doc = subtitles if isinstance(subtitles, WebVTT) else WebVTT(cues=list(subtitles))
    cues = sorted(doc.cues, key=lambda c: (c.start, c.end))  # W3C WebVTT §4.1: start times in order
    spans = boundaries_ms(durations)
    texts = []
    for start, end in spans:
        inside = [c for c in cues if c.start < end and c.end > start]
        texts.append(write_webvtt(inside, mpegts=mpegts, styles=doc.styles, regions=doc.regions))
    total = spans[-1][1] if spans else 0
    return SubtitleSegments(texts, sum(1 for c in cues if c.start >= total))


def target_duration(durations: Sequence[float]) -> int:
    """EXT-X-TARGETDURATION: every EXTINF rounded to the nearest integer fits (RFC 8216 §4.3.3.1)."""
    return max(round_half_up(d) for d in durations)


def subtitle_playlist(durations: Sequence[float], names: Sequence[str], *, target: int | None = None) -> str:
    """The subtitle media playlist: ``names[i]`` (the .vtt segments, relative to the playlist) for
    ``durations[i]``. ``target``: the video's TARGETDURATION, so the renditions agree; it must
    hold every segment (RFC 8216 §4.3.3.1)."""
    if len(names) != len(durations) or not names:
        raise ValueError("one segment name per duration, and at least one")
    need = target_duration(durations)
    if target is not None and target < need:
        raise ValueError(f"TARGETDURATION {target} is below the longest rounded segment ({need})")
    return media_playlist([Entry(n, d) for n, d in zip(names, durations)], target_duration=target or need)


def media_start(first_segment: bytes, init: bytes | None = None) -> int:
    """The media timestamp (90 kHz) of the first frame of a video segment: the MPEGTS
    value for the subtitles' X-TIMESTAMP-MAP (module docstring). ``init``: the fMP4 initialization
    section; without it the segment is read as MPEG-2 TS. ValueError when it has no timestamp."""
    if init is not None:
        info = fmp4.read_init(init)
        track = info.video or info.audio
        if track is None:
            raise ValueError("the initialization section has no video or audio track")
        runs = fmp4.read_segment(first_segment, info, len(first_segment)).runs
        span = runs[track.track_id].presentation(0) if track.track_id in runs else None  # no edit list
        if span is None:
            raise ValueError("the segment has no sample of the track")
        return span[0] * 90000 // track.timescale % (1 << 33)
    program = ts.find_program(first_segment)
    if program is None:
        raise ValueError("no PAT/PMT: not an MPEG-2 TS segment")
    pid = program.video_pid if program.video_pid is not None else program.audio_pid
    if pid is None:
        raise ValueError("the program has no video or audio stream")
    ptses = ts.video_ptses(first_segment, pid)
    if not ptses:
        raise ValueError("no PES with a PTS")
    # PTS wrap at 2^33 within one segment: compare as offsets from the first
    return min(ptses, key=lambda p: (p - ptses[0] + (1 << 32)) % (1 << 33))
