"""Per-title v3's choice over measured (size, CRF, kb/s, VMAF) points: no encode, only the rules."""

from __future__ import annotations

import dataclasses

import pytest

from hlskit.pipeline.pertitle_hull import (
    FLOOR_CRF,
    MIN_GAIN_VMAF,
    SATURATION_VMAF,
    TOP_GIVE_VMAF,
    Fixed,
    Point,
    anchor,
    anchors,
    at_goal,
    choose_ladder,
    goal_for,
    interpolate,
)
from hlskit.pipeline.pertitle_search import up_checks


def curve(*points: tuple[int, float, float]) -> tuple[Point, ...]:
    return tuple(Point(c, k, v) for c, k, v in points)


LD, SD, HD = (640, 360), (848, 478), (1280, 720)


def test_interpolation_is_linear_in_crf_log_linear_in_rate_and_never_extrapolates():
    pts = curve((20, 400.0, 90.0), (26, 100.0, 84.0))
    kbps, vmaf = interpolate(pts, 23)
    assert kbps == pytest.approx(200.0) and vmaf == pytest.approx(87.0)
    with pytest.raises(ValueError):
        interpolate(pts, 27)


def test_vmaf_bends_with_the_probes_never_beyond_them():
    # VMAF falls faster as the CRF rises (the slide at 1280x720): between probes 5 steps apart the
    # monotone cubic reads above the straight line, never above the probe before nor below the one after
    pts = curve((26, 460.0, 92.0), (31, 320.0, 85.8), (36, 220.0, 74.8))
    for crf in range(26, 36):
        _, vmaf = interpolate(pts, crf)
        lo, hi = (pts[0], pts[1]) if crf < 31 else (pts[1], pts[2])
        line = lo.vmaf + (crf - lo.crf) / 5 * (hi.vmaf - lo.vmaf)
        assert hi.vmaf <= vmaf <= lo.vmaf and vmaf >= line - 1e-9
    assert interpolate(pts, 33)[1] > 85.8 - 2 / 5 * 11.0 + 0.3  # a concave curve: well above the line
    # where the probes wobble (a near-blank picture), flat at the turning probe: no new extreme
    wobbly = curve((20, 400.0, 98.0), (26, 300.0, 98.6), (32, 200.0, 97.0))
    assert all(97.0 <= interpolate(wobbly, c)[1] <= 98.6 for c in range(20, 33))


def test_the_anchor_is_read_at_the_rate_and_clamped_to_the_probes():
    pts = curve((14, 800.0, 95.0), (20, 400.0, 90.0), (26, 200.0, 82.0))
    assert anchor(pts, 400.0) == (400.0, 90.0)
    kbps, vmaf = anchor(pts, 282.8)  # half-way in log-rate between 400 and 200: CRF 23 on the curve
    assert kbps == 282.8 and vmaf == pytest.approx(interpolate(pts, 23)[1], abs=0.01) and vmaf > 86.1  # above the line
    assert anchor(pts, 2000.0) == (800.0, 95.0)  # even CRF 14 spends less: so would the fixed encode
    assert anchor(pts, 50.0) == (50.0, 82.0)  # even CRF 26 spends more: ABR holds the rate, at no better quality


def test_a_definition_spending_less_than_its_rate_even_at_the_floor_is_saturated():
    still = curve((FLOOR_CRF, 250.0, 62.8), (26, 140.0, 57.5))
    (a,) = anchors([Fixed("LD", *LD, 400, still)])
    assert a.saturated and (a.kbps, a.vmaf) == (250.0, 62.8)
    (b,) = anchors([Fixed("LD", *LD, 400, curve((18, 250.0, 62.8), (26, 140.0, 57.5)))])
    assert not b.saturated  # the probes did not reach the floor: nothing said about ABR there
    (c,) = anchors([Fixed("LD", *LD, 400, still, crf=23)])
    assert not c.saturated and c.vmaf == pytest.approx(62.8 - 9 / 12 * 5.3)


def test_on_saturated_definitions_any_capped_crf_no_dearer_is_chosen():
    # the top rung of a still slide: 0.5 VMAF given for 4% fewer bits, under MIN_SAVING yet chosen,
    # since x264's ABR spends at least the floor's rate there
    (top,) = choose_ladder([Fixed("HD", *HD, 1800, curve((FLOOR_CRF, 713.0, 96.2), (16, 684.0, 95.7)))])
    assert top.crf == 16 and top.kbps_predicted == pytest.approx(684.0)
    (hard,) = choose_ladder([Fixed("HD", *HD, 1800, curve((20, 1900.0, 96.2), (22, 1730.0, 95.7)))])
    assert hard.crf is None  # the same 4% on content that spends the rate: noise, the fixed encode stays


def test_at_goal_takes_the_highest_whole_crf_reaching_the_goal():
    pts = curve((20, 400.0, 90.0), (25, 230.0, 85.0))
    crf, kbps, vmaf = at_goal(pts, 89.0)
    assert crf == 21 and 230 < kbps < 400 and vmaf == pytest.approx(89.0)
    assert at_goal(pts, 80.0)[0] == 25  # never beyond the highest CRF probed
    assert at_goal(pts, 90.5) is None  # even the lowest CRF falls short


def test_at_goal_reads_no_curve_across_a_wide_gap_between_probes():
    # grain at 1280x720 (sample scores): 98.7 at CRF 38, 87.1 at 40, 72.8 at 42, 68.1 at 43, 54.8 at 49
    far = curve((38, 668.0, 98.7), (49, 474.0, 54.8))
    assert at_goal(far, 82.7)[0] == 38  # the curve through them read 84.4 at CRF 43
    closer = curve((38, 668.0, 98.7), (42, 514.0, 72.8), (49, 474.0, 54.8))
    assert at_goal(closer, 82.7)[0] == 39  # 40 reads 84.4, but 41 then 77.8: a cliff (the next test)
    assert at_goal(closer, 60.0)[0] == 42  # between 42 and 49 only the probes count


def test_at_goal_steps_back_from_a_cliff():
    cliff = curve((38, 668.0, 98.7), (40, 629.0, 87.1), (42, 514.0, 72.8))
    # CRF 41 reads about 80 and 42 is 72.8: a step the title's curve may lie away costs more than 3 points
    assert at_goal(cliff, 79.0)[0] == 40
    # on a gentle curve the highest CRF reaching the goal stays
    gentle = curve((20, 400.0, 90.0), (25, 230.0, 85.0))
    assert at_goal(gentle, 87.0)[0] == 23


def test_the_top_rung_saturates_but_gives_up_little():
    assert goal_for(97.0, None, top=True) == pytest.approx(97.0 - TOP_GIVE_VMAF)
    assert goal_for(95.2, None, top=True) == SATURATION_VMAF
    assert goal_for(93.0, None, top=True) == 93.0  # not saturated: the fixed quality
    assert goal_for(97.0, None, top=False) == 97.0
    assert goal_for(97.0, 93.0, top=False) == 93.0  # vmaf=93 asked


def easy_ladder() -> list[Fixed]:
    """A still picture: the bigger size reaches each lower definition's quality for fewer bits."""
    return [
        Fixed("LD", *LD, 400, curve((16, 210.0, 62.0), (22, 160.0, 58.0), (28, 115.0, 49.0))),
        Fixed("SD", *SD, 800, curve((13, 410.0, 79.0), (19, 300.0, 77.0), (25, 240.0, 73.0), (30, 170.0, 61.0))),
        Fixed("HD", *HD, 1800, curve((9, 930.0, 96.4), (15, 685.0, 95.4), (21, 520.0, 93.5), (27, 370.0, 87.0))),
    ]


def test_a_bigger_size_wins_where_it_reaches_the_quality_for_fewer_bits():
    choices = choose_ladder(easy_ladder())
    ld, sd, hd = choices
    assert (ld.width, ld.height) == SD and ld.crf is not None and ld.kbps_predicted < 210 * 0.95
    assert ld.vmaf_predicted >= ld.goal == pytest.approx(62.0)
    assert (sd.width, sd.height) == HD and sd.vmaf_predicted >= sd.goal
    assert (hd.width, hd.height) == HD and hd.goal == pytest.approx(96.4 - TOP_GIVE_VMAF)
    assert all(c.kept for c in choices)
    assert "848x478" in ld.why and "640x360" in ld.why  # says what it compared
    # the player's promises: rates ascend, sizes never descend, caps never above the fixed rate
    rates = [c.kbps_predicted for c in choices]
    areas = [c.width * c.height for c in choices]
    assert rates == sorted(rates) and len(set(rates)) == 3 and areas == sorted(areas)
    assert all(c.chosen_kbps <= c.fixed_kbps for c in choices)


def test_a_bigger_size_near_the_definitions_cap_is_checked_under_that_cap():
    # hlskit's sample, 8 s: 1280x720 reaches SD's quality for fewer bits on probes run under HD's cap,
    # at a rate near SD's own cap (800): probed again under that cap (up_checks), where x264's VBV
    # squeezes it, SD keeps its fixed encode; the same curve far below the cap needs no check
    sd = Fixed("SD", *SD, 800, curve((30, 1037.0, 71.8), (33, 800.0, 68.0), (35, 622.0, 61.3)))
    near = Fixed("HD", *HD, 1800, curve((37, 885.0, 78.2), (40, 700.0, 68.5), (42, 581.0, 60.6)))
    first = choose_ladder([sd, near])
    crf = first[0].crf
    assert first[0].width == HD[0] and crf is not None and up_checks([sd, near], first) == {0: [crf - 2, crf]}
    squeezed = dataclasses.replace(sd, up=curve((crf - 2, 790.0, 66.0), (crf, 726.0, 64.0)))
    kept = choose_ladder([squeezed, near])[0]
    assert kept.crf is None and (kept.width, kept.height) == SD
    assert up_checks([squeezed, near], choose_ladder([squeezed, near])) == {}  # checked once
    far = Fixed("HD", *HD, 1800, curve((37, 350.0, 78.2), (40, 300.0, 68.5), (42, 250.0, 60.6)))
    taken = choose_ladder([sd, far])
    assert (taken[0].width, taken[0].crf) == (HD[0], crf) and up_checks([sd, far], taken) == {}


def test_a_size_below_the_one_chosen_for_the_definition_below_is_never_taken():
    ladder = easy_ladder()
    # make SD's own size the cheapest for SD, while LD went up to SD's size: allowed (equal);
    # then make LD's size cheapest for SD: refused, LD took the bigger size
    ladder[0] = Fixed("LD", *LD, 400, curve((10, 1000.0, 95.0), (16, 210.0, 62.0), (22, 160.0, 58.0)))
    choices = choose_ladder(ladder)
    assert [c.width for c in choices] == sorted(c.width for c in choices)


def test_hard_content_keeps_the_fixed_encodes():
    hard = [
        Fixed("LD", *LD, 400, curve((31, 570.0, 70.0), (37, 350.0, 60.0), (43, 245.0, 41.0))),
        Fixed("SD", *SD, 800, curve((25, 1450.0, 92.0), (31, 790.0, 82.0), (37, 445.0, 61.0), (43, 245.0, 39.0))),
        Fixed("HD", *HD, 1800, curve((19, 3300.0, 99.0), (25, 1650.0, 93.0), (31, 900.0, 83.0), (37, 620.0, 70.0))),
    ]
    choices = choose_ladder(hard)
    assert [c.crf for c in choices] == [None, None, None]
    assert [(c.width, c.height) for c in choices] == [LD, SD, HD]
    assert [c.chosen_kbps for c in choices] == [400, 800, 1800]
    assert all("keeps the fixed ABR encode" in c.why for c in choices)


def test_a_definition_that_would_not_look_better_is_dropped():
    flat = curve((10, 900.0, 99.0), (16, 500.0, 98.8), (22, 300.0, 98.5), (28, 200.0, 97.0))
    ladder = [Fixed("LD", *LD, 400, flat), Fixed("SD", *SD, 800, flat), Fixed("HD", *HD, 1800, flat)]
    choices = choose_ladder(ladder)
    kept = [c for c in choices if c.kept]
    assert kept and kept[0].definition == "LD"
    for c in choices:
        if not c.kept:
            assert c.why.startswith("dropped")
    for lower, upper in zip(kept, kept[1:]):
        assert upper.vmaf_predicted >= lower.vmaf_predicted + MIN_GAIN_VMAF


def test_a_lower_definition_costing_nearly_as_much_as_the_next_is_dropped():
    ladder = [
        # neither can save: LD's fixed encode spends ~400 kb/s, SD's (a still picture) only ~460
        Fixed("LD", *LD, 400, curve((20, 420.0, 70.0), (26, 300.0, 60.0))),
        Fixed("SD", *SD, 800, curve((14, 460.0, 91.0), (20, 450.0, 90.0))),
    ]
    ld, sd = choose_ladder(ladder)
    assert sd.kept and not ld.kept and "SD looks better" in ld.why


def test_capped_crf_fixed_ladder_is_anchored_at_its_crf():
    pts = curve((17, 800.0, 95.0), (23, 400.0, 90.0), (29, 200.0, 82.0))
    (only,) = choose_ladder([Fixed("HD", *HD, 1800, pts, crf=23)])
    assert only.vmaf_fixed == pytest.approx(90.0) and only.kbps_fixed == pytest.approx(400.0)
