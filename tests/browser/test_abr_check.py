"""`hlskit abr-check` end to end: real server, real Chromium, network shaped through CDP."""

from __future__ import annotations

import json
import math
import re
import socket
import subprocess
import sys
import urllib.request

import pytest

pytestmark = pytest.mark.browser

# Fragments loaded after the network opens up, before the first one at the top definition.
MAX_SEGMENTS_TO_CLIMB = 6


def declared_bandwidths(served) -> list[int]:
    master = urllib.request.urlopen(f"{served.base}/media/{served.content_id}/master.m3u8").read().decode()
    return sorted(int(b) for b in re.findall(r"#EXT-X-STREAM-INF:.*?\bBANDWIDTH=(\d+)", master))


def abr_check(served, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    url = f"{served.base}/media/{served.content_id}/master.m3u8"
    return subprocess.run(
        [sys.executable, "-m", "hlskit", "abr-check", url, "--token", served.token, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
def test_slow_network_settles_on_lowest_then_climbs_to_highest(served, artifacts):
    bws = declared_bandwidths(served)
    assert len(bws) >= 3
    # Below the second-lowest definition, comfortably above the lowest.
    slow = round(math.sqrt(bws[0] * bws[1]) / 1000)
    assert bws[0] / 1000 < slow < bws[1] / 1000
    # hls.js's default slow estimate (9 s half-life) gains only about ln2/9 s of bandwidth per bit
    # downloaded: after a throttled phase it needs ~4 MB of LD segments (a minute of this clip) to
    # trust a fast network. Shorter half-lives keep the same ABR logic and this test short.
    done = abr_check(
        served,
        "--profile",
        f"{slow}x10,0x20",
        "--ewma",
        "1,2",
        "--json",
        "--screenshot",
        str(artifacts / "abr-check.png"),
    )
    assert done.returncode == 0, done.stderr + done.stdout[-3000:]
    report = json.loads(done.stdout)
    levels = [lv["name"] for lv in report["levels"]]
    lowest, highest = levels[0], levels[-1]
    slow_phase, fast_phase = report["phases"]
    state = report["state"]
    assert report["ok"] and report["started"] and not [e for e in report["errors"] if e["fatal"]]

    # Throttled: the picture ends on the lowest definition, and the second half only loads it.
    assert slow_phase["level_at_end"] == lowest, slow_phase
    settle_from = (slow_phase["start"] + slow_phase["end"]) / 2
    late = [f for f in state["fragments"] if settle_from <= f["at"] <= slow_phase["end"]]
    assert late and {f["level"] for f in late} == {0}, late

    # Unthrottled: loading reaches the highest within a bounded number of segments, and it shows.
    after = [f for f in state["fragments"] if f["at"] >= fast_phase["start"]]
    top = len(levels) - 1
    climb = next(i for i, f in enumerate(after) if f["level"] == top)
    assert climb <= MAX_SEGMENTS_TO_CLIMB, [(f["level"], f["sn"]) for f in after]
    assert report["fragments_to_top"] == climb
    # The first frame, on the page's clock, from the player's start (throttled from the start).
    assert report["first_frame"] == round(state["firstFrameAt"] - state["startedAt"], 3)
    assert 0 < report["first_frame"] < 15
    assert fast_phase["level_at_end"] == highest, fast_phase
    assert any(s["to_name"] == highest and s["phase"] == 1 for s in report["load_switches"])
    ups = [s for s in report["switches"] if s["phase"] == 1 and s["up"] and s["auto"]]
    assert ups and ups[-1]["to_name"] == highest
    assert (artifacts / "abr-check.png").stat().st_size > 10_000


@pytest.mark.slow
def test_exits_non_zero_when_switching_does_not_happen(served):
    bws = declared_bandwidths(served)
    # Both phases stay between the lowest and the second-lowest definition: no switch up can happen.
    a, b = round(bws[1] / 1000 * 0.6), round(bws[1] / 1000 * 0.8)
    assert bws[0] / 1000 < a
    done = abr_check(served, "--profile", f"{a}x4,{b}x4")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"result: no automatic switch up after the network went from {a} kb/s to {b} kb/s" in done.stdout
    assert "definitions: LD 640x360" in done.stdout and "played:" in done.stdout
    assert served.token not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_bad_profile_and_unreachable_server_are_one_line_errors():
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x.m3u8"
    done = subprocess.run(
        [sys.executable, "-m", "hlskit", "abr-check", url, "--profile", "fast"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stderr.startswith("error: --profile 'fast' is not a profile"), done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "hlskit", "abr-check", url, "--profile", "0x2,500x2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert f"error: could not open http://127.0.0.1:{port}/play?src=" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_default_profile_and_settings_prove_switching_on_a_short_clip(served):
    """What a user runs first: no options, on a clip about as long as the sample."""
    done = abr_check(served)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "result: automatic switching happened" in done.stdout
    assert re.search(r"\(up, phase 2", done.stdout), done.stdout
    assert re.search(r"^time to first frame: \d+\.\d\d s", done.stdout, re.M), done.stdout
    m = re.search(r"^fragments to the top definition \(HD\) after the network returned: (\d+)$", done.stdout, re.M)
    assert m and int(m.group(1)) <= MAX_SEGMENTS_TO_CLIMB, done.stdout
