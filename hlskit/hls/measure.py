"""Peak and average bit rates of a media playlist from real segment sizes (RFC 8216 §4.3.4.2, BANDWIDTH and AVERAGE-BANDWIDTH).

Window: BANDWIDTH uses the RFC 8216 §4.1 window, runs of consecutive segments lasting between
0.5x and 1.5x the target duration (B2). That is the rule the RFC states, so declared == measured
is checkable by anyone. The wider draft window (1.5x + 0.5 s, what mediastreamvalidator uses per
Apple's engineers) is measured too as ``peak_wide``; validate warns when it would break Apple's 10%.

Durations are whole microseconds and sizes whole bytes, so window edges and comparisons are exact
(no float drift deciding whether a run is in or out); results are Fractions of bit/s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

US = 1_000_000


def peak_bps(sizes: list[int], durations_us: list[int], target: int, *, wide: bool = False) -> Fraction:
    """Highest bit rate over any run of consecutive segments whose total duration lies in the window.

    Falls back to the whole-playlist rate when no run qualifies (a playlist shorter than 0.5 x TD).
    Cost is O(n x k), k = segments per window (about 3): 7,200 segments take milliseconds.
    """
    lo2 = target * US  # 2 x 0.5 TD, doubled to stay in integers
    hi2 = 3 * target * US + (US if wide else 0)  # 2 x (1.5 TD [+ 0.5 s])
    best_bits, best_dur = 0, 0
    n = len(sizes)
    for i in range(n):
        bits = dur = 0
        for j in range(i, n):
            bits += 8 * sizes[j]
            dur += durations_us[j]
            if 2 * dur > hi2:
                break
            if 2 * dur >= lo2 and dur > 0 and (best_dur == 0 or bits * best_dur > best_bits * dur):
                best_bits, best_dur = bits, dur
    if best_dur == 0:
        return average_bps(sizes, durations_us)
    return Fraction(best_bits * US, best_dur)


def average_bps(sizes: list[int], durations_us: list[int]) -> Fraction:
    total = sum(durations_us)
    return Fraction(8 * sum(sizes) * US, total) if total else Fraction(0)


def ceil_bps(rate: Fraction) -> int:
    return math.ceil(rate)


@dataclass(frozen=True)
class Measure:
    """Figures of one media playlist (or of a variant: video plus its audio rendition)."""

    segments: int
    bytes: int
    duration: float
    peak: int  # ceil(peak bit/s), RFC window: what BANDWIDTH declares
    average: int  # ceil(average bit/s): what AVERAGE-BANDWIDTH declares
    peak_wide: int  # ceil(peak bit/s), draft/mediastreamvalidator window

    def __add__(self, other: Measure) -> Measure:
        """Video plus a separate audio rendition (B4): peaks and averages add."""
        return Measure(
            self.segments,
            self.bytes + other.bytes,
            self.duration,
            self.peak + other.peak,
            self.average + other.average,
            self.peak_wide + other.peak_wide,
        )


def measure(sizes: list[int], durations_us: list[int], target: int) -> Measure:
    return Measure(
        segments=len(sizes),
        bytes=sum(sizes),
        duration=sum(durations_us) / US,
        peak=ceil_bps(peak_bps(sizes, durations_us, target)),
        average=ceil_bps(average_bps(sizes, durations_us)),
        peak_wide=ceil_bps(peak_bps(sizes, durations_us, target, wide=True)),
    )
