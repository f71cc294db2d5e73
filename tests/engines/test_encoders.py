"""Encoder arguments per codec: one keyframe grid for all, the rate from the rung, the run's rate
control or the rung's own CRF, and the VBV cap that bounds the declared BANDWIDTH."""

from __future__ import annotations

import pytest

from hlskit.domain.errors import InputError
from hlskit.domain.ladder import Definition, Rung
from hlskit.engines.encoders import SVT_AV1_PRESET, X264_PRESETS, check_rate_control, maxrate_kbps, video_args
from hlskit.engines.h264 import level_for

HD = Definition("HD", 1280, 1800, 128)


def rung(codec: str = "h264", crf: int | None = None, kbps: int = 1800) -> Rung:
    return Rung(Definition("HD", 1280, kbps, 128), 1280, 720, codec, crf)


def args(r: Rung, rate_control: str = "abr", crf: int = 23, preset: str = "veryfast") -> list[str]:
    return video_args(r, fps=30.0, preset=preset, rate_control=rate_control, crf=crf, gop=2, gop_frames=60)


def opt(a: list[str], flag: str) -> str | None:
    return a[a.index(flag) + 1] if flag in a else None


GRID = ["-g", "60", "-keyint_min", "60", "-force_key_frames", "expr:gte(t,n_forced*2)"]


@pytest.mark.parametrize("codec", ["h264", "hevc", "av1"])
def test_every_codec_gets_the_same_keyframe_grid(codec):
    a = args(rung(codec))
    i = a.index("-g")
    assert a[i : i + 6] == GRID


def test_h264_is_high_profile_at_the_lowest_level_with_scene_cuts_off():
    a = args(rung())
    assert a[:2] == ["-c:v", "libx264"] and opt(a, "-profile:v") == "high" and opt(a, "-level:v") == "3.1"
    assert opt(a, "-sc_threshold") == "0" and opt(a, "-preset") == "veryfast"
    assert (opt(a, "-b:v"), opt(a, "-maxrate"), opt(a, "-bufsize"), opt(a, "-crf")) == ("1800k", "2700k", "3600k", None)


def test_hevc_is_hvc1_with_idr_keyframes_and_no_open_gop():
    a = args(rung("hevc", kbps=1170))
    assert a[:4] == ["-c:v", "libx265", "-tag:v", "hvc1"] and opt(a, "-forced-idr") == "1"
    params = dict(p.split("=") for p in opt(a, "-x265-params").split(":"))
    assert params == {"scenecut": "0", "open-gop": "0", "keyint": "60", "min-keyint": "60", "log-level": "error"}
    assert (opt(a, "-b:v"), opt(a, "-maxrate"), opt(a, "-bufsize")) == ("1170k", "1755k", "2340k")


@pytest.mark.parametrize("preset", X264_PRESETS)
def test_av1_maps_each_x264_preset_to_an_svt_preset(preset):
    a = args(rung("av1", kbps=990), preset=preset)
    assert a[:2] == ["-c:v", "libsvtav1"] and opt(a, "-preset") == str(SVT_AV1_PRESET[preset])
    assert opt(a, "-svtav1-params") == "scd=0:enable-overlays=0"


def test_svt_av1_is_capped_only_in_crf_mode():
    vbr = args(rung("av1", kbps=990))
    assert opt(vbr, "-b:v") == "990k" and opt(vbr, "-maxrate") is None and opt(vbr, "-bufsize") is None
    crf = args(rung("av1", kbps=990), rate_control="capped-crf", crf=35)
    assert opt(crf, "-crf") == "35" and opt(crf, "-maxrate") == "1485k" and opt(crf, "-b:v") is None


def test_svt_presets_run_from_slowest_to_fastest_like_x264s():
    numbers = [SVT_AV1_PRESET[p] for p in X264_PRESETS]
    assert numbers == sorted(numbers, reverse=True) and set(SVT_AV1_PRESET) == set(X264_PRESETS)


@pytest.mark.parametrize(
    "rate_control, run_crf, rung_crf, expect",
    [
        ("abr", 23, None, ("-b:v", "1800k")),
        ("capped-crf", 23, None, ("-crf", "23")),
        ("abr", 23, 27, ("-crf", "27")),  # per-title: the rung's own CRF wins
        ("capped-crf", 20, 27, ("-crf", "27")),
    ],
)
def test_the_rate_comes_from_the_rung_s_crf_else_the_run_s_rate_control(rate_control, run_crf, rung_crf, expect):
    a = args(rung(crf=rung_crf), rate_control=rate_control, crf=run_crf)
    assert opt(a, expect[0]) == expect[1]
    assert opt(a, "-maxrate") == "2700k"  # capped either way: BANDWIDTH stays bounded
    assert ("-b:v" in a) != ("-crf" in a)


def test_maxrate_is_one_and_a_half_times_the_rate():
    assert [maxrate_kbps(rung(kbps=k)) for k in (400, 800, 1801)] == [600, 1200, 2701]


@pytest.mark.parametrize(
    "preset, rc, crf, words",
    [
        ("turbo", "abr", 23, "--preset must be one of"),
        ("veryfast", "cbr", 23, "--rate-control must be abr or capped-crf, got 'cbr'"),
        ("veryfast", "capped-crf", 52, "--crf must be a whole number from 0 to 51"),
        ("veryfast", "capped-crf", -1, "--crf must be a whole number"),
        ("veryfast", "abr", True, "--crf must be a whole number"),
        ("veryfast", "abr", 23.5, "--crf must be a whole number"),
    ],
)
def test_bad_rate_control_settings_are_one_sentence(preset, rc, crf, words):
    with pytest.raises(InputError, match=words):
        check_rate_control(preset, rc, crf)


@pytest.mark.parametrize("preset", X264_PRESETS)
def test_every_x264_preset_and_the_crf_bounds_pass(preset):
    check_rate_control(preset, "capped-crf", 0)
    check_rate_control(preset, "abr", 51)


@pytest.mark.parametrize(
    "w, h, fps, kbps, level",
    [
        (320, 180, 30, 600, "2.1"),
        (640, 360, 30, 600, "3.0"),
        (1280, 720, 30, 2700, "3.1"),
        (1280, 720, 60, 2700, "3.2"),
        (1920, 1080, 30, 4500, "4.0"),
        (1920, 1080, 30, 30000, "4.1"),  # the bit rate alone lifts the level
        (1920, 1080, 60, 4500, "4.2"),
        (3840, 2160, 30, 9000, "5.1"),
        (3840, 2160, 60, 9000, "5.2"),
        (7680, 4320, 30, 9000, "5.2"),  # beyond every level: the highest
    ],
)
def test_the_h264_level_is_the_lowest_that_fits(w, h, fps, kbps, level):
    assert level_for(w, h, fps, kbps) == level
