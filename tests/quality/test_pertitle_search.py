"""Where per-title probes: the sample's layout, rates read from frame sizes, and the CRF values each round asks
for (no encode, only the rules)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from hlskit.pipeline.pertitle import LEAD_EXTRA, LOOKAHEAD, chunk_starts, sample_layout
from hlskit.pipeline.pertitle_hull import FLOOR_CRF, Fixed, Point
from hlskit.pipeline.pertitle_probe import Layout, measured_kbps
from hlskit.pipeline.pertitle_search import (
    HALVING_CRF,
    MAX_CRF,
    START_CRF,
    Rated,
    anchor_crfs,
    anchor_found,
    crf_for_rate,
    crf_for_vmaf,
    goal_crfs,
    rate_at,
    worth_scoring,
)

FPS = Fraction(30)


def test_a_short_title_gets_one_whole_interval_after_a_warm_up_lead():
    layout = sample_layout(20, FPS, 2.0, "veryfast")
    assert (layout.chunks, layout.gop, layout.measured) == (1, 60, 60)
    assert layout.lead == LOOKAHEAD["veryfast"] + LEAD_EXTRA == 20
    assert layout.measured_starts() == [20] and layout.keyframes() == [0, 20]
    # slower presets look further ahead: their lead is longer
    assert sample_layout(20, FPS, 2.0, "medium").lead == LOOKAHEAD["medium"] + LEAD_EXTRA


def test_the_sample_grows_with_the_title_in_whole_intervals():
    # a GOP's later frames score lower and cost more than its first: a part measures all of one
    mid = sample_layout(90, FPS, 2.0)
    assert mid.chunks == 2 and mid.measured == mid.gop
    assert sample_layout(60, FPS, 2.0).chunks == 1 and sample_layout(150, FPS, 2.0).chunks == 3
    long = sample_layout(3600, FPS, 2.0)
    assert long.chunks * long.measured == 8 * 30 and long.measured == long.gop
    # keyframes at each lead and each measured part; a part longer than an interval keys every interval
    assert mid.keyframes() == [0, mid.lead, mid.lead + mid.measured, 2 * mid.lead + mid.measured]
    assert Layout(FPS, 30, 4, 60, 1).keyframes() == [0, 4, 34]


def test_chunks_are_spread_over_the_title_and_stay_inside_it():
    layout = sample_layout(90, FPS, 2.0)
    starts = chunk_starts(10.0, 90.0, layout)
    lead = layout.lead / 30
    assert len(starts) == 2 and starts == sorted(starts)
    assert starts[0] - lead >= 10.0 and starts[-1] + layout.measured / 30 <= 100.0
    # a title shorter than a lead and a part: what there is, without a lead if need be (the sample is
    # then the title itself, cold start included, as its encode will be)
    tiny = sample_layout(0.6, FPS, 2.0)
    assert tiny.lead + tiny.measured <= 18 and tiny.measured >= 1
    whole = sample_layout(2.0, FPS, 2.0)
    assert (whole.lead, whole.measured) == (0, 60)


def test_scored_frames_are_an_odd_stride_apart_inside_the_measured_parts():
    layout = Layout(FPS, 60, 20, 30, 2)
    frames = layout.scored(4)
    assert len(frames) == 8
    for start in layout.measured_starts():
        mine = [f for f in frames if start <= f < start + 30]
        assert len(mine) == 4
        steps = {b - a for a, b in zip(mine, mine[1:])}
        assert len(steps) == 1 and steps.pop() % 2 == 1  # B-frames come in groups: an even stride may see one type


def test_a_part_shorter_than_an_interval_is_extrapolated_from_its_keyframe_and_mean_frame():
    layout = Layout(FPS, 60, 2, 30, 1)
    sizes = [999, 999] + [6000] + [100] * 29  # lead (not counted), keyframe, 29 others
    # one interval: the keyframe and 59 frames of 100 bytes, over 2 s
    assert measured_kbps(sizes, layout) == pytest.approx((6000 + 59 * 100) * 8 / 1000 / 2)
    whole = Layout(FPS, 30, 2, 60, 1)  # two whole intervals: their plain mean
    sizes = [999, 999] + ([6000] + [100] * 29) * 2
    assert measured_kbps(sizes, whole) == pytest.approx(2 * (6000 + 29 * 100) * 8 / 1000 / 2)


def test_rates_are_log_linear_between_probes_and_halve_every_six_steps_beyond_one():
    pts = [Rated(20, 800.0), Rated(26, 400.0)]
    assert crf_for_rate(pts, 566.0) == pytest.approx(23.0, abs=0.05)
    assert crf_for_rate([Rated(26, 400.0)], 800.0) == pytest.approx(26 - HALVING_CRF)
    # beyond the probes, their own slope (here 12 steps a halving, still content)
    flat = [Rated(14, 800.0), Rated(26, 400.0)]
    assert crf_for_rate(flat, 1600.0) == pytest.approx(2.0) and crf_for_rate(flat, 200.0) == pytest.approx(38.0)
    # a flat stretch (VBV-bound: the rate held at the cap) tells nothing: six steps a halving again
    assert crf_for_rate([Rated(26, 610.0), Rated(30, 620.0)], 310.0) == pytest.approx(30 + HALVING_CRF)
    curve = [Point(20, 800.0, 90.0), Point(26, 400.0, 85.0)]
    assert rate_at(curve, 23) == pytest.approx(565.7, abs=0.1) and rate_at(curve, 32) == pytest.approx(200.0)
    # deciding where to probe, beyond the highest CRF a slow-halving still slide is assumed to halve at least every
    # six steps (it did: 454 kb/s at CRF 26, 266 at 33), below the lowest at its own slope
    still = [Point(14, 655.0, 96.3), Point(26, 454.0, 92.4)]
    assert rate_at(still, 32) == pytest.approx(227.0) and rate_at(still, 2) == pytest.approx(945, abs=1)


def test_the_anchor_is_found_where_probes_bracket_the_rate_or_the_floor_spends_less():
    assert anchor_found([Rated(20, 900.0), Rated(23, 700.0)], 800)
    # too far apart to read its quality: VMAF bends between them (hlskit's sample at 848x478: CRF 30
    # and 35 read 66.3 at SD's rate, a probe at 33 showed 67.4; the title's fixed SD scored 68.0)
    assert not anchor_found([Rated(20, 900.0), Rated(26, 500.0)], 800)
    assert anchor_found([Rated(FLOOR_CRF, 300.0), Rated(26, 200.0)], 400)  # still content
    assert not anchor_found([Rated(17, 300.0), Rated(26, 200.0)], 400)
    assert anchor_found([Rated(26, 790.0)], 800)  # within a few percent
    assert anchor_found([Rated(23, 500.0)], 800, fixed_crf=23) and not anchor_found([Rated(26, 500.0)], 800, 23)


def test_stage_one_asks_for_the_rate_or_the_floor_and_stops_when_found():
    # one probe at START_CRF spending half the rate: about six steps lower
    assert anchor_crfs([800], [[Rated(START_CRF, 400.0)]]) == [[START_CRF - 6]]
    # a still picture spending a fifth: the floor itself, not a step above it
    assert anchor_crfs([400], [[Rated(START_CRF, 80.0)]]) == [[FLOOR_CRF]]
    assert anchor_crfs([400], [[Rated(FLOOR_CRF, 200.0), Rated(26, 100.0)]]) == [[]]
    # hard content spending more: a higher CRF, never beyond x264's range
    assert anchor_crfs([400], [[Rated(START_CRF, 1600.0)]]) == [[START_CRF + 12]]
    assert anchor_crfs([400], [[Rated(48, 4000.0)]]) == [[MAX_CRF]]
    # a capped-CRF fixed ladder: its CRF
    assert anchor_crfs([400, 800], [[Rated(26, 300.0)], [Rated(23, 700.0)]], fixed_crf=23) == [[23], []]


def test_vmaf_is_reached_between_probes_or_beyond_the_highest_at_a_steepening_slope():
    pts = [Point(14, 700.0, 96.0), Point(26, 460.0, 92.0)]
    assert crf_for_vmaf(pts, 94.0) == pytest.approx(20.0)
    assert crf_for_vmaf(pts, 80.0) == pytest.approx(26 + 12 / 1.5)  # at least 1.5 a step beyond
    assert crf_for_vmaf(pts, 97.0) is None


def still_ladder() -> list[Fixed]:
    """A still slide after stage 1: every size spends less than its rate even at the floor."""
    return [
        Fixed("LD", 640, 360, 400, (Point(14, 255.0, 62.8),)),
        Fixed("SD", 848, 478, 800, (Point(14, 406.0, 79.0), Point(26, 246.0, 74.2))),
        Fixed("HD", 1280, 720, 1800, (Point(14, 713.0, 96.2), Point(26, 465.0, 92.0))),
    ]


def test_stage_two_probes_where_each_size_is_expected_to_reach_a_goal_it_could_win():
    sd, hd = goal_crfs(still_ladder())[1:]
    # LD's goal (62.8) lies beyond SD's probes: one probe where VMAF falling 1.5 a step would reach it
    assert sd == [round(26 + (74.2 - 62.8) / 1.5)]
    # SD's goal (79) beyond HD's probes; HD's own saturated goal (95.7), a step from the floor probe but 12 from
    # the next: that gap cut into pieces the hull reads (it reads nothing across more than 5 steps)
    assert hd == [18, 22, round(26 + (92.0 - 79.0) / 1.5)]
    # vmaf=94 asked: HD's goal lies far from both its probes, the same cuts
    assert [c for c in goal_crfs(still_ladder(), target=94.0)[2] if c < 26] == [18, 22]


def test_stage_two_leaves_out_a_size_that_cannot_save():
    ladder = [
        Fixed("LD", 640, 360, 400, (Point(20, 480.0, 80.0), Point(26, 300.0, 74.0))),
        # the bigger size reaches LD's quality only where it spends more than LD's rate
        Fixed("SD", 848, 478, 800, (Point(22, 900.0, 86.0), Point(26, 560.0, 80.0))),
    ]
    assert goal_crfs(ladder)[1] == []
    # a goal between probes far apart: the gap cut into pieces of at most 5 steps, in one round
    far = [Fixed("LD", 640, 360, 700, (Point(38, 668.0, 98.7), Point(49, 474.0, 54.8)))]
    assert goal_crfs(far, target=82.7) == [[42, 45]]
    # ... even where the goal lies beside a probe: a still slide's 720p at 26 (92.4) and 34 (78.8), SD's goal 80.5
    beside = [Fixed("LD", 640, 360, 400, (Point(14, 655.0, 96.3), Point(26, 454.0, 92.4), Point(34, 249.0, 78.8)))]
    assert goal_crfs(beside, target=80.5) == [[30]]
    # a gap too wide for two cuts: the two nearest the goal, the next round the rest
    wide = [Fixed("LD", 640, 360, 700, (Point(14, 600.0, 99.0), Point(40, 200.0, 60.0)))]
    assert goal_crfs(wide, target=90.0) == [[18, 23]]
    # and nothing where the probes already bracket the goal closely
    close = [Fixed("LD", 640, 360, 400, (Point(20, 480.0, 80.0), Point(23, 390.0, 77.0), Point(26, 300.0, 74.0)))]
    assert goal_crfs(close) == [[]]


def test_only_the_probes_that_tell_something_are_scored():
    still = [Rated(14, 255.0), Rated(17, 203.0), Rated(26, 143.0)]
    assert worth_scoring(400, still, lowest=True) == [14]  # the floor tells the anchor; nothing below LD
    assert worth_scoring(800, [Rated(14, 406.0), Rated(26, 246.0)], lowest=False) == [14, 26]
    moving = [Rated(20, 995.0), Rated(23, 640.0), Rated(26, 419.0)]
    assert worth_scoring(800, moving, lowest=False) == [20, 23, 26]
