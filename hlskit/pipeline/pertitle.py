"""Per-title ladder: spend bits where the picture needs them, measured with VMAF.

A bounded analysis of the source decides each definition's bit rate before the real encode:

1. a short sample is cut from the source (``CHUNKS`` chunks of ``CHUNK_SECONDS`` spread over it) and
   kept losslessly at the source's display size;
2. each definition of the fixed ladder is probe-encoded from that sample at two rates (the fixed
   rate and ``LOW_FRACTION`` of it) with the same encoder settings as the real encode, every
   definition from one decode per rate, and each probe is scored with VMAF against the sample;
3. quality grows about linearly with the logarithm of the rate over that span, so the two points
   give the lowest rate expected to stay within ``KNEE_VMAF`` points of the fixed rate's quality (or
   to reach the ``vmaf=N`` target when that is lower): never above the fixed ladder's rate and
   never below ``LOW_FRACTION`` of it, where the line is no longer measured;
4. a definition is dropped when it would not look better (by ``MIN_GAIN_VMAF``) than the one below.

Easy content (slides, animation) saturates early and gets fewer bits; hard content (sport, grain)
keeps the fixed rate. bench/quality.py measures both.
"""

from __future__ import annotations

import dataclasses
import math
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..domain.errors import InputError, JobError
from ..domain.ladder import Rung
from ..domain.media import MediaInfo
from ..engines.local import output_rate
from .quality import score

CHUNKS = 3
CHUNK_SECONDS = 1.5
LOW_FRACTION = 0.35
KNEE_VMAF = 1.0  # "the same quality": within one VMAF point of the fixed rate's
MIN_SAVING = 0.10  # lower a rate only when that saves at least this share: smaller savings are within
# the encoder's own rate-control noise and not worth the risk of a visible loss
MIN_GAIN_VMAF = 1.0  # a definition must beat the one below by this much to be kept
SUBSAMPLE = 3


@dataclass(frozen=True)
class RungChoice:
    definition: str
    fixed_kbps: int
    chosen_kbps: int
    vmaf_fixed: float  # measured on the sample at the fixed rate
    vmaf_low: float  # measured on the sample at LOW_FRACTION of it
    vmaf_predicted: float  # expected at the chosen rate
    kept: bool


def parse_target(option: str) -> float | None:
    """``per-title`` → None (the knee rule only); ``per-title:vmaf=93`` → 93.0."""
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


def _sample(ffmpeg: str, source: str, media: MediaInfo, start: float, length: float, into: Path) -> float:
    """The analysis sample: CHUNKS chunks spread over [start, start+length], lossless. Returns its seconds."""
    chunk = min(CHUNK_SECONDS, length / CHUNKS)
    starts = [start + (length - chunk) * (i + 0.5) / CHUNKS for i in range(CHUNKS)]
    rate = output_rate(media.video.frame_rate)
    w, h = media.video.display_width, media.video.display_height
    args = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-y"]
    for s in starts:
        args += ["-ss", f"{s:.3f}", "-t", f"{chunk:.3f}", "-i", source]
    parts = "".join(
        f"[{i}:v]fps={rate.numerator}/{rate.denominator},scale={w}:{h},setsar=1[c{i}];" for i in range(CHUNKS)
    )
    graph = parts + "".join(f"[c{i}]" for i in range(CHUNKS)) + f"concat=n={CHUNKS}:v=1:a=0,format=yuv420p[v]"
    args += ["-filter_complex", graph, "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", str(into)]
    _run(args, "cut the analysis sample")
    return chunk * CHUNKS


def _probe(ffmpeg: str, sample: Path, rungs: list[Rung], fraction: float, preset: str, into: Path) -> dict[str, Path]:
    """Encode every rung from one decode of the sample at ``fraction`` of its rate: name → file."""
    n = len(rungs)
    graph = (
        f"[0:v]split={n}"
        + "".join(f"[s{i}]" for i in range(n))
        + ";"
        + ";".join(f"[s{i}]scale={r.width}:{r.height}:flags=bicubic,setsar=1[v{i}]" for i, r in enumerate(rungs))
    )
    args = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-y", "-i", str(sample), "-filter_complex", graph]
    out = {}
    for i, r in enumerate(rungs):
        kbps = max(1, round(r.definition.video_kbps * fraction))
        path = into / f"{r.name}-{fraction:.2f}.mp4"
        args += [
            "-map",
            f"[v{i}]",
            "-c:v",
            "libx264",
            "-preset",
            preset,
            "-b:v",
            f"{kbps}k",
            "-maxrate",
            f"{int(kbps * 1.5)}k",
            "-bufsize",
            f"{kbps * 2}k",
            str(path),
        ]
        out[r.name] = path
    _run(args, "probe-encode the sample")
    return out


def _run(args: list[str], doing: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise JobError(
            f"the per-title analysis could not {doing} ({last}): use a fixed ladder (--ladder auto).",
            code="PerTitleFail",
        )


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
) -> tuple[list[Rung], list[RungChoice]]:
    """The per-title rungs (bit rates lowered, useless rungs dropped) and what was measured."""
    length = media.duration - start if length is None else length
    choices: list[RungChoice] = []
    with tempfile.TemporaryDirectory(prefix="hlskit-pertitle-") as tmp:
        work = Path(tmp)
        sample = work / "sample.mkv"
        seconds = _sample(ffmpeg, source, media, start, length, sample)
        high = _probe(ffmpeg, sample, rungs, 1.0, preset, work)
        low = _probe(ffmpeg, sample, rungs, LOW_FRACTION, preset, work)
        sample_media = dataclasses.replace(media, duration=seconds)
        best_below = -math.inf
        for r in rungs:
            v_hi = score(ffmpeg, high[r.name], str(sample), sample_media, subsample=SUBSAMPLE)["vmaf"]["mean"]
            v_lo = score(ffmpeg, low[r.name], str(sample), sample_media, subsample=SUBSAMPLE)["vmaf"]["mean"]
            fixed = r.definition.video_kbps
            goal = v_hi - KNEE_VMAF if target is None else min(target, v_hi - KNEE_VMAF)
            chosen, predicted = _rate_for(goal, fixed, v_hi, v_lo)
            kept = predicted >= best_below + MIN_GAIN_VMAF
            if kept:
                best_below = predicted
            choices.append(RungChoice(r.name, fixed, chosen, round(v_hi, 3), round(v_lo, 3), round(predicted, 3), kept))
    chosen_rungs = [
        dataclasses.replace(r, definition=dataclasses.replace(r.definition, video_kbps=c.chosen_kbps))
        for r, c in zip(rungs, choices)
        if c.kept
    ]
    return chosen_rungs or rungs[:1], choices


def _rate_for(goal: float, fixed: int, v_hi: float, v_lo: float) -> tuple[int, float]:
    """The rate where the line through (ln low, v_lo) and (ln fixed, v_hi) reaches ``goal``, clamped."""
    lo_rate = fixed * LOW_FRACTION
    slope = (v_hi - v_lo) / math.log(fixed / lo_rate)
    if slope <= 0.01:  # flat: more bits buy nothing measurable
        return max(1, round(lo_rate)), v_lo
    rate = math.exp(math.log(fixed) - (v_hi - goal) / slope)
    rate = min(fixed, max(lo_rate, rate))
    if rate > fixed * (1 - MIN_SAVING):
        return fixed, v_hi
    return max(1, round(rate)), v_hi - slope * math.log(fixed / rate)
