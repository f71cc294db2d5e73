"""The fast tier cannot silently grow heavy: `make test-fast` runs with the environment that makes
an unmarked encode, browser, database or Debian-FFmpeg test fail, and says which mark it lacks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.tiers import TIER_VARIABLE

REPO = Path(__file__).resolve().parents[1]


def fast_target() -> tuple[dict[str, str], str]:
    """(environment, pytest -m expression) of the Makefile's test-fast target."""
    makefile = (REPO / "Makefile").read_text()
    tier = re.search(r"^FAST_TIER := (.+)$", makefile, re.M)
    recipe = re.search(r"^test-fast:.*\n\t(.+)$", makefile, re.M)
    assert tier and recipe, "the Makefile has no FAST_TIER / test-fast target"
    assert recipe.group(1).startswith("$(FAST_TIER) $(BIN)/python -m pytest")
    env = dict(pair.split("=", 1) for pair in tier.group(1).split())
    marks = re.search(r'-m "([^"]+)"', recipe.group(1))
    assert marks
    return env, marks.group(1)


def test_make_test_fast_deselects_every_heavy_mark_and_breaks_heavy_tools():
    env, marks = fast_target()
    assert marks == "not slow and not browser and not db"
    assert env[TIER_VARIABLE] == "fast"
    assert env["IMAGEIO_FFMPEG_EXE"].startswith("/nonexistent/")
    declared = (REPO / "pyproject.toml").read_text()
    assert all(f'"{m}: ' in declared for m in ("slow", "browser", "db")) and "--strict-markers" in declared


PROBE = """
import subprocess
import pytest
from hlskit.engines.encode import ffmpeg_exe
from tests.tiers import debian_ffmpeg


def test_encodes_through_the_fixture(make_clip, tmp_path):
    make_clip(tmp_path / "a.mp4")


def test_encodes_by_itself(tmp_path):
    subprocess.run([ffmpeg_exe(), "-f", "lavfi", "-i", "testsrc2=d=1", str(tmp_path / "a.mp4")], check=True)


def test_drives_chromium(browser):
    pass


def test_needs_postgres(pg_url):
    pass


def test_decodes_with_debian_ffmpeg():
    debian_ffmpeg()


@pytest.mark.slow
def test_marked_slow(make_clip):
    pass


def test_unit():
    assert 1 + 1 == 2
"""


def test_an_unmarked_heavy_test_fails_in_the_fast_tier_and_names_its_mark(tmp_path):
    env, marks = fast_target()
    (tmp_path / "test_probe.py").write_text(PROBE)
    run_env = {**os.environ, **env, "PYTHONPATH": str(REPO), "COLUMNS": "400"}  # whole summary lines
    run_env.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider", "-p", "tests.conftest"]
        + ["-p", "tests.postgres.conftest", "-m", marks, str(tmp_path / "test_probe.py")],
        cwd=tmp_path,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    summary = {
        line.split(" - ")[0].split("::")[-1]: line for line in out.splitlines() if re.match(r"(FAILED|ERROR) ", line)
    }
    assert set(summary) == {
        "test_encodes_through_the_fixture",
        "test_encodes_by_itself",
        "test_drives_chromium",
        "test_needs_postgres",
        "test_decodes_with_debian_ffmpeg",
    }, out
    assert "1 passed, 1 deselected" in out, out  # the unit test runs; the marked one is left out
    assert "mark it @pytest.mark.slow" in summary["test_encodes_through_the_fixture"]
    assert "mark it @pytest.mark.browser" in summary["test_drives_chromium"]
    assert "mark it @pytest.mark.db" in summary["test_needs_postgres"]
    assert "mark it @pytest.mark.slow" in summary["test_decodes_with_debian_ffmpeg"]
    assert "/nonexistent/" in summary["test_encodes_by_itself"]  # the bundled FFmpeg is not there


# A path of a system tool, an argv list starting with a bare tool name (looked up on PATH), or a
# PATH lookup of one.
TOOLS = re.compile(
    r"""/usr/bin/(ffmpeg|ffprobe|chromium|gst-launch|vlc|mpv)\b"""
    r"""|(?<![\w\])])\[\s*["'](ffmpeg|ffprobe|gst-launch-1\.0|vlc|cvlc|mpv)["']\s*,"""
    r"""|which\(\s*["'](ffmpeg|ffprobe|chromium|gst-launch-1\.0|vlc|cvlc|mpv)["']"""
)


def test_no_test_reaches_a_system_tool_around_the_guards():
    """Debian's FFmpeg and ffprobe are reached through tests/tiers.py, the other system players
    through tests/clients/players.need (which asks it too), so a fast test cannot use one unnoticed."""
    offenders = []
    for path in sorted((REPO / "tests").rglob("*.py")):
        if path.name in ("tiers.py", "test_tiers.py"):
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if TOOLS.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert offenders == []
