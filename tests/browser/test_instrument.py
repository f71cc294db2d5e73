"""The player as an instrument: live charts that agree with the player's record, the session as
JSON and CSV, in-page network shaping that hls.js's estimator sees, and the definition label."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest

from .test_abr_check import declared_bandwidths
from .test_player import wait_state

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BOTH = "() => ({state: hlskitPlayer.state(), chart: hlskitPlayer.chart()})"
# Pixels of the fragment-bit-rate colour (#4fa3ff) on the canvas: the chart was drawn.
DRAWN = """() => { const c = document.getElementById('chart'); const d = c.getContext('2d')
  .getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] === 0x4f && d[i + 1] === 0xa3 && d[i + 2] === 0xff) n++; return n; }"""


def test_chart_points_match_the_player_state_and_export(page, served, artifacts):
    page.goto(served.play_url())
    wait_state(
        page,
        "s.currentTime > 4 && s.fragments.length >= 3 && s.switches.length >= 1"
        " && s.at - s.fragments[s.fragments.length - 1].at > 1.2",
    )
    both = page.evaluate(BOTH)
    s, chart = both["state"], both["chart"]

    # Every loaded fragment is a point at its definition's declared BANDWIDTH, at the same moment.
    assert len(chart["fragments"]) == len(s["fragments"]) >= 3
    for point, frag in zip(chart["fragments"], s["fragments"]):
        assert (point["at"], point["level"], point["sn"]) == (frag["at"], frag["level"], frag["sn"])
        assert point["bitrate"] == s["levels"][frag["level"]]["bitrate"] > 0
        assert point["name"] == s["levels"][frag["level"]]["name"]
    # Every switch is marked where the record has it.
    assert [(p["at"], p["to"], p["name"]) for p in chart["switches"]] == [
        (w["at"], w["to"], w["name"]) for w in s["switches"]
    ]
    # Samples of estimate and buffer come from the same record: the latest one, taken before
    # this state() and well after the last fragment was loaded and buffered (hls.js updates its
    # estimate once a fragment is buffered), carries the same estimate.
    samples = chart["samples"]
    assert len(samples) >= 4 and all(0 <= x["buffer"] < 60 for x in samples)
    assert [x["at"] for x in samples] == sorted(x["at"] for x in samples)
    last = samples[-1]
    assert last["at"] <= s["at"]
    if last["at"] > s["fragments"][-1]["at"] + 0.5:
        assert last["estimate"] == s["bandwidthEstimate"]
    # Each sample's definition is the one the last switch before it put on the picture.
    checked = 0
    for x in samples:
        before = [w for w in s["switches"] if w["at"] < x["at"] - 0.05]
        if before and not any(abs(w["at"] - x["at"]) <= 0.05 for w in s["switches"]):
            assert x["level"] == before[-1]["to"], (x, s["switches"])
            checked += 1
    assert checked >= 3
    assert page.evaluate(DRAWN) > 50

    # The session downloads as JSON (state + points) and CSV (one row per point).
    with page.expect_download() as got:
        page.locator("#export-json").click()
    data = json.loads(open(got.value.path()).read())
    assert got.value.suggested_filename.endswith(".json")
    assert data["state"]["levels"] == s["levels"] and len(data["chart"]["fragments"]) >= len(chart["fragments"])
    with page.expect_download() as got:
        page.locator("#export-csv").click()
    rows = list(csv.DictReader(io.StringIO(open(got.value.path()).read())))
    frags = [r for r in rows if r["kind"] == "fragment"]
    assert len(frags) >= len(chart["fragments"])
    assert [int(r["bitrate"]) for r in frags[: len(chart["fragments"])]] == [p["bitrate"] for p in chart["fragments"]]
    assert {r["kind"] for r in rows} == {"fragment", "sample", "switch"}
    page.screenshot(path=str(artifacts / "player-chart.png"), full_page=True)


def test_label_on_video_and_bit_rates_in_the_menu(page, served):
    page.goto(served.play_url())
    s = wait_state(page, "s.currentTime > 1 && s.currentLevel >= 0")
    overlay = page.locator("#overlay")
    assert overlay.is_visible()
    page.wait_for_function(
        "() => document.getElementById('overlay').textContent.startsWith(hlskitPlayer.state().currentDefinition)"
    )
    box, video = overlay.bounding_box(), page.locator("video").bounding_box()
    assert video["x"] <= box["x"] and box["x"] + box["width"] <= video["x"] + video["width"]
    assert video["y"] <= box["y"] and box["y"] + box["height"] <= video["y"] + video["height"]
    assert "kb/s" in overlay.inner_text() or "Mb/s" in overlay.inner_text()
    page.locator("#overlay-toggle").uncheck()
    assert overlay.is_hidden()
    page.locator("#overlay-toggle").check()
    assert overlay.is_visible()
    for lv in s["levels"]:
        text = page.locator(f'#menu-buttons button[data-level="{lv["index"]}"]').inner_text()
        rate = f"{lv['bitrate'] / 1e6:.2f} Mb/s" if lv["bitrate"] >= 1e6 else f"{round(lv['bitrate'] / 1e3)} kb/s"
        assert text.startswith(lv["name"]) and text.endswith(rate), (text, rate)


def test_in_page_shaping_switches_down_then_back_to_the_top(page, served, artifacts):
    """No devtools: the page's own loader paces fragments; hls.js's estimate follows the pace."""
    levels = served.levels
    assert len(levels) >= 3
    declared = declared_bandwidths(served)
    slow = round(math.sqrt(declared[0] * declared[1]) / 1000)  # between the two lowest
    # Fast for 8 s (it climbs), paced for 14 s (it must come down), then free (back to the top).
    page.goto(served.play_url() + f"&ewma=1,2&loop=1&shape=0x8,{slow}x14,0")
    s = wait_state(page, "s.shaping.length === 1 && s.startedAt !== null")
    t0 = s["shaping"][0]["timeline"][1]["fromMs"] / 1000
    t1 = s["shaping"][0]["timeline"][1]["toMs"] / 1000
    top = len(levels) - 1  # from the served ladder: the state may not list levels yet
    s = wait_state(page, f"s.at > {t1} && s.fragments.some(f => f.at > {t1} && f.level === {top})", timeout=60)
    paced = [f for f in s["fragments"] if t0 + 4 <= f["at"] <= t1]
    after = [f for f in s["fragments"] if f["at"] > t1]
    # While paced, hls.js came down to a lower definition and its estimate fell near the pace.
    assert paced and min(f["level"] for f in paced) < top, s["fragments"]
    assert paced[-1]["level"] == 0, [(f["level"], round(f["at"] - t0, 1)) for f in s["fragments"]]
    estimates = [x["estimate"] for x in page.evaluate("hlskitPlayer.chart()")["samples"] if t0 + 4 <= x["at"] <= t1]
    assert estimates and min(estimates) < declared[1], (estimates, slow)
    # Each paced fragment took at least its bytes at the pace (the loader held it back).
    for f in [f for f in s["fragments"] if t0 + 1 <= f["at"] <= t1 - 1]:
        assert f["ms"] >= f["bytes"] * 8 / slow * 0.95, f
    # Free again: back to the top definition.
    assert after[-1]["level"] == top or any(f["level"] == top for f in after)
    assert "paced" not in page.locator("#shaping-status").inner_text()
    page.screenshot(path=str(artifacts / "player-shaping.png"), full_page=True)
