"""Per-title ladder from measured points: for each definition, the size and CRF that reach its quality for the fewest bits.

Pure functions over probe measurements (no FFmpeg here): each candidate size has a curve of
(CRF, kb/s, VMAF) points measured on the same sample, VMAF always at the source's display size.

1. The fixed ladder's quality and rate (the *anchor*) of a definition are read off its own size's
   curve at the definition's rate, log-rate interpolated between the two probes around it. Where
   even the lowest CRF probed spends less, they are that probe's; when that probe is at
   ``FLOOR_CRF`` the definition is *saturated* (still content: x264's ABR cannot spend its
   target either, and spends at least the floor's rate). Where even the highest CRF spends more,
   ABR holds the rate at no better quality than that probe's.
2. The *goal* is the anchor (or ``vmaf=N`` when lower). The top rung's goal is lowered where
   quality saturates: to ``SATURATION_VMAF`` but never more than ``TOP_GIVE_VMAF`` under the
   anchor (VMAF differences above ~95 are not seen; the loss stays inside the one-point aim).
3. For each definition, bottom-up, every candidate size (its own and the ladder's next lower and
   next higher one, never smaller than the size chosen for the definition below) gives the
   highest whole CRF whose interpolated VMAF still reaches the goal (never extrapolated, nor read
   between probes more than ``TRUSTED_GAP`` steps apart), and its expected rate; the size needing
   the fewest bits wins — at that rate it is the size with the highest VMAF, i.e. on the convex
   hull of the rate-quality curves (Netflix, "Per-Title Encode Optimization", 2015; J. De Cock et
   al., "Complexity-based consistent-quality encoding in the cloud", ICIP 2016). A definition
   saving under ``MIN_SAVING`` against its fixed encode keeps it (smaller savings are rate-control
   noise), unless it is saturated.
4. The ladder keeps the player's promises: a definition whose VMAF gain over the kept one below
   is under ``MIN_GAIN_VMAF`` is dropped (a switch a viewer would not see), and so is a lower one
   that a higher one costs hardly more than (``MIN_RATE_STEP``), so rates ascend and sizes never
   descend as rates rise (Apple HLS authoring spec 2: ladder spacing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Still content's quality has saturated by this CRF (lecture slide at 640x360: VMAF 62.7 at CRF 12,
# 62.2 at 15, 60.5 at 18), and x264's ABR spends at least its rate there: a definition whose own size
# spends less than its rate even here is read here (pipeline.pertitle_search probes down to it).
FLOOR_CRF = 14
MIN_SAVING = 0.05  # a CRF encode must be expected to save at least this share of the fixed rate
MIN_GAIN_VMAF = 2.0  # a kept definition looks better than the one below by at least this much
MIN_RATE_STEP = 1.2  # ... and costs at least this much more; else the lower one is dropped
SATURATION_VMAF = 95.0  # the top rung's goal need not pass this: quality has saturated
TOP_GIVE_VMAF = 0.5  # ... nor fall more than this under the fixed top rung's quality
# The rung's VBV cap over its expected mean rate: 2x squeezed the keyframes of the lecture slide's
# HD (CRF 15: VMAF 95.55 under a 1405 kb/s cap, 96.04 under 1800), so the cap stays well above.
CAP_HEADROOM = 3.0
# A size borrowed from the next definition up was probed under that definition's looser VBV cap.
# Where its expected rate is over 1/UP_SIZE_HEADROOM of the definition's own cap, that tighter cap
# can bind and the probes overstate the quality: on hlskit's sample (8 s) 1280x720 at CRF 37 read
# VMAF 78.2 at 885 kb/s under HD's cap and 69.6 under SD's (800 kb/s), and SD taken at that size
# (CRF 40) scored 3.5 under the fixed SD on the title. Such a choice is probed again under the
# definition's cap (pipeline.pertitle) and read from those probes (``Fixed.up``). Far below the
# cap it binds little: 2x cost the still slide's keyframes 0.5 VMAF (CAP_HEADROOM's measurement).
UP_SIZE_HEADROOM = 2.0
# The curve is read between probes at most this many CRF steps apart; across a wider gap only the
# probes are known. VMAF can fall off a cliff there: grain at 1280x720 scored 98.7 at CRF 38, 87.1
# at 40, 72.8 at 42 and 54.8 at 49, where the curve through 38 and 49 read 84.4 at CRF 43 (68.1).
TRUSTED_GAP = 5
# Where one CRF step up costs more than this much VMAF, the step below is taken: on such a cliff the
# title's curve can lie a step from the sample's (grain, 20 s title: 720p CRF 41 read 86.0 on the
# sample and scored 82.4 on the title, 1.9 under the fixed SD; its sample fell ~7 a step there).
STEP_DROP_VMAF = 3.0


@dataclass(frozen=True)
class Point:
    """One probe encode of the sample at one size: its CRF, mean rate and VMAF (at the display size)."""

    crf: int
    kbps: float
    vmaf: float


@dataclass(frozen=True)
class Fixed:
    """One definition of the fixed ladder: its name, size, rate, and what its size's probes measured."""

    name: str
    width: int
    height: int
    kbps: int
    points: tuple[Point, ...]  # the CRF probes at this size, any order
    crf: int | None = None  # the fixed ladder is capped CRF at this value (its quality is read there)
    up: tuple[Point, ...] = ()  # the next size up probed under this definition's own cap (UP_SIZE_HEADROOM)


@dataclass(frozen=True)
class Anchor:
    """What the fixed encode of a definition is expected to spend and look like on the sample, and the goal."""

    kbps: float
    vmaf: float
    goal: float
    saturated: bool  # even the lowest CRF probed spends less than the definition's rate (still content)


@dataclass(frozen=True)
class Choice:
    definition: str
    fixed_width: int
    fixed_height: int
    width: int  # the size chosen (the fixed one when the fixed encode is kept)
    height: int
    fixed_kbps: int
    chosen_kbps: int  # the rung's rate now: its VBV cap (capped CRF) or the fixed ABR target
    crf: int | None  # None keeps the fixed ladder's ABR encode
    vmaf_fixed: float  # the anchor: the fixed ladder's quality, read off the probes
    goal: float
    vmaf_predicted: float
    kbps_fixed: float  # the fixed encode's expected mean rate on the sample (read with the anchor)
    kbps_predicted: float  # expected mean rate on the sample
    candidates: tuple[dict, ...]  # per size tried: {"width", "height", "crf", "kbps", "vmaf"} (crf None: unreachable)
    probes: tuple[dict, ...]  # this definition's own size's curve: {"crf", "kbps", "vmaf"}
    kept: bool
    why: str


def interpolate(points: tuple[Point, ...] | list[Point], crf: float) -> tuple[float, float]:
    """(kb/s, VMAF) at ``crf``: rate log-linear between the neighbouring probes, VMAF on a monotone cubic
    through all of them (PCHIP, Fritsch and Carlson 1980: it bends as VMAF does, falling faster as the
    CRF rises, where straight lines between probes 5 steps apart read 1-3 points low, and it never
    overshoots the probes).

    ``crf`` must lie within the probed range (nothing is extrapolated)."""
    pts = sorted(points, key=lambda p: p.crf)
    if not pts[0].crf <= crf <= pts[-1].crf:
        raise ValueError(f"CRF {crf} is outside the probed {pts[0].crf}-{pts[-1].crf}")
    slopes = _pchip_slopes(pts)
    for k, (lo, hi) in enumerate(zip(pts, pts[1:])):
        if lo.crf <= crf <= hi.crf and hi.crf > lo.crf:
            h = hi.crf - lo.crf
            t = (crf - lo.crf) / h
            kbps = math.exp(math.log(lo.kbps) + t * math.log(hi.kbps / lo.kbps))
            h00, h10, h01, h11 = 2 * t**3 - 3 * t**2 + 1, t**3 - 2 * t**2 + t, -2 * t**3 + 3 * t**2, t**3 - t**2
            return kbps, h00 * lo.vmaf + h10 * h * slopes[k] + h01 * hi.vmaf + h11 * h * slopes[k + 1]
    return pts[0].kbps, pts[0].vmaf  # a single probe


def _pchip_slopes(pts: list[Point]) -> list[float]:
    """Each probe's VMAF slope for the monotone cubic: the weighted harmonic mean of the two secants
    around it, 0 where they differ in sign; at either end, the secant beside it."""
    secants = [(b.vmaf - a.vmaf) / (b.crf - a.crf) if b.crf > a.crf else 0.0 for a, b in zip(pts, pts[1:])]
    if not secants:
        return [0.0]
    out = [secants[0]]
    for k in range(1, len(pts) - 1):
        d0, d1 = secants[k - 1], secants[k]
        h0, h1 = pts[k].crf - pts[k - 1].crf, pts[k + 1].crf - pts[k].crf
        if d0 * d1 <= 0:
            out.append(0.0)
        else:
            w1, w2 = 2 * h1 + h0, h1 + 2 * h0
            out.append((w1 + w2) / (w1 / d0 + w2 / d1))
    return out + [secants[-1]]


def anchor(points: tuple[Point, ...] | list[Point], kbps: float) -> tuple[float, float]:
    """(kb/s, VMAF) of the curve at the rate ``kbps`` (log-rate interpolated), clamped to the probed range."""
    pts = sorted(points, key=lambda p: p.crf)
    if kbps >= pts[0].kbps:
        return pts[0].kbps, pts[0].vmaf  # even the lowest CRF spends less: so would the fixed encode
    for lo, hi in zip(pts, pts[1:]):
        if lo.kbps >= kbps >= hi.kbps and lo.kbps > hi.kbps:
            t = math.log(lo.kbps / kbps) / math.log(lo.kbps / hi.kbps)
            return kbps, interpolate(pts, lo.crf + t * (hi.crf - lo.crf))[1]  # the curve bends here too
    return kbps, pts[-1].vmaf  # even the highest CRF spends more: ABR holds the rate, at no better quality


def at_goal(points: tuple[Point, ...] | list[Point], goal: float) -> tuple[int, float, float] | None:
    """(CRF, kb/s, VMAF) of the highest whole CRF in the probed range whose VMAF reaches ``goal``, never inside
    a gap between probes wider than ``TRUSTED_GAP`` nor where the next step falls ``STEP_DROP_VMAF`` under it;
    None if none does."""
    pts = sorted(points, key=lambda p: p.crf)
    wide = [(lo.crf, hi.crf) for lo, hi in zip(pts, pts[1:]) if hi.crf - lo.crf > TRUSTED_GAP]

    def readable(crf: int) -> bool:
        return crf <= pts[-1].crf and not any(lo < crf < hi for lo, hi in wide)

    for crf in range(pts[-1].crf, pts[0].crf - 1, -1):
        if not readable(crf):
            continue
        kbps, vmaf = interpolate(pts, crf)
        if vmaf < goal - 1e-9:
            continue
        if readable(crf + 1) and interpolate(pts, crf + 1)[1] < goal - STEP_DROP_VMAF:
            continue  # a cliff
        return crf, kbps, vmaf
    return None


def _at_crf(points: tuple[Point, ...], crf: int) -> tuple[float, float]:
    lo, hi = min(p.crf for p in points), max(p.crf for p in points)
    return interpolate(points, min(hi, max(lo, crf)))


def goal_for(vmaf_fixed: float, target: float | None, top: bool) -> float:
    """The quality a definition aims at: the fixed ladder's, or ``target`` when lower; the top one saturates."""
    goal = vmaf_fixed if target is None else min(target, vmaf_fixed)
    if top:
        goal = min(goal, max(SATURATION_VMAF, vmaf_fixed - TOP_GIVE_VMAF))
    return goal


def anchors(ladder: list[Fixed], target: float | None = None) -> list[Anchor]:
    """Each definition's anchor (the fixed encode read off its own size's probes) and goal, lowest first."""
    out = []
    for i, f in enumerate(ladder):
        kbps, vmaf = anchor(f.points, f.kbps) if f.crf is None else _at_crf(f.points, f.crf)
        lowest = min(f.points, key=lambda p: p.crf)
        saturated = f.crf is None and lowest.crf <= FLOOR_CRF and f.kbps >= lowest.kbps
        out.append(Anchor(kbps, vmaf, goal_for(vmaf, target, top=i == len(ladder) - 1), saturated))
    return out


def choose_ladder(ladder: list[Fixed], target: float | None = None) -> list[Choice]:
    """One Choice per definition of ``ladder`` (lowest first; each one's own size is a candidate size)."""
    sizes = [(f.width, f.height) for f in ladder]
    picked: list[dict] = []
    floor_area = 0
    for i, (f, a) in enumerate(zip(ladder, anchors(ladder, target))):
        fixed_rate, vmaf_fixed, goal = a.kbps, a.vmaf, a.goal
        tried, best = [], None
        for j in (i - 1, i, i + 1):
            if not 0 <= j < len(ladder) or sizes[j][0] * sizes[j][1] < floor_area:
                continue
            hit = at_goal(f.up if j == i + 1 and f.up else ladder[j].points, goal)
            w, h = sizes[j]
            tried.append({"width": w, "height": h, "crf": hit[0] if hit else None} | _figures(hit))
            # the fewest bits wins; on a tie the definition's own size (the one a viewer expects)
            if hit and (best is None or hit[1] < best[1][1] or (hit[1] == best[1][1] and j == i)):
                best = (j, hit)
        # Where even the lowest CRF spends less than the definition's rate, x264's ABR spends at least
        # that much on the title too: any capped CRF reaching the goal for no more bits is the better encode.
        if best is not None and best[1][1] <= fixed_rate * (1 if a.saturated else 1 - MIN_SAVING):
            j, (crf, kbps, vmaf) = best
            cap = min(f.kbps, max(1, math.ceil(kbps * CAP_HEADROOM)))
            why = _why_chosen(f, sizes[j], crf, kbps, goal, vmaf_fixed, target, tried)
        else:
            j, crf, kbps, vmaf, cap = i, None, fixed_rate, vmaf_fixed, f.kbps
            why = f"keeps the fixed ABR encode: no size reaches VMAF {goal:.1f} for {MIN_SAVING:.0%} fewer bits"
        floor_area = max(floor_area, sizes[j][0] * sizes[j][1])
        picked.append(
            {
                "f": f,
                "size": sizes[j],
                "crf": crf,
                "kbps": kbps,
                "vmaf": vmaf,
                "cap": cap,
                "goal": goal,
                "fixed": vmaf_fixed,
                "fixed_kbps": fixed_rate,
                "tried": tuple(tried),
                "why": why,
            }
        )
    kept = _prune(picked)
    return [
        Choice(
            p["f"].name,
            p["f"].width,
            p["f"].height,
            p["size"][0],
            p["size"][1],
            p["f"].kbps,
            p["cap"],
            p["crf"],
            round(p["fixed"], 3),
            round(p["goal"], 3),
            round(p["vmaf"], 3),
            round(p["fixed_kbps"], 1),
            round(p["kbps"], 1),
            p["tried"],
            tuple(
                {"crf": q.crf, "kbps": round(q.kbps, 1), "vmaf": round(q.vmaf, 3)}
                for q in sorted(p["f"].points, key=lambda q: q.crf)
            ),
            n in kept,
            kept.get(n, p["why"]),
        )
        for n, p in enumerate(picked)
    ]


def _prune(picked: list[dict]) -> dict[int, str]:
    """Indexes of the definitions kept → why; the dropped ones get their reason in place."""
    kept: list[int] = []
    for n, p in enumerate(picked):
        if kept and p["vmaf"] < picked[kept[-1]]["vmaf"] + MIN_GAIN_VMAF:
            below = picked[kept[-1]]
            p["why"] = (
                f"dropped: VMAF {p['vmaf']:.1f} is less than {MIN_GAIN_VMAF:g} above {below['f'].name}'s "
                f"{below['vmaf']:.1f}"
            )
            continue
        while kept and picked[kept[-1]]["kbps"] * MIN_RATE_STEP > p["kbps"]:
            lower = picked[kept.pop()]
            lower["why"] = (
                f"dropped: {p['f'].name} looks better for {p['kbps']:.0f} kb/s, "
                f"not {MIN_RATE_STEP:g}x its {lower['kbps']:.0f} kb/s"
            )
        kept.append(n)
    return {n: picked[n]["why"] for n in kept}


def _figures(hit: tuple[int, float, float] | None) -> dict:
    return {"kbps": round(hit[1], 1), "vmaf": round(hit[2], 3)} if hit else {"kbps": None, "vmaf": None}


def _why_chosen(
    f: Fixed,
    size: tuple[int, int],
    crf: int,
    kbps: float,
    goal: float,
    vmaf_fixed: float,
    target: float | None,
    tried: list[dict],
) -> str:
    if goal >= vmaf_fixed - 1e-9:
        aim = f"VMAF {goal:.1f} (the fixed {f.name}'s)"
    elif target is not None and goal >= target - 1e-9:
        aim = f"VMAF {goal:.1f} (asked; the fixed {f.name}'s is {vmaf_fixed:.1f})"
    else:
        aim = f"VMAF {goal:.1f} (quality saturates; the fixed {f.name}'s is {vmaf_fixed:.1f})"
    others = ", ".join(
        f"{t['width']}x{t['height']} {t['kbps']:.0f}" if t["crf"] is not None else f"{t['width']}x{t['height']} never"
        for t in tried
        if (t["width"], t["height"]) != size
    )
    return f"{size[0]}x{size[1]} at CRF {crf} reaches {aim} with {kbps:.0f} kb/s on the sample" + (
        f" (other sizes, kb/s: {others})" if others else ""
    )
