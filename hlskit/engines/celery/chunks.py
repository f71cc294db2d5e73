"""Cut a title into chunks of whole segments, and the FFmpeg command of each piece of work.

A video chunk is a run of frames on the output frame grid (frame n shows at ``first + n/rate``
in the source). Chunk k starts with the first frame at or after ``k × chunk_seconds`` of the title;
its FFmpeg decodes only that range (``-ss`` before ``-i`` seeks, then decodes from the previous
keyframe and drops the frames before the target: frame-accurate) and encodes every definition of
the ladder from that one decode, with :func:`hlskit.engines.encode.build_encode` as the local
engine does. Edges are half a frame wide, so rounding never drops or repeats a frame:

- ``-ss`` is the chunk's first frame time rounded down to the millisecond (FFmpeg's ``-ss``
  takes milliseconds here), so that frame is the first one kept and lands on slot 0 of the fps filter;
- ``-t`` stops half a frame after the chunk's last frame.

Timestamps continue across chunks: every chunk's output is shifted (``-output_ts_offset``) to
where its first frame falls in the title, plus :data:`TIMELINE_START` seconds for every output
(chunks and audio renditions alike). That common start keeps every decode timestamp positive,
so FFmpeg never shifts one output by its own encoder delay (B-frames: 80 ms at 25 fps with x264;
AAC priming: 21 ms); each output's presentation times are then the source's own, and an audio
rendition encoded by another process lines up with the picture to the sample. fMP4 chunks use
``movflags=+frag_discont`` so that each fragment's tfdt (ISO/IEC 14496-12 §8.8.12) carries that
time, instead of an edit list that starts every chunk at zero, and ``+negative_cts_offsets``
(trun version 1, as CMAF does) so that a definition's first frame is composed at its tfdt: the
presentation time is then the same whether a player applies the init section's edit list or,
like hls.js, ignores it; every chunk's init section is then byte for byte the same.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ...domain.errors import InputError
from ...domain.plan import Clip, PackagePlan
from ...domain.tracks import AudioRendition
from ..encode import build_encode, output_rate
from ..thumbnails import Layout, sprite_args

TIMELINE_START = 10  # seconds added to every output's timestamps: above any encoder delay down to ~0.5 fps
OUT = "@hlskit-out@"  # stands for the attempt's own folder in a task's FFmpeg arguments (tasks.py)
SPRITE_ROW = "row.png"  # one row of the sprite, lossless until the rows are stacked and made JPEG


@dataclass(frozen=True)
class Span:
    """One video chunk: frames [first, first + frames) of the output grid (frames None: to the end)."""

    index: int
    first: int  # output frame number of its first frame, from the title's first
    frames: int | None
    seek: float  # -ss, seconds into the source (milliseconds, rounded down)
    duration: float | None  # -t, seconds from seek; None: to the end of the source
    offset: float  # -output_ts_offset: where its first frame falls on the package's timeline
    start: float  # seconds into the title of its first frame
    length: float  # seconds it lasts (the last one: up to the end of the title)


def chunk_seconds(asked: int, segment: int) -> int:
    """``asked`` seconds rounded to whole segments (at least one): chunks end on segment boundaries."""
    if isinstance(asked, bool) or not isinstance(asked, int) or asked < 1:
        raise InputError(f"--chunk-seconds must be a whole number of seconds, 1 or more, got {asked!r}.")
    return max(1, round(asked / segment)) * segment


def _floor_ms(value: Fraction) -> float:
    return math.floor(value * 1000) / 1000


def title_length(plan: PackagePlan) -> float:
    """Seconds of the source the package covers: the clip's, else the source's from the clip's start."""
    assert plan.media is not None
    seek = plan.clip.seek if plan.clip else 0.0
    if plan.clip and plan.clip.duration:
        return min(plan.clip.duration, plan.media.duration - seek)
    return plan.media.duration - seek


def cut(plan: PackagePlan, seconds: int, video_start: Fraction = Fraction(0)) -> list[Span]:
    """The video chunks of ``plan``: ``seconds`` long (whole segments), the last one longer rather
    than shorter than a segment. ``video_start``: when the source's first video frame is, after
    the container's start (its frames are at ``video_start + n/rate``)."""
    assert plan.media is not None
    rate = output_rate(plan.media.video.frame_rate)
    clip_seek = Fraction(str(plan.clip.seek)) if plan.clip else Fraction(0)
    length = title_length(plan)
    count = max(1, math.ceil(length / seconds - 1e-9))
    if count > 1 and length - (count - 1) * seconds < plan.segment_duration:
        count -= 1  # a last piece shorter than a segment joins the chunk before it
    first_frame = max(0, math.ceil((clip_seek - video_start) * rate - Fraction(1, 1000)))
    starts = [first_frame + math.ceil(k * seconds * rate - Fraction(1, 1000)) for k in range(count)]
    end = (clip_seek + Fraction(str(plan.clip.duration))) if plan.clip and plan.clip.duration else None
    spans = []
    for k, n in enumerate(starts):
        when = video_start + Fraction(n) / rate  # the chunk's first frame, in source time
        seek = _floor_ms(when)
        last = k == count - 1
        frames = None if last else starts[k + 1] - n
        if frames is not None:
            duration: float | None = float((frames - Fraction(1, 2)) / rate + (when - Fraction(str(seek))))
        else:
            duration = float(end - Fraction(str(seek))) if end is not None else None
        start = float(Fraction(n - first_frame) / rate)
        spans.append(
            Span(
                k,
                n - first_frame,
                frames,
                seek,
                duration,
                TIMELINE_START + start,
                start,
                float(frames / rate) if frames is not None else length - start,
            )
        )
    return spans


def _extra(plan: PackagePlan, offset: float) -> list[str]:
    extra = ["-output_ts_offset", f"{offset:.6f}"]
    if plan.format == "fmp4":  # the fragment's tfdt from its own timestamps (see the module docstring)
        extra += ["-hls_segment_options", "movflags=+frag_discont+negative_cts_offsets"]
    return extra


def _with_output_options(args: list[str], extra: list[str]) -> list[str]:
    """``extra`` output options before the output, which build_encode always puts last."""
    return [*args[:-1], *extra, args[-1]]


def chunk_args(
    plan: PackagePlan, span: Span, ffmpeg: str, preset: str, textdir: Path, rate_control: str, crf: int
) -> list[list[str]]:
    """The FFmpeg commands of one chunk: every definition in one process first, then each definition
    alone (run only when the shared process fails, so one bad definition fails by itself). Output
    folders are ``OUT/<definition>/``."""
    piece = dataclasses.replace(plan, clip=Clip(span.seek, span.duration))
    commands = []
    for rungs in [plan.rungs, *([r] for r in plan.rungs)] if len(plan.rungs) > 1 else [plan.rungs]:
        encode = build_encode(
            piece, rungs, ffmpeg, preset, Path(OUT), textdir, rate_control=rate_control, crf=crf, create=False, audio=[]
        )
        commands.append(_with_output_options(encode.args, _extra(plan, span.offset)))
    return commands


def audio_args(
    plan: PackagePlan, rendition: AudioRendition, first: Span, ffmpeg: str, preset: str, textdir: Path
) -> list[str]:
    """The FFmpeg command of one audio rendition, the whole title from the first chunk's first
    frame (so sound and picture start together), into ``OUT/<its folder>/``."""
    end = (plan.clip.seek + plan.clip.duration) if plan.clip and plan.clip.duration else None
    clip = Clip(first.seek, None if end is None else end - first.seek)
    # No -ss 0: FFmpeg's seek to 0 drops an AAC source's first frame (its priming, marked by the edit list).
    piece = dataclasses.replace(plan, clip=None if clip == Clip(0.0) else clip)
    encode = build_encode(piece, [], ffmpeg, preset, Path(OUT), textdir, create=False, audio=[rendition])
    return _with_output_options(encode.args, _extra(plan, TIMELINE_START))


def sprite_rows(plan: PackagePlan, layout: Layout, ffmpeg: str) -> list[list[str]]:
    """One FFmpeg command per row of the seek-bar sprite, each writing ``OUT/<SPRITE_ROW>``: the
    row's stretch of the title, its tiles side by side. A row decodes only its own stretch, so a
    long title's sprite takes a row's time, not the title's (the local engine decodes it all in
    one process); the follower stacks the rows into the sprite (assemble.py)."""
    seek = plan.clip.seek if plan.clip else 0.0
    length = title_length(plan)
    span = layout.columns * layout.interval  # seconds of title per row
    commands = []
    for row in range(layout.rows):
        start = row * span
        tiles = min(layout.columns, layout.tiles - row * layout.columns)
        piece = dataclasses.replace(plan, clip=Clip(seek + start, min(span, length - start)))
        strip = dataclasses.replace(layout, tiles=tiles, rows=1)  # the columns stay: a short last row is padded
        commands.append(sprite_args(ffmpeg, piece, strip, Path(OUT) / SPRITE_ROW))
    return commands
