"""Per-title: a still, flat clip gets fewer bits than a noisy, high-motion one; never more than the fixed ladder."""

from __future__ import annotations

import json
import subprocess

import pytest

from hlskit.domain.errors import InputError
from hlskit.domain.ladder import choose_ladder
from hlskit.pipeline.pertitle import choose, parse_target
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
    assert sum(r.definition.video_kbps for r in flat) < 0.75 * sum(r.definition.video_kbps for r in noisy)
    # the measurements behind the choice are real scores, with more bits scoring at least as well
    for c in flat_choices + noisy_choices:
        assert 0 < c.vmaf_low <= c.vmaf_fixed + 0.5 <= 100.5 and c.chosen_kbps <= c.fixed_kbps
    assert max(c.vmaf_fixed - c.vmaf_low for c in noisy_choices) > max(c.vmaf_fixed - c.vmaf_low for c in flat_choices)


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
        assert rung["chosen_kbps"] <= rung["fixed_kbps"] and 0 < rung["vmaf_low"] <= 100
    kept = {r["definition"] for r in analysis["rungs"] if r["kept"]}
    assert set(measured["per-title"]) == kept
    for name, bps in measured["per-title"].items():  # measured from the segments, not only declared
        assert bps <= measured["auto"][name] * 1.05
    # the encoder was asked for the chosen rates (a flat clip needs fewer bits than even those)
    assert any(r["chosen_kbps"] < r["fixed_kbps"] for r in analysis["rungs"])
    asked = {d["name"]: d["video_kbps"] for d in manifest["definitions"]}
    assert asked == {r["definition"]: r["chosen_kbps"] for r in analysis["rungs"] if r["kept"]}
