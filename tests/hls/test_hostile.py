"""The validator on hostile sources: every one is answered within its budget, with bounded memory,
no traceback, and valid JSON (fast settings here; bench/reliability_validate.py runs the defaults).

Elapsed times are checked only against generous ceilings (the budget plus slack): they prove the
run ended because of the budget, not how fast anything is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from hlskit.hls.validate import validate
from tests.conftest import HLSKIT, run_hlskit
from tests.hls.corpus import run_one
from tests.hls.hostile import HostileServer, master_playlist, media_playlist

FETCH, BUDGET = 1.0, 6.0
SLACK = 10.0  # ceiling = budget + slack: a loaded 2-core CI machine, never a speed claim
MIB = 1024 * 1024


@pytest.fixture
def hostile(tmp_path):
    server = HostileServer(tmp_path, drip=0.4)
    yield server, tmp_path
    server.close()


def _check(outcome, *, memory_mib: float | None = None):
    assert outcome.kind in ("report", "error"), outcome.detail
    json.loads(outcome.json_text)  # valid JSON either way
    assert outcome.seconds < BUDGET + SLACK
    if memory_mib is not None:
        assert outcome.peak_bytes < memory_mib * MIB, outcome.peak_bytes


def test_dripping_segment_is_cut_off_by_the_per_fetch_deadline(hostile):
    server, folder = hostile
    (folder / "drip.m3u8").write_text(media_playlist([f"{server.url}/drip/a.ts"]))
    out = run_one(f"{server.url}/drip.m3u8", fetch_timeout=FETCH, time_budget=BUDGET, trace_memory=True)
    _check(out, memory_mib=8)
    e2 = [f for f in out.data["findings"] if f["rule"] == "E2"]
    assert e2 and f"no complete answer within {FETCH:g} s" in e2[0]["message"]


def test_dripping_headers_and_hanging_server(hostile):
    server, folder = hostile
    for kind in ("driphead", "hang"):
        out = run_one(f"{server.url}/{kind}/index.m3u8", fetch_timeout=FETCH, time_budget=BUDGET)
        _check(out)
        assert out.kind == "error" and f"no complete answer within {FETCH:g} s" in out.detail


def test_endless_playlist_body_is_capped(hostile):
    server, _ = hostile
    out = run_one(f"{server.url}/endless/index.m3u8", fetch_timeout=5, time_budget=BUDGET, trace_memory=True)
    _check(out, memory_mib=40)  # the 16 MiB playlist cap, plus one copy
    assert out.kind == "error" and "over the 16 MiB cap" in out.detail


def test_endless_segment_body_is_counted_not_kept(hostile):
    server, folder = hostile
    (folder / "endless.m3u8").write_text(media_playlist([f"{server.url}/endless/a.ts"]))
    out = run_one(f"{server.url}/endless.m3u8", fetch_timeout=FETCH, time_budget=BUDGET, trace_memory=True)
    _check(out, memory_mib=8)
    assert "E2" in {f["rule"] for f in out.data["findings"]}


def test_a_master_of_hostile_variants_ends_within_the_run_budget(hostile):
    server, folder = hostile
    variants = [f"{server.url}/{k}/v.m3u8" for k in ("drip", "hang", "driphead", "drip", "hang", "driphead", "hang")]
    (folder / "master.m3u8").write_text(master_playlist(variants))
    out = run_one(f"{server.url}/master.m3u8", fetch_timeout=FETCH, time_budget=3.0)
    assert out.kind == "error" and out.seconds < 3.0 + SLACK
    assert "did not finish within its 3 s time budget" in out.detail and "--time-budget" in out.detail


def test_fifo_and_devices_are_refused(tmp_path):
    fifo = tmp_path / "seg.ts"
    os.mkfifo(fifo)
    os.mkfifo(tmp_path / "pipe.m3u8")
    (tmp_path / "index.m3u8").write_text(media_playlist(["seg.ts", "/dev/zero", "/dev/urandom"]))
    out = run_one(str(tmp_path / "index.m3u8"), fetch_timeout=FETCH, time_budget=BUDGET, trace_memory=True)
    _check(out, memory_mib=8)
    (e2,) = [f for f in out.data["findings"] if f["rule"] == "E2"]
    assert "seg.ts (it is a device, FIFO or socket, not a regular file)" in e2["message"]
    assert "/dev/zero" in e2["message"] and "/dev/urandom" in e2["message"]
    piped = run_one(str(tmp_path / "pipe.m3u8"), fetch_timeout=FETCH, time_budget=BUDGET)
    assert piped.kind == "error" and "not a regular file" in piped.detail


def _peak_rss_mib(*args: str) -> tuple[subprocess.CompletedProcess, float]:
    """Run `hlskit <args>` in a child and report that child's peak RSS (ru_maxrss of its own waiter)."""
    waiter = (
        "import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "sys.stdout.write(p.stdout); sys.stderr.write(p.stderr); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(p.returncode)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", waiter, *HLSKIT, *args], capture_output=True, text=True, timeout=BUDGET + 120
    )
    *errors, rss_kib = proc.stderr.strip().split("\n")
    proc.stderr = "\n".join(errors)
    return proc, int(rss_kib) / 1024


@pytest.mark.slow  # validates 200,000 segments in a subprocess, then a 16 MiB playlist
def test_huge_playlist_is_bounded(tmp_path, hlskit_env):
    n = 200_000
    (tmp_path / "huge.m3u8").write_text(media_playlist([f"s{i}.ts" for i in range(n)], duration=1.0))
    started = time.monotonic()
    proc, rss = _peak_rss_mib("validate", str(tmp_path / "huge.m3u8"), "--json", "--time-budget", "60")
    assert time.monotonic() - started < 60 + 60 and rss < 400, rss
    assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    if proc.returncode == 1:  # a slow machine may run out of the 60 s: then it says so (exit 2)
        assert report["variants"][0]["segments"] == n
        (e2,) = [f for f in report["findings"] if f["rule"] == "E2"]
        assert f"({n} in all)" in e2["message"]
    else:
        assert "time budget" in report["error"]
    # Over the 16 MiB cap: refused before parsing, with one sentence.
    (tmp_path / "bigger.m3u8").write_text("#EXTM3U\n" + "#EXTINF:1,\nsegment-name-padding.ts\n" * 700_000)
    big = run_one(str(tmp_path / "bigger.m3u8"), fetch_timeout=FETCH, time_budget=BUDGET, trace_memory=True)
    _check(big, memory_mib=40)
    assert big.kind == "error" and "16 MiB cap" in big.detail


def test_tokens_are_masked_everywhere(hostile, hlskit_env):
    server, folder = hostile
    text = media_playlist(
        [f"{server.url}/a.ts?token=SEG-SECRET", "b.ts?x=1&MtsHlsUriToken=MTS-SECRET"],
        extra=f'#EXT-X-KEY:METHOD=AES-128,URI="{server.url}/k?token=KEY-SECRET",IV=0x{"00" * 16}',
    )
    (folder / "t.m3u8").write_text(text)
    url = f"{server.url}/t.m3u8?token=URL-SECRET"
    for args in ((url,), (url, "--json"), (f"{server.url}/gone.m3u8?token=URL-SECRET", "--json")):
        proc = run_hlskit("validate", *args, "--key-token", "BEARER-SECRET", timeout=60)
        both = proc.stdout + proc.stderr
        assert "SECRET" not in both, both
        assert ("token=…" in both or "token=\\u2026" in both) and "Traceback" not in both
        if "--json" in args:
            json.loads(proc.stdout)
    assert proc.returncode == 2 and json.loads(proc.stdout)["error"].startswith("cannot read")


def test_cli_exit_2_prints_json_and_one_sentence(tmp_path, hlskit_env):
    for target in (str(tmp_path / "missing.m3u8"), "/dev/zero", str(tmp_path)):
        proc = run_hlskit("validate", target, "--json", timeout=60)
        assert proc.returncode == 2, proc.stderr
        data = json.loads(proc.stdout)
        assert set(data) == {"error", "exit_code"} and data["exit_code"] == 2
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    proc = run_hlskit("validate", str(tmp_path / "x.m3u8"), "--time-budget", "soon", "--json", timeout=60)
    assert (
        proc.returncode == 2 and "--time-budget 'soon' is not a number of seconds" in json.loads(proc.stdout)["error"]
    )


def test_in_process_budget_also_bounds_the_python_api(hostile):
    server, _ = hostile
    with pytest.raises(Exception) as info:
        validate(f"{server.url}/hang/x.m3u8", fetch_timeout=FETCH, time_budget=BUDGET)
    assert type(info.value).__name__ == "InputError"
