"""The player's JavaScript units (bus, ring buffer, levels store, controller teardown) under
Node's built-in test runner: fast, no browser. The browser tests cover the same page for real."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def test_player_js_units_pass_under_node():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: install Node.js 18.19 or later (apt-get install nodejs), as `make player` needs")
    files = sorted(str(p.relative_to(HERE)) for p in HERE.glob("*.test.mjs"))
    assert files, f"no *.test.mjs in {HERE}"
    done = subprocess.run(
        [node, "--import", "./register.mjs", "--test", *files],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-4000:]
    # The runner's TAP summary: tests ran (a file that fails to load is a failure, never zero tests).
    summary = dict(line[2:].split(" ", 1) for line in report.splitlines() if line.startswith("# ") and " " in line[2:])
    assert int(summary["pass"]) >= len(files) and int(summary["fail"]) == 0, report[-2000:]
