"""Where to probe: each size's CRF values, placed first by rates, then by VMAF (pure functions).

An encode's rate is known as soon as it is written; its VMAF costs far more (libvmaf scores a
720p frame in about the time x264 veryfast encodes four). So the analysis works in two stages:

1. *Anchors, by rate alone*: every size starts at ``START_CRF`` (or at the capped-CRF fixed
   ladder's CRF); then each size is probed where its definition's rate is expected, until the
   probes bracket that rate (the fixed ABR encode spends it) or reach ``FLOOR_CRF`` spending
   less (still content: the fixed encode cannot spend its rate either, and quality has
   saturated). Rates follow CRF log-linearly between probes; beyond them x264's rate roughly
   halves every ``HALVING_CRF`` steps (FFmpeg's H.264 guide) until two probes give the slope.
2. *Goals, by VMAF*: those probes are scored, which gives each definition's goal (the fixed
   encode's quality, pipeline.pertitle_hull). Then each candidate size of a definition (its
   own, the next higher) is probed on both sides of the CRF expected to reach the goal —
   unless the probes already bracket it closely, or the rate expected there saves too little
   for that size to be chosen: a size that cannot win is not probed.
3. *Caps*: a definition that took the next size up near its own cap is probed again at that size
   under its own cap (``up_checks``): the next definition's probes ran under a looser one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .pertitle_hull import FLOOR_CRF, MIN_SAVING, TRUSTED_GAP, UP_SIZE_HEADROOM, Choice, Fixed, Point, anchors

START_CRF = 26  # every size's first probe, mid-way in the useful range (x264's default CRF is 23)
MAX_CRF = 51  # x264's 8-bit range
HALVING_CRF = 6.0  # CRF steps that halve the rate, until two probes measure it
NEAR = 2  # a probe within this many CRF steps of a wanted one serves instead (stage 1)
SNAP = 4  # a rate expected within this many steps of the floor is probed at the floor, which settles it
CLOSE = 0.05  # a probe spending within this share of the definition's rate is the anchor
# a rate is bracketed by probes at most this many CRF steps apart (stage 1): the anchor's VMAF is read
# between them, and VMAF bends (hlskit's sample at 848x478: probes at CRF 30 and 35 read 66.3 at SD's
# rate, one more at 33 gave 67.4, the title's fixed SD scored 68.0: a goal 1.7 low)
BRACKET = 3
UP_CHECK_STEPS = 2  # a borrowed size is probed again at its CRF and this many steps below (a fallback)
# VMAF falls faster as the CRF rises (lecture slide at 1280x720: -0.4 per step at CRF 14-26, -1.4
# at 26-33, -2.6 at 33-36): beyond the probes, at least this steep
MIN_VMAF_SLOPE = 1.5


@dataclass(frozen=True)
class Rated:
    """One probe encode's CRF and mean rate on the sample (kb/s)."""

    crf: int
    kbps: float


def _halving(a: Rated, b: Rated) -> float:
    """CRF steps per halving of the rate between two probes; HALVING_CRF where they tell nothing
    (a flat or rising stretch: VBV-bound, or still content at low CRF)."""
    lo, hi = sorted((a, b), key=lambda p: p.crf)
    if lo.kbps <= hi.kbps or hi.crf == lo.crf:
        return HALVING_CRF
    measured = (hi.crf - lo.crf) / math.log2(lo.kbps / hi.kbps)
    return measured if 2.0 <= measured <= 4 * HALVING_CRF else HALVING_CRF


def crf_for_rate(points: list[Rated], kbps: float) -> float:
    """The CRF expected to spend ``kbps``: log-rate linear between the probes around it, else beyond the
    nearest probe at the slope of the two nearest (HALVING_CRF with one probe)."""
    pts = sorted(points, key=lambda p: p.crf)
    for lo, hi in zip(pts, pts[1:]):
        if lo.kbps >= kbps >= hi.kbps and lo.kbps > hi.kbps:
            return lo.crf + (hi.crf - lo.crf) * math.log(lo.kbps / kbps) / math.log(lo.kbps / hi.kbps)
    end = pts[0] if kbps > pts[0].kbps else pts[-1]
    near = sorted(pts, key=lambda p: abs(p.crf - end.crf))[:2]
    per_halving = _halving(*near) if len(near) == 2 else HALVING_CRF
    return end.crf - per_halving * math.log2(kbps / end.kbps)


def rate_at(points: list[Point], crf: float) -> float:
    """The rate expected at ``crf``, for deciding whether a size is worth a probe there: log-linear between
    the probes around it, else beyond the nearest ones — above the highest CRF, halving at least every
    HALVING_CRF steps. A still slide's 720p probes at CRF 14 and 26 halve every 23 steps, which put CRF 34
    at 356 kb/s, over SD's 349, and left the size unprobed; it spent 266 there."""
    pts = sorted(points, key=lambda p: p.crf)
    for lo, hi in zip(pts, pts[1:]):
        if lo.crf <= crf <= hi.crf and hi.crf > lo.crf:
            t = (crf - lo.crf) / (hi.crf - lo.crf)
            return math.exp(math.log(lo.kbps) + t * math.log(hi.kbps / lo.kbps))
    rated = [Rated(p.crf, p.kbps) for p in pts]
    end = rated[0] if crf < pts[0].crf else rated[-1]
    per_halving = _halving(*rated[:2] if end is rated[0] else rated[-2:]) if len(rated) > 1 else HALVING_CRF
    if crf > end.crf:
        per_halving = min(per_halving, HALVING_CRF)
    return end.kbps * 2 ** ((end.crf - crf) / per_halving)


def crf_for_vmaf(points: list[Point], goal: float) -> float | None:
    """The CRF expected to reach VMAF ``goal`` (the highest, on a curve that need not be monotonic): linear
    between the probes around it, else beyond the highest CRF probed at least MIN_VMAF_SLOPE per step;
    None when even the lowest CRF probed falls short."""
    pts = sorted(points, key=lambda p: p.crf)
    if pts[-1].vmaf >= goal:
        slope = MIN_VMAF_SLOPE
        if len(pts) > 1 and pts[-1].crf > pts[-2].crf:
            slope = max(slope, (pts[-2].vmaf - pts[-1].vmaf) / (pts[-1].crf - pts[-2].crf))
        return pts[-1].crf + (pts[-1].vmaf - goal) / slope
    for lo, hi in reversed(list(zip(pts, pts[1:]))):
        if lo.vmaf >= goal > hi.vmaf:
            return lo.crf + (hi.crf - lo.crf) * (lo.vmaf - goal) / (lo.vmaf - hi.vmaf)
    return None


def anchor_found(points: list[Rated], kbps: float, fixed_crf: int | None = None) -> bool:
    """True when the probes tell the fixed encode's rate and quality (stage 1 of the module's doc)."""
    if fixed_crf is not None:
        return any(p.crf == fixed_crf for p in points)
    pts = sorted(points, key=lambda p: p.crf)
    if any(abs(p.kbps / kbps - 1) <= CLOSE for p in pts):
        return True  # a probe spends about the rate
    if pts[0].crf <= FLOOR_CRF and pts[0].kbps <= kbps:
        return True  # spends less than the rate even at the floor
    if pts[-1].crf >= MAX_CRF and pts[-1].kbps >= kbps:
        return True  # spends more even at x264's highest CRF
    return any(lo.kbps >= kbps >= hi.kbps and hi.crf - lo.crf <= BRACKET for lo, hi in zip(pts, pts[1:]))


def anchor_crfs(rates: list[int], points: list[list[Rated]], fixed_crf: int | None = None) -> list[list[int]]:
    """Stage 1: the CRF to probe next at each size (lowest first; ``rates[j]`` is definition j's kb/s,
    ``points[j]`` its size's probes so far), none where the anchor is found."""
    out: list[list[int]] = []
    for kbps, pts in zip(rates, points):
        if anchor_found(pts, kbps, fixed_crf):
            out.append([])
            continue
        c = float(fixed_crf) if fixed_crf is not None else crf_for_rate(pts, kbps)
        crf = FLOOR_CRF if c < FLOOR_CRF + SNAP else min(MAX_CRF, round(c))
        same = next((p for p in pts if p.crf == crf), None)
        if same is not None:  # that step is probed already: one step towards the rate
            crf = max(FLOOR_CRF, min(MAX_CRF, crf + (1 if same.kbps > kbps else -1)))
        out.append([] if any(p.crf == crf for p in pts) else [crf])
    return out


def goal_crfs(ladder: list[Fixed], target: float | None = None) -> list[list[int]]:
    """Stage 2: the CRF values to probe at each size (lowest first) where it is expected to reach a goal it could win,
    unless probes close enough around it tell already."""
    wanted: list[set[int]] = [set() for _ in ladder]
    for i, a in enumerate(anchors(ladder, target)):
        budget = a.kbps * (1 if a.saturated else 1 - MIN_SAVING)
        for j in (i, i + 1):
            if j >= len(ladder):
                continue
            pts = sorted(ladder[j].points, key=lambda p: p.crf)
            c = crf_for_vmaf(pts, a.goal)
            if c is None or rate_at(pts, min(c, MAX_CRF)) > budget:
                continue  # this size cannot reach the goal for fewer bits
            c = min(c, MAX_CRF)
            below = [p.crf for p in pts if p.crf <= c]
            above = [p.crf for p in pts if p.crf >= c]
            if below and above and min(above) - max(below) <= TRUSTED_GAP:  # the hull reads it there
                continue
            # inside a wide gap: cut it so that the hull can read it in the next round
            crfs = _splits(max(below), min(above), c) if below and above else [min(MAX_CRF, max(FLOOR_CRF, round(c)))]
            for crf in crfs:
                if all(abs(crf - p.crf) > 1 for p in pts) and all(abs(crf - w) > 1 for w in wanted[j]):
                    wanted[j].add(crf)
    return [sorted(w) for w in wanted]


def _splits(lo: int, hi: int, crf: float) -> list[int]:
    """The CRF values that cut the gap between probes at ``lo`` and ``hi`` into pieces the hull reads (at most
    TRUSTED_GAP steps each): one round settles the gap instead of a probe per round creeping towards the
    goal from a probe beside it. At most two, those nearest the expected ``crf``: a wider gap takes another
    round."""
    pieces = math.ceil((hi - lo) / TRUSTED_GAP)
    inside = [round(lo + (hi - lo) * k / pieces) for k in range(1, pieces)]
    return sorted(sorted(inside, key=lambda s: abs(s - crf))[:2])


def worth_scoring(kbps: int, points: list[Rated], lowest: bool) -> list[int]:
    """Stage 1's probes at one size that VMAF is needed for: those around the definition's rate (or the floor
    probe, still content) and, at sizes that could serve the definition below, the highest CRF probed."""
    pts = sorted(points, key=lambda p: p.crf)
    keep = {pts[-1].crf} if not lowest else set()
    pairs = list(zip(pts, pts[1:]))
    around = [(lo, hi) for lo, hi in pairs if lo.kbps >= kbps >= hi.kbps]
    if around:
        keep |= {around[0][0].crf, around[0][1].crf}
    elif pts[0].kbps <= kbps:
        keep.add(pts[0].crf)  # spends less than the rate even at the lowest CRF
    else:
        keep.add(pts[-1].crf)  # spends more even at the highest
    near = min(pts, key=lambda p: abs(math.log(p.kbps / kbps)))
    return sorted(keep | {near.crf})


def up_checks(ladder: list[Fixed], choices: list[Choice]) -> dict[int, list[int]]:
    """Definitions whose choice took the next size up at a rate their own, tighter cap may squeeze
    (pertitle_hull.UP_SIZE_HEADROOM) and that size is not yet probed under that cap: index → the CRF
    values to probe it at (the chosen one and UP_CHECK_STEPS below)."""
    out: dict[int, list[int]] = {}
    for i, (f, c) in enumerate(zip(ladder[:-1], choices)):
        above = ladder[i + 1]
        if c.crf is None or f.up or (c.width, c.height) != (above.width, above.height):
            continue
        if c.kbps_predicted * UP_SIZE_HEADROOM > f.kbps:
            out[i] = sorted({max(FLOOR_CRF, c.crf - UP_CHECK_STEPS), c.crf})
    return out
