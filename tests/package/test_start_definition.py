"""--start-definition: which variant the master lists first (where players without a bandwidth
estimate start), checked against the ladder, kept by `hlskit stitch`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hlskit.domain.plan import PackageOptions
from hlskit.pipeline import run_package
from tests.conftest import run_hlskit

pytestmark = pytest.mark.slow


def first_variant(master: Path) -> str:
    lines = master.read_text().splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("#EXT-X-STREAM-INF"))
    return lines[i + 1].split("/")[0]


def test_the_named_definition_comes_first_and_stays_first_after_restitch(make_clip, hlskit_env, tmp_path):
    source = make_clip(tmp_path / "wide.mp4", width=960, height=540, seconds=2)
    env = {"HLSKIT_HOME": str(hlskit_env.home), "HLSKIT_X264_PRESET": "ultrafast"}
    out = tmp_path / "out"
    args = ["package", str(source), "--out", str(out), "--ladder", "LD,SD", "--segment-duration", "2"]
    done = run_hlskit(*args, "--content-id", "sdfirst", "--start-definition", "sd", env=env)
    assert done.returncode == 0, done.stderr
    package = out / "sdfirst"
    assert first_variant(package / "master.m3u8") == "SD"  # names match without regard to case
    manifest = json.loads((package / "hlskit.json").read_text())
    assert manifest["start_definition"] == "SD"
    assert [v["definition"] for v in manifest["master"]["variants"]] == ["SD", "LD"]
    restitched = run_hlskit("stitch", str(package), env=env)
    assert restitched.returncode == 0, restitched.stderr
    assert first_variant(package / "master.m3u8") == "SD"

    # The default: the lowest first.
    done = run_hlskit(*args, "--content-id", "lowfirst", env=env)
    assert done.returncode == 0, done.stderr
    assert first_variant(out / "lowfirst" / "master.m3u8") == "LD"


def test_a_name_outside_the_ladder_is_one_sentence_listing_the_definitions(make_clip, hlskit_env, tmp_path):
    source = make_clip(tmp_path / "wide.mp4", width=960, height=540, seconds=1)
    env = {"HLSKIT_HOME": str(hlskit_env.home)}
    done = run_hlskit(
        "package",
        str(source),
        "--out",
        str(tmp_path / "out"),
        "--ladder",
        "LD,SD",
        "--start-definition",
        "FHD",
        env=env,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: --start-definition FHD is not a definition of this package's ladder (LD, SD): give one of them or lowest."
    )
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()


def test_the_setting_falls_back_to_the_lowest_where_a_ladder_lacks_it(make_clip, hlskit_env, tmp_path):
    """The setting applies to every source: a small source without HD still packages, lowest first."""
    source = make_clip(tmp_path / "small.mp4", width=640, height=360, seconds=1)
    settings = hlskit_env.replace(start_definition="HD", x264_preset="ultrafast")
    result = run_package(str(source), str(tmp_path / "out"), settings, PackageOptions(content_id="small"))
    assert result.ok and result.manifest.start_definition == "lowest"
    assert first_variant(Path(result.dir) / "master.m3u8") == "LD"
