"""Per-title: a still, flat clip gets fewer bits than a noisy, high-motion one; never more than the fixed ladder."""

from __future__ import annotations

import json
import subprocess

import pytest

from hlskit.domain.errors import InputError
from hlskit.domain.ladder import choose_ladder
from hlskit.pipeline.pertitle import _crf_for, choose, parse_target
from hlskit.pipeline.probe import probe
from tests.conftest import run_hlskit

CONTENT = {
    "flat": "color=c=0x406080:s=960x540:r=25:d=4,drawbox=x=100:y=100:w=300:h=80:color=white:t=fill",
    "noisy": "testsrc2=s=960x540:r=25:d=4,noise=alls=30:allf=t+u",
}


def _clip(tmp_path, ffmpeg, kind: str):
    """A near-lossless clip of one CONTENT kind."""
    path = tmp_path / f"{kind}.mp4"
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            CONTENT[kind],
            "-c:v",
            "libx264",
            "-crf",
            "12",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
    )
    return path


def _per_title(tmp_path, ffmpeg, kind: str):
    path = _clip(tmp_path, ffmpeg, kind)
    media = probe(path)
    fixed = choose_ladder(media.video.display_width, media.video.display_height)
    rungs, choices = choose(ffmpeg, str(path), media, fixed, preset="veryfast")
    return fixed, rungs, choices


def test_flat_content_gets_fewer_bits_than_noisy_content_and_never_more_than_fixed(tmp_path, ffmpeg):
    fixed, flat, flat_choices = _per_title(tmp_path, ffmpeg, "flat")
    _, noisy, noisy_choices = _per_title(tmp_path, ffmpeg, "noisy")
    assert [r.name for r in fixed] == ["LD", "SD"]
    by_name = {r.name: r.definition.video_kbps for r in fixed}
    for rung in flat + noisy:
        assert rung.definition.video_kbps <= by_name[rung.name]  # never above the fixed ladder
    # the flat clip is encoded at constant quality under a lowered cap; the noisy one needs its bits
    assert all(r.crf is not None for r in flat)
    assert sum(r.definition.video_kbps for r in flat) < 0.75 * sum(r.definition.video_kbps for r in noisy)
    assert sum(c.kbps_predicted for c in flat_choices) < 0.75 * sum(c.kbps_predicted for c in noisy_choices)
    # the measurements behind the choice are real: more CRF, fewer bits and no better VMAF
    for c in flat_choices + noisy_choices:
        low, high = c.probes
        assert high["crf"] > low["crf"] and high["kbps"] <= low["kbps"] * 1.05
        assert 0 < high["vmaf"] <= low["vmaf"] + 0.5 <= 100.5 and c.chosen_kbps <= c.fixed_kbps
        assert c.crf is None or (low["crf"] <= c.crf <= high["crf"] and c.kbps_predicted < c.kbps_fixed_probe)

    # noise costs VMAF faster as the CRF rises: the flat clip barely notices
    def loss(choices):
        return max(c.probes[0]["vmaf"] - c.probes[1]["vmaf"] for c in choices)

    assert loss(noisy_choices) > loss(flat_choices) + 1


def test_target_option_is_checked():
    assert parse_target("per-title") is None and parse_target("per-title:vmaf=93") == 93.0
    for bad in ("per-title:vmaf=abc", "per-title:vmaf=150", "per-title:psnr=40"):
        with pytest.raises(InputError, match="per-title:vmaf=N"):
            parse_target(bad)


def test_per_title_package_records_its_analysis_and_stays_at_or_below_the_fixed_ladder(tmp_path, ffmpeg):
    src = _clip(tmp_path, ffmpeg, "flat")
    env = {"HLSKIT_HOME": str(tmp_path / "home")}
    measured = {}
    for ladder in ("auto", "per-title"):
        done = run_hlskit(
            "package",
            str(src),
            "--out",
            str(tmp_path / ladder),
            "--content-id",
            "t",
            "--ladder",
            ladder,
            "--segment-duration",
            "2",
            env=env,
        )
        assert done.returncode == 0, done.stderr
        manifest = json.loads((tmp_path / ladder / "t" / "hlskit.json").read_text())
        measured[ladder] = {v["definition"]: v["average_bandwidth"] for v in manifest["master"]["variants"]}
    analysis = manifest["per_title"]
    assert analysis["seconds"] > 0 and [r["definition"] for r in analysis["rungs"]] == ["LD", "SD"]
    for rung in analysis["rungs"]:
        assert rung["chosen_kbps"] <= rung["fixed_kbps"] and 0 < rung["vmaf_fixed"] <= 100
        assert [p["crf"] for p in rung["probes"]] == sorted(p["crf"] for p in rung["probes"])
    kept = {r["definition"] for r in analysis["rungs"] if r["kept"]}
    assert set(measured["per-title"]) == kept
    for name, bps in measured["per-title"].items():  # measured from the segments, not only declared
        assert bps <= measured["auto"][name] * 1.05
    # the encoder was asked for the chosen CRF under a lowered cap (a flat clip needs fewer bits than even that)
    assert any(r["chosen_kbps"] < r["fixed_kbps"] and r["crf"] is not None for r in analysis["rungs"])
    asked = {d["name"]: d["video_kbps"] for d in manifest["definitions"]}
    assert asked == {r["definition"]: r["chosen_kbps"] for r in analysis["rungs"] if r["kept"]}


def test_the_crf_choice_interpolates_between_the_probes_and_never_beyond():
    probes = [(20, 400.0, 90.0), (26, 200.0, 84.0)]  # (crf, kb/s, VMAF) of the two CRF probes
    crf, kbps, vmaf = _crf_for(89.0, probes, 500.0, 90.0)  # 1 point below the low probe: 1 CRF step
    assert crf == 21 and 200 < kbps < 400 and vmaf == pytest.approx(89.0)
    assert _crf_for(80.0, probes, 500.0, 90.0)[0] == 26  # easier goal: the high probe, never extrapolated
    assert _crf_for(90.5, probes, 500.0, 90.5) == (None, 500.0, 90.5)  # even the low probe falls short
    # constant quality would not save enough bits over the fixed encode: the fixed encode stays
    assert _crf_for(89.0, probes, 370.0, 90.0) == (None, 370.0, 90.0)  # 356 kb/s would save under 5%
