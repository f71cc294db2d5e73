"""Per-title ladder: the fixed ladder's quality for fewer bits, measured with VMAF.

Each definition keeps the fixed ladder's size. Where the analysis expects capped CRF to reach the
fixed ladder's quality for fewer bits, the rung gets that CRF and a lowered cap (``Rung.crf``;
the local engine encodes ``-crf`` under the rung's VBV, peak 1.5x and buffer 2x its rate);
elsewhere it keeps the fixed ladder's ABR encode unchanged. The analysis (three FFmpeg runs,
hlskit.pipeline.pertitle_probe):

1. a sample: ``CHUNKS`` chunks of one keyframe interval (``CHUNK_SECONDS``) spread over the
   source, kept losslessly at its display size; in the same run every definition is encoded from
   it exactly as the fixed ladder encodes it (ABR at its rate, same preset, VBV, profile, GOP), for
   x264's "final ratefactor" R: the CRF expected to spend what that ABR encode spends;
2. every definition at CRF round(R) and round(R) + ``CRF_STEP``, same settings and cap;
3. both probes of every definition scored with VMAF against the sample in one run;
4. VMAF at CRF round(R) stands for the fixed ladder's quality; VMAF and the log of the rate are
   interpolated linearly in CRF between the two probes (never extrapolated) for the highest
   whole CRF within ``MARGIN_VMAF`` of it (or reaching ``vmaf=N`` when lower). The rung keeps the
   fixed ABR encode when even CRF round(R) falls short or the expected saving is under
   ``MIN_SAVING``; else its cap is ``CAP_HEADROOM`` times the expected rate, never above the fixed
   ladder's rate;
5. a definition is dropped when it would not look better (by ``MIN_GAIN_VMAF``) than the one below.

Why (measurements in bench/results/quality.md):

- The previous design lowered ABR targets and found no saving: x264's ABR already undershoots on
  easy content (267 kb/s for LD's 400 on the lecture slide) and spends its bits unevenly over
  time — at ratefactor 12.6 it scores *lower* VMAF (61.4) than CRF 16 with 218 kb/s (62.4). So
  the saving is in the rate control, not the target. x264's developers say as much: ABR is the
  worst of its modes, and "the purpose of CRF + VBV is to stream with a maximum bitrate, but to
  not waste bits where they aren't necessary" (J. Garrett-Glaser, x264-devel, Feb 2010). Capped
  CRF is the simple form of per-title encoding (Netflix, "Per-Title Encode Optimization", 2015,
  picks each title's points on its own rate-quality curve; J. Ozer, Streaming Learning Center).
- The reference is found, not assumed: x264's "final ratefactor" is "the final estimate of what
  RF would have produced the target bitrate if passed to a CRF encode" (akupenguin, x264
  developer, doom9 forum, 2013), so CRF round(R) is the fixed ladder's rate spent at constant
  quality. The ABR probe's own VMAF is not used: on a few seconds ABR has not settled (it scored
  57 where the whole title's ABR encode scores 61.4), while CRF probes on the sample match the
  whole title within about half a point. +6 CRF is about half the bits (FFmpeg H.264 guide), a
  span over which VMAF is close to linear in CRF. Limitation, measured: on still content x264's
  ABR keeps converging on its target over a long title (the slide's LD: 306 kb/s over 20 s, 355
  over 90 s), so the fixed ladder's quality rises with the title's length and this 6 s estimate
  does not: the worst loss was 0.55 VMAF at 20 s and 0.95 at 90 s.
- Chunks are one keyframe interval long, each starting on a keyframe as the real segments do:
  on still content the keyframes carry most of the bits, and 1 s chunks doubled the sample's rate.
  The sample's length is fixed (``CHUNKS`` chunks): ABR's ratefactor drifts with it (two chunks
  instead of three raised it by 1-1.6 on the slide), and the calibration above holds for three.
- The cap stays at the fixed ladder's rate unless the expected rate is under a third of it: a
  cap of twice the expected rate squeezed the slide's HD keyframes (-0.5 VMAF, measured).
- Quality is VMAF (vmaf_v0.6.1) with each probe scaled back to the source's display size with
  bicubic interpolation, as Netflix's VMAF guidance says and as ``hlskit quality`` measures the
  package: the low definitions are judged as they are watched (upscaled), where extra bits buy
  the least. Every probe is scored on the same sampled frames (a paired comparison), so few
  frames suffice (``VMAF_EVERY``).
- Cost: three FFmpeg runs whatever the ladder, probes at each definition's own size, the
  reference decoded once for all VMAF scores, only scored frames scaled. The probes use the real
  encode's preset: a CRF value means different bits and quality under another preset (ultrafast
  and superfast turn x264's macroblock tree off, which decides how still content spends its bits),
  so a faster probe would need a per-content offset that nothing here could measure. The analysis
  therefore encodes about 3 x 6 s per definition: a fixed cost, near a 20 s title's whole encode,
  12-25% of a 90 s title's (bench/results/quality.md).
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..domain.errors import InputError
from ..domain.ladder import Rung
from ..domain.media import MediaInfo
from .pertitle_probe import cut_and_probe_fixed, probe_crf, vmaf

CHUNKS = 3
CHUNK_SECONDS = 2.0  # one keyframe interval of the real encode (hlskit.engines.local.gop_seconds)
CRF_STEP = 6  # the two CRF probes: the fixed encode's ratefactor, and this much above it (about half the bits)
MARGIN_VMAF = 0.5  # aim this far under the fixed ladder's quality: the aim is "within 1 point"
MIN_SAVING = 0.05  # a CRF encode must be expected to save at least this share of the fixed probe's bits
# the rung's rate (VBV: peak 1.5x, buffer 2x) over the expected mean rate; 2.0 squeezed the keyframes
# of the lecture slide's HD (CRF 15: VMAF 95.55 under a 1405 kb/s cap, 96.04 under 1800)
CAP_HEADROOM = 3.0
MIN_GAIN_VMAF = 1.0  # a definition must beat the one below by this much to be kept
VMAF_EVERY = 20  # VMAF on every 20th frame of the sample (3 per chunk): within 0.3 of every 10th
DEFAULT_RATEFACTOR = 23.0  # x264's default CRF, when the log gives no ratefactor


@dataclass(frozen=True)
class RungChoice:
    definition: str
    fixed_kbps: int  # the fixed ladder's rate for this definition
    chosen_kbps: int  # the rung's rate now: its VBV cap (capped CRF) or ABR target
    crf: int | None  # the chosen CRF; None keeps the fixed ladder's ABR encode
    fixed_ratefactor: float | None  # x264's final ratefactor of the fixed encode of the sample
    vmaf_fixed: float  # the fixed ladder's quality: measured on the sample at that ratefactor
    vmaf_predicted: float  # expected at the choice on the sample
    kbps_fixed_probe: float  # measured on the sample, fixed ladder's encode
    kbps_predicted: float  # expected on the sample at the choice
    probes: tuple[dict, ...]  # the CRF probes: {"crf", "kbps", "vmaf"}, measured on the sample
    kept: bool


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
) -> tuple[list[Rung], list[RungChoice]]:
    """The per-title rungs (CRF and cap where that saves bits, useless rungs dropped) and what was measured.

    ``keyframe_seconds`` is the real encode's keyframe interval (each chunk is one); ``fixed_crf``
    says the fixed ladder is capped CRF at that value (``--rate-control capped-crf``), not ABR."""
    length = media.duration - start if length is None else length
    chunk = min(keyframe_seconds, length / CHUNKS)
    starts = [start + (length - chunk) * (i + 0.5) / CHUNKS for i in range(CHUNKS)]
    with tempfile.TemporaryDirectory(prefix="hlskit-pertitle-") as tmp:
        work = Path(tmp)
        sample, fixed = cut_and_probe_fixed(ffmpeg, source, media, starts, chunk, rungs, preset, work, fixed_crf)
        crfs = {r.name: _probe_crfs(fixed[r.name].ratefactor) for r in rungs}
        probed = probe_crf(ffmpeg, sample, chunk * CHUNKS, media, rungs, crfs, preset, chunk, work)
        paths = [p.path for p in probed.values()]
        scores = dict(zip(paths, vmaf(ffmpeg, sample, media, paths, VMAF_EVERY, work)))
    choices: list[RungChoice] = []
    best_below = -math.inf
    for r in rungs:
        f = fixed[r.name]
        points = [(c, probed[(r.name, c)].kbps, scores[probed[(r.name, c)].path]) for c in crfs[r.name]]
        v_fixed = points[0][2]  # the CRF probe at the fixed encode's ratefactor stands for its quality
        goal = v_fixed - MARGIN_VMAF if target is None else min(target, v_fixed - MARGIN_VMAF)
        crf, kbps, predicted = _crf_for(goal, points, f.kbps, v_fixed)
        kept = predicted >= best_below + MIN_GAIN_VMAF
        best_below = max(best_below, predicted) if kept else best_below
        fixed_kbps = r.definition.video_kbps
        cap = fixed_kbps if crf is None else min(fixed_kbps, max(1, math.ceil(kbps * CAP_HEADROOM)))
        choices.append(
            RungChoice(
                r.name,
                fixed_kbps,
                cap,
                crf,
                f.ratefactor,
                round(v_fixed, 3),
                round(predicted, 3),
                round(f.kbps, 1),
                round(kbps, 1),
                tuple({"crf": c, "kbps": round(k, 1), "vmaf": round(v, 3)} for c, k, v in points),
                kept,
            )
        )
    chosen = [
        dataclasses.replace(r, crf=c.crf, definition=dataclasses.replace(r.definition, video_kbps=c.chosen_kbps))
        for r, c in zip(rungs, choices)
        if c.kept
    ]
    return chosen or rungs[:1], choices


def _probe_crfs(ratefactor: float | None) -> list[int]:
    """The CRF values to probe: the fixed encode's ratefactor and CRF_STEP above it, inside x264's 0-51."""
    base = min(51 - CRF_STEP, max(0, round(DEFAULT_RATEFACTOR if ratefactor is None else ratefactor)))
    return [base, base + CRF_STEP]


def _crf_for(
    goal: float, points: list[tuple[int, float, float]], fixed_kbps: float, fixed_vmaf: float
) -> tuple[int | None, float, float]:
    """(CRF, expected kb/s, expected VMAF) reaching ``goal``, or (None, the fixed probe's figures) to keep ABR.

    ``points`` are (crf, kbps, vmaf) of the CRF probes, lowest CRF first: VMAF and log-rate are
    interpolated linearly in CRF between them and never extrapolated."""
    keep = (None, fixed_kbps, fixed_vmaf)
    (c_lo, k_lo, v_lo), (c_hi, k_hi, v_hi) = points[0], points[-1]
    if v_lo < goal:
        return keep  # even the lower CRF loses too much: the fixed encode stays
    if v_hi >= goal or c_hi == c_lo:
        crf, kbps, predicted = c_hi, k_hi, v_hi
    else:
        # the highest whole CRF whose interpolated VMAF still reaches the goal
        crf = c_lo + math.floor((v_lo - goal) / (v_lo - v_hi) * (c_hi - c_lo))
        t = (crf - c_lo) / (c_hi - c_lo)
        kbps = math.exp(math.log(k_lo) + t * math.log(k_hi / k_lo))
        predicted = v_lo + t * (v_hi - v_lo)
    if kbps > fixed_kbps * (1 - MIN_SAVING):
        return keep
    return crf, kbps, predicted
