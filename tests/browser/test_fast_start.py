"""A fast start in a player hlskit does not control: stock hls.js (no configuration) on a page of
another origin, the network held at 700 kb/s by Chromium's own emulation, starts an hlskit package
made with the defaults (4 s segments, the lowest variant first) on its lowest definition and plays
it without an error.

The test asserts what the player chose, not how many seconds it took: the time to the first frame
is a measurement of the machine as much as of the package, so it lives in bench/players.py
(bench/RESULTS.md, "Stock players: first frame at 700 kb/s").
"""

from __future__ import annotations

import re
import urllib.request
from urllib.parse import urlencode

import pytest

from hlskit.cli.abrcheck import throttle
from hlskit.hls.master import START_DEFINITION, VariantInfo, order_variants

SLOW_KBPS = 700


def first_frame(browser, other_origin: str, src: str) -> dict:
    context = browser.new_context(viewport={"width": 800, "height": 500})
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        page.goto(f"{other_origin}/stock-hlsjs.html")  # the page and hls.js load unthrottled
        page.wait_for_function("() => typeof window.startPlayer === 'function'")
        throttle(cdp, SLOW_KBPS)
        page.evaluate("(src) => startPlayer(src)", src)
        page.wait_for_function("() => bench.firstFrame !== null || bench.errors.length", timeout=30_000, polling=100)
        return page.evaluate(
            "() => ({...bench, seconds: (bench.firstFrame - bench.start) / 1000, origin: location.origin,"
            " level: hls.levels[bench.fragments[0].level].height, levels: hls.levels.map((l) => l.height)})"
        )
    finally:
        context.close()


def _variant(name: str, bandwidth: int) -> VariantInfo:
    return VariantInfo(
        name, f"{name}/index.m3u8", bandwidth, bandwidth, "avc1.64001f", None, None, 1, 6.0, 1, 6, bandwidth
    )


def test_order_variants_takes_the_start_definition():
    variants = [
        _variant("HD", 2_100_000),
        _variant("LD", 550_000),
        _variant("mobile", 340_000),
        _variant("SD", 970_000),
    ]
    assert START_DEFINITION == "lowest"
    assert [v.definition for v in order_variants(variants)] == ["mobile", "LD", "SD", "HD"]
    assert [v.definition for v in order_variants(variants, start="HD")] == ["HD", "mobile", "LD", "SD"]
    assert [v.definition for v in order_variants(variants, start="4K")] == ["mobile", "LD", "SD", "HD"]
    assert order_variants([]) == []


@pytest.mark.slow
def test_master_lists_the_lowest_variant_first(fast_start):
    master = urllib.request.urlopen(f"{fast_start.base}/media/{fast_start.content_id}/master.m3u8").read().decode()
    uris = re.findall(r"#EXT-X-STREAM-INF:.*\n(\S+)", master)
    bandwidths = [int(b) for b in re.findall(r"#EXT-X-STREAM-INF:.*?\bBANDWIDTH=(\d+)", master)]
    assert uris[0] == "LD/index.m3u8" and bandwidths[0] == min(bandwidths), master
    assert (
        "#EXT-X-TARGETDURATION:4"
        in urllib.request.urlopen(f"{fast_start.base}/media/fast/LD/index.m3u8").read().decode()
    )


@pytest.mark.browser
@pytest.mark.slow
def test_stock_hls_js_on_another_origin_starts_on_the_lowest_definition_at_700_kbps(browser, fast_start, other_origin):
    src = f"{fast_start.base}/media/{fast_start.content_id}/master.m3u8?{urlencode({'token': fast_start.token})}"
    assert other_origin != fast_start.base
    run = first_frame(browser, other_origin, src)
    assert not run["errors"], run
    assert run["origin"] == other_origin and run["firstFrame"] is not None, run
    # It started on the lowest definition, not on one it cannot fetch in time: the first media
    # segment hls.js loaded belongs to the lowest level of the three the master offers.
    assert len(run["levels"]) == 3 and run["level"] == min(run["levels"]), run
