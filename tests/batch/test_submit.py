"""`hlskit submit` end to end: real FFmpeg on tiny clips, the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hlskit.domain.runs import JobState
from hlskit.stores.jobs import JobStore

pytestmark = pytest.mark.slow


# The installed console script: `python -m hlskit.cli` re-imports cli.py (a circular import).
HLSKIT = str(Path(sys.executable).with_name("hlskit"))


def hlskit(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([HLSKIT, *args], capture_output=True, text=True, cwd=cwd, env=dict(os.environ), timeout=300)


def test_two_good_rows_are_packaged_and_bad_rows_are_reported_by_line(tmp_path, hlskit_env, make_clip, png):
    folder = tmp_path / "in"
    folder.mkdir()
    make_clip(folder / "a.mp4", width=320, height=180, seconds=2)
    make_clip(folder / "b.mp4", width=320, height=180, seconds=3)
    (folder / "c.mp4").write_text("this is not a video\n")
    os.replace(png, folder / "logo.png")
    (folder / "batch.csv").write_text(
        "source,ladder,watermark,text_watermark,clip,segment_duration,content_id\n"
        "a.mp4,LD,logo.png:TopRight:0.05:0.05:0.12,Preview {definition},,1,row-a\n"  # line 2
        "b.mp4,LD,,,abc+1,1,row-bad\n"  # line 3: bad clip
        "c.mp4,LD,,,,1,row-c\n"  # line 4: not media
        "b.mp4,LD,,,00:00:01+1.5,1,row-b\n"  # line 5
    )
    out = tmp_path / "out"
    done = hlskit("submit", "batch.csv", "--out", str(out), cwd=folder)

    assert done.returncode == 2, done.stderr  # a row had bad input
    assert "Traceback" not in done.stderr
    errors = [l for l in done.stderr.splitlines() if l.startswith("error: ")]
    assert len(errors) == 2, done.stderr
    assert errors[0].startswith("error: line 3: clip start 'abc' is not a time")
    assert errors[1].startswith("error: line 4: ")
    assert "batch: 2 of 4 rows published; failed: line 3, 4" in done.stderr

    assert sorted(p.name for p in out.iterdir()) == ["row-a", "row-b"]  # nothing half-written, nothing for c
    store = JobStore.open(hlskit_env.store_config())
    for cid in ("row-a", "row-b"):
        manifest = json.loads((out / cid / "hlskit.json").read_text())
        assert [d["name"] for d in manifest["definitions"]] == ["LD"]
        assert manifest["definitions"][0]["state"] == "TranscodeSuccess"
        assert (out / cid / "master.m3u8").is_file() and (out / cid / "LD" / "index.m3u8").is_file()
        jobs = store.list(cid)
        assert [(j.definition, j.state) for j in jobs] == [("LD", JobState.SUCCESS)]  # one job per definition
    assert store.list("row-bad") == []  # refused before any job was made
    b = json.loads((out / "row-b" / "hlskit.json").read_text())
    assert b["clip"] == {"seek": 1.0, "duration": 1.5}
    a = json.loads((out / "row-a" / "hlskit.json").read_text())
    assert [w["kind"] for w in a["watermarks"]] == ["image", "text"]


def test_check_only_encodes_nothing(tmp_path, hlskit_env, make_clip):
    make_clip(tmp_path / "a.mp4", seconds=2)
    (tmp_path / "batch.csv").write_text("source,ladder\na.mp4,LD\na.mp4,ZZ\n")
    done = hlskit("submit", "batch.csv", "--check", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 2
    assert "error: line 3: unknown definition 'ZZ'" in done.stderr
    assert "batch: 1 good rows, 1 bad rows" in done.stderr
    assert not (tmp_path / "out").exists()


def test_unreadable_batch_file_is_one_sentence(tmp_path, hlskit_env):
    done = hlskit("submit", "nope.csv", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: batch file nope.csv does not exist: check the path."


def test_help_has_an_example(tmp_path):
    done = hlskit("submit", "--help", cwd=tmp_path)
    assert done.returncode == 0 and "Example:" in done.stdout and "hlskit submit samples/batch.csv" in done.stdout
