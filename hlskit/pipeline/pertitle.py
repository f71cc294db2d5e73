"""Per-title ladder (v3): each definition's size and CRF chosen on the title's own rate-quality curves.

The fixed ladder's definitions keep their names (LD, SD, HD ... are the bandwidth tiers a viewer,
a job and ``--start-definition`` refer to); the size each one is encoded at may change to the
next lower or higher size of the ladder when that size reaches the definition's quality for fewer
bits, and is recorded in the manifest (the master's RESOLUTION is read from the media). The
analysis (three FFmpeg runs, hlskit.pipeline.pertitle_probe; the choice, pure, in
hlskit.pipeline.pertitle_hull):

1. a sample: ``chunks_for(length)`` chunks of one keyframe interval (``CHUNK_SECONDS``) spread
   over the title, kept losslessly at its display size; in the same run every definition is
   encoded from it as the fixed ladder encodes it (ABR at its rate), only for x264's "final
   ratefactor" R: "the final estimate of what RF would have produced the target bitrate if passed
   to a CRF encode" (akupenguin, x264 developer, doom9 forum, 2013), where the probes centre;
2. every size at CRF R + ``CRF_OFFSETS`` under its definition's VBV, same preset, profile, GOP;
3. every probe scored with VMAF against the sample in one run, scaled back to the display size
   (bicubic, as Netflix's VMAF guidance and ``hlskit quality`` do), on the same ~``SCORED_FRAMES``
   frames of the sample for every probe (a paired comparison);
4. pertitle_hull.choose_ladder: the anchor (fixed quality) read at each definition's rate, the
   cheapest size and CRF reaching it, the saturated top rung, the pruning.

Why capped CRF (v2, bench/results/quality.md): x264's ABR spends its bits unevenly and, on still
content, undershoots its target anyway; "the purpose of CRF + VBV is to stream with a maximum
bitrate, but to not waste bits where they aren't necessary" (J. Garrett-Glaser, x264-devel, Feb
2010). Why sizes (v3): a lower-resolution encode upscaled can beat a higher one at the same rate
and vice versa, depending on the content (Netflix, "Per-Title Encode Optimization", 2015: the
convex hull of the per-resolution curves); on the lecture slide 848x478 reaches LD's quality with
fewer bits than 640x360.

Measured choices behind the constants: the anchor is read at the definition's rate on the CRF
curve, not at R, because R from a short sample is unstable (1 chunk instead of 3 moved it by 4 on
the slide, 3.5 VMAF); the probes use the real encode's preset (ultrafast and superfast turn x264's
macroblock tree off, so CRF values do not carry across); chunks are one keyframe interval long, as
the real segments' GOPs (1 s chunks doubled the still slide's rate); the cap stays at the
definition's rate unless the expected rate is under a third of it (a cap of twice the expected
rate squeezed the slide's HD keyframes, -0.5 VMAF).
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

from ..domain.errors import InputError
from ..domain.ladder import Rung
from ..domain.media import MediaInfo
from ..engines.encode import output_rate
from .pertitle_hull import Choice, Fixed, Point, choose_ladder
from .pertitle_probe import cut_and_probe_fixed, probe_crf, vmaf

CHUNK_SECONDS = 2.0  # one keyframe interval of the real encode (hlskit.engines.encode.gop_seconds)
# CRF probes per size, around x264's ratefactor R of the fixed ABR encode of the sample: R-6 (about
# twice the bits, FFmpeg H.264 guide) brackets the fixed rate on still content, R+12 reaches the
# quality of the definitions below for the size above
CRF_OFFSETS = (-6, 0, 6, 12)
SCORED_FRAMES = 6  # VMAF on about this many frames of the sample per probe (paired, so few suffice)
DEFAULT_RATEFACTOR = 23.0  # x264's default CRF, when the log gives no ratefactor

RungChoice = Choice  # what one definition got and why (pertitle_hull.Choice)


def chunks_for(seconds: float) -> int:
    """Sample chunks for a title of ``seconds``: the analysis stays a small share of the package's encode."""
    return 1 if seconds < 120 else 2 if seconds < 300 else 3


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
    real encode's keyframe interval (each chunk is one); ``fixed_crf`` says the fixed ladder is
    capped CRF at that value (``--rate-control capped-crf``), not ABR. Temporary files only."""
    length = media.duration - start if length is None else length
    n = chunks_for(length)
    chunk = min(keyframe_seconds, length / n)
    starts = [start + (length - chunk) * (i + 0.5) / n for i in range(n)]
    frames = chunk * n * float(output_rate(media.video.frame_rate))
    every = max(2, int(frames // SCORED_FRAMES))
    with tempfile.TemporaryDirectory(prefix="hlskit-pertitle-") as tmp:
        work = Path(tmp)
        sample, fixed = cut_and_probe_fixed(ffmpeg, source, media, starts, chunk, rungs, preset, work, fixed_crf)
        crfs = {r.name: probe_crfs(fixed[r.name].ratefactor) for r in rungs}
        if len(rungs) > 1:  # no definition below the lowest one: its size needs no lowest-quality probe
            crfs[rungs[0].name] = crfs[rungs[0].name][:-1]
        probed = probe_crf(ffmpeg, sample, chunk * n, media, rungs, crfs, preset, chunk, work)
        paths = [p.path for p in probed.values()]
        scores = dict(zip(paths, vmaf(ffmpeg, sample, media, paths, every, work)))
    ladder = [
        Fixed(
            r.name,
            r.width,
            r.height,
            r.definition.video_kbps,
            tuple(Point(c, probed[(r.name, c)].kbps, scores[probed[(r.name, c)].path]) for c in crfs[r.name]),
            crf=fixed_crf,
            abr_kbps=fixed[r.name].kbps,
        )
        for r in rungs
    ]
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


def probe_crfs(ratefactor: float | None) -> list[int]:
    """The CRF values probed at one size: CRF_OFFSETS around the fixed encode's ratefactor, inside x264's 0-51."""
    base = round(DEFAULT_RATEFACTOR if ratefactor is None else ratefactor)
    base = min(51 - max(CRF_OFFSETS), max(-min(CRF_OFFSETS), base))
    return [base + d for d in CRF_OFFSETS]
