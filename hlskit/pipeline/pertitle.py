"""Per-title ladder (v3): each definition's size and CRF chosen on the title's own rate-quality curves.

The fixed ladder's definitions keep their names (LD, SD, HD ... are the bandwidth tiers a viewer,
a job and ``--start-definition`` refer to); the size each one is encoded at may change to the
next lower or higher size of the ladder when that size reaches the definition's quality for fewer
bits, and is recorded in the manifest (the master's RESOLUTION is read from the media). The
analysis (FFmpeg runs in hlskit.pipeline.pertitle_probe; where to probe, pure, in
pertitle_search; the choice, pure, in pertitle_hull):

1. a *warm sample*: ``sample_layout`` chunks spread over the title, each a lead of x264's
   lookahead and ``LEAD_EXTRA`` frames (it sets the rate control as the title's frames before a
   keyframe do) and a measured part of one keyframe interval (about ``SAMPLE_SHARE`` of the title
   in all, at most ``MAX_SAMPLE_SECONDS``), kept losslessly at the display size;
2. *stage 1, by rates*: every size at CRF ``START_CRF`` (from the same decode), then where its
   definition's rate is expected, until the probes bracket it or reach the CRF floor;
3. the useful probes scored with VMAF against the sample in one run, scaled back to the display
   size (bicubic, as Netflix's VMAF guidance and ``hlskit quality`` do), on the same
   ~``SCORED_PER_CHUNK`` frames of each chunk for every probe (a paired comparison);
4. *stage 2, by VMAF*: each size probed around where it is expected to reach a goal it could win
   for fewer bits (its own definition's, the one below's), scored likewise; a definition that
   took the next size up near its own cap probed again at that size under that cap;
5. pertitle_hull.choose_ladder: the anchor (fixed quality) read at each definition's rate, the
   cheapest size and CRF reaching it, the saturated top rung, the pruning.

Why capped CRF (v2, bench/results/quality-v2.md): x264's ABR spends its bits unevenly and, on
still content, undershoots its target anyway; "the purpose of CRF + VBV is to stream with a
maximum bitrate, but to not waste bits where they aren't necessary" (J. Garrett-Glaser,
x264-devel, Feb 2010). Why sizes (v3): a lower-resolution encode upscaled can beat a higher one at
the same rate and vice versa, depending on the content (Netflix, "Per-Title Encode Optimization",
2015: the convex hull of the per-resolution curves); on the lecture slide 848x478 reaches LD's
quality with fewer bits than 640x360.

Measured choices behind the constants (on bench/quality.py's contents while building v3): a sample
whose keyframe is the encode's first frame came out 3-7 VMAF worse than the same frames inside the
title at high CRF on the still slide (x264 sets a keyframe's quantiser from the P-frames before
it); with probes stopping short of the goals, that is why the sizes chosen by the first v3 run
(bench/results/quality.md) overshot LD's and SD's quality by 6 and 12 VMAF. An 8-frame lead left
a 1 s part's keyframe 40% smaller than the title's at CRF 14, a 20-frame lead matched the title
within 0.5 VMAF and 4% of rate. The probes use the real encode's preset: superfast with x264's
macroblock tree forced back on was 1.6x faster but moved VMAF at a given CRF by up to 5 (13 on
the grain sample). The cap stays at the definition's rate unless the expected rate is under a
third of it (a cap of twice the expected rate squeezed the slide's HD keyframes, -0.5 VMAF).
"""

from __future__ import annotations

import dataclasses
import tempfile
from fractions import Fraction
from pathlib import Path

from ..domain.errors import InputError
from ..domain.ladder import Rung
from ..domain.media import MediaInfo
from ..engines.encode import output_rate
from ..engines.seekable import copied, has_index, remux_to_mov
from .pertitle_hull import Choice, Fixed, Point, choose_ladder
from .pertitle_probe import Layout, Probe, cut, probe_crf, vmaf
from .pertitle_search import START_CRF, Rated, anchor_crfs, goal_crfs, up_checks, worth_scoring

CHUNK_SECONDS = 2.0  # one keyframe interval of the real encode (hlskit.engines.encode.gop_seconds)
# The sample's measured video: about this share of the title, at most MAX_SAMPLE_SECONDS, in whole
# keyframe intervals (one at least) spread over the title: the analysis then costs about the same
# share of the package's encode whatever the title's length. Whole intervals because quality and
# rate drift along a GOP: on a grainy 720p title at CRF 41, frames 30-59 after each keyframe scored
# 5.3 VMAF lower and were 6% larger than frames 1-29, which a part of the first half never sees
SAMPLE_SHARE = 0.04
MAX_SAMPLE_SECONDS = 8.0
# x264's rc-lookahead per preset (x264 --fullhelp): a measured part's keyframe takes its quantiser
# from the mean of the P-frames before it (decaying by 0.95 a frame), whose own quantisers depend
# on the frames they look ahead to; a lead of the lookahead and LEAD_EXTRA frames more makes that
# history the title's (the module's doc: measured on the still slide)
LOOKAHEAD = {"ultrafast": 0, "superfast": 0, "veryfast": 10, "faster": 20, "fast": 30, "medium": 40}
LEAD_EXTRA = 10
SCORED_PER_CHUNK = 4  # VMAF on about this many frames of each chunk per probe (paired, so few suffice)
ANCHOR_ROUNDS = 3  # stage 1's encode rounds after the first (pertitle_search): most titles need one or two
GOAL_ROUNDS = 3  # stage 2's rounds, each only where a goal lies beyond every probe or between two far apart
UP_ROUNDS = 2  # rounds probing a borrowed size again under the definition's own cap (pertitle_search.up_checks)

RungChoice = Choice  # what one definition got and why (pertitle_hull.Choice)


def sample_layout(
    seconds: float, fps: Fraction, keyframe_seconds: float = CHUNK_SECONDS, preset: str = "veryfast"
) -> Layout:
    """The sample for a title of ``seconds``: how many chunks, lead and measured frames each."""
    gop = max(1, round(float(fps) * keyframe_seconds))
    total = min(MAX_SAMPLE_SECONDS, seconds * SAMPLE_SHARE)
    chunks = max(1, round(total / keyframe_seconds))
    available = int(seconds * float(fps)) // chunks  # a short title: what each chunk can have
    lead = min(LOOKAHEAD.get(preset, 60) + LEAD_EXTRA, max(0, available - gop))
    return Layout(fps, gop, lead, max(1, min(gop, available - lead)), chunks)


def chunk_starts(start: float, seconds: float, layout: Layout) -> list[float]:
    """Where each chunk's measured part starts in the source: spread over the title, the lead before it."""
    lead, part = layout.lead / layout.fps, layout.measured / layout.fps
    room = max(0.0, seconds - float(lead + part))
    return [start + float(lead) + room * (k + 0.5) / layout.chunks for k in range(layout.chunks)]


def parse_target(option: str) -> float | None:
    """``per-title`` → None (the fixed ladder's quality); ``per-title:vmaf=93`` → 93.0."""
    _, _, rest = option.partition(":")
    if not rest:
        return None
    name, _, value = rest.partition("=")
    try:
        target = float(value)
    except ValueError:
        target = -1.0
    if name.strip() != "vmaf" or not 20 <= target <= 100:
        raise InputError(
            f"--ladder {option!r} is not understood: write per-title or per-title:vmaf=N with N from 20 to 100.",
            code="InvalidParameter.Ladder",
        )
    return target


def choose(
    ffmpeg: str,
    source: str,
    media: MediaInfo,
    rungs: list[Rung],
    *,
    preset: str,
    target: float | None = None,
    start: float = 0.0,
    length: float | None = None,
    keyframe_seconds: float = CHUNK_SECONDS,
    fixed_crf: int | None = None,
) -> tuple[list[Rung], list[Choice]]:
    """The per-title rungs (size, CRF and cap chosen on the hull; useless rungs dropped) and what was measured.

    ``rungs`` is the fixed ladder: its sizes are the candidate sizes. ``keyframe_seconds`` is the
    real encode's keyframe interval; ``fixed_crf`` says the fixed ladder is capped CRF at that value
    (``--rate-control capped-crf``), not ABR. Temporary files only."""
    length = media.duration - start if length is None else length
    layout = sample_layout(length, output_rate(media.video.frame_rate), keyframe_seconds, preset)
    rates = [r.definition.video_kbps for r in rungs]
    with tempfile.TemporaryDirectory(prefix="hlskit-pertitle-") as tmp:
        work = Path(tmp)
        first = {r.name: [START_CRF if fixed_crf is None else fixed_crf] for r in rungs}
        starts = chunk_starts(start, length, layout)
        if not has_index(media):  # the chunks start inside the title: -ss must land on their frames
            remux_to_mov(ffmpeg, source, media, work / "source.mov", audio=False)
            source, media = str(work / "source.mov"), copied(media)
        sample, probed = cut(ffmpeg, source, media, starts, layout, rungs, first, preset, work)
        for _ in range(ANCHOR_ROUNDS):  # stage 1: each size's anchor, by rates alone
            rated = [[Rated(c, p.kbps) for (n, c), p in probed.items() if n == r.name] for r in rungs]
            more = dict(zip((r.name for r in rungs), anchor_crfs(rates, rated, fixed_crf)))
            if not any(more.values()):
                break
            probed |= probe_crf(ffmpeg, sample, layout, rungs, more, preset, work)
        frames = layout.scored(SCORED_PER_CHUNK)
        worth = {
            (r.name, c)
            for j, r in enumerate(rungs)
            for c in worth_scoring(rates[j], [Rated(c, p.kbps) for (n, c), p in probed.items() if n == r.name], j == 0)
        }
        probed = {k: p for k, p in probed.items() if k in worth}
        scores = dict(zip(probed, vmaf(ffmpeg, sample, media, [p.path for p in probed.values()], frames, work)))
        ladder = _ladder(rungs, probed, scores, fixed_crf)

        def measure(probing: list[Rung], crfs: dict[str, list[int]]) -> list[Fixed]:
            """Probe ``probing`` at ``crfs`` and score those probes: the ladder with them."""
            extra = probe_crf(ffmpeg, sample, layout, probing, crfs, preset, work)
            scores.update(zip(extra, vmaf(ffmpeg, sample, media, [p.path for p in extra.values()], frames, work)))
            probed.update(extra)
            return _ladder(rungs, probed, scores, fixed_crf)

        for _ in range(GOAL_ROUNDS):  # stage 2: around the goals, by VMAF
            more = dict(zip((r.name for r in rungs), goal_crfs(ladder, target)))
            if not any(more.values()):
                break
            ladder = measure(rungs, more)
        for _ in range(UP_ROUNDS):  # a size borrowed near the definition's cap, probed again under that cap
            checks = up_checks(ladder, choose_ladder(ladder, target))
            if not checks:
                break
            up = [_up_rung(rungs[i], rungs[i + 1]) for i in checks]
            ladder = measure(up, dict(zip((r.name for r in up), checks.values())))
    choices = choose_ladder(ladder, target)
    chosen = [
        dataclasses.replace(
            r,
            width=c.width,
            height=c.height,
            crf=c.crf,
            definition=dataclasses.replace(r.definition, video_kbps=c.chosen_kbps),
        )
        for r, c in zip(rungs, choices)
        if c.kept
    ]
    return chosen or rungs[:1], choices


def _up_rung(rung: Rung, above: Rung) -> Rung:
    """``rung`` at the size of the definition above it, under its own cap; its probes are named
    ``<name>+up`` (a definition's name has no +)."""
    definition = dataclasses.replace(rung.definition, name=f"{rung.definition.name}+up")
    return dataclasses.replace(rung, width=above.width, height=above.height, definition=definition)


def _ladder(
    rungs: list[Rung], probed: dict[tuple[str, int], Probe], scores: dict[tuple[str, int], float], fixed_crf: int | None
) -> list[Fixed]:
    """The fixed ladder with each size's measured (CRF, kb/s, VMAF) points, for pertitle_hull."""

    def points(name: str) -> tuple[Point, ...]:
        return tuple(Point(c, p.kbps, scores[(n, c)]) for (n, c), p in sorted(probed.items()) if n == name)

    return [
        Fixed(
            r.name,
            r.width,
            r.height,
            r.definition.video_kbps,
            points(r.name),
            crf=fixed_crf,
            up=points(f"{r.name}+up"),
        )
        for r in rungs
    ]
