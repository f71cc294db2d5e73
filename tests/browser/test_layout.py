"""The page is usable at 1280x720 and in a 400 px wide window; /play/<id> without a token works
on a non-production server (the page mints one)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BOXES = """() => {
  const box = (sel) => { const r = document.querySelector(sel).getBoundingClientRect();
    return {x: r.x, y: r.y, w: r.width, h: r.height, right: r.right, bottom: r.bottom}; };
  return {
    scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
    video: box('video'), panel: box('.panel'), log: box('.log-wrap'),
    buttons: [...document.querySelectorAll('#menu-buttons button')].map((b) => {
      const r = b.getBoundingClientRect(); return {text: b.textContent, x: r.x, right: r.right, w: r.width, h: r.height}; }),
  };
}"""


@pytest.mark.parametrize("width, height", [(1280, 720), (400, 800)])
def test_layout_is_usable(browser, served, artifacts, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(f"{served.base}/play/{served.content_id}")  # no token: minted by the server
        page.wait_for_function("() => window.hlskitPlayer && hlskitPlayer.state().currentTime > 0.5", timeout=30_000)
        b = page.evaluate(BOXES)
        assert b["scrollWidth"] <= b["innerWidth"], "the page scrolls sideways"
        assert 0 <= b["video"]["x"] and b["video"]["right"] <= width
        assert len(b["buttons"]) == len(served.levels) + 1
        for button in b["buttons"]:
            assert button["x"] >= 0 and button["right"] <= width and button["h"] >= 28, button
        if width >= 900:
            assert b["video"]["w"] >= width * 0.6 and b["video"]["bottom"] <= height
            assert b["panel"]["x"] >= b["video"]["right"], "the live panel should sit beside the video"
        else:
            assert b["video"]["w"] >= width - 40
            assert b["panel"]["y"] >= b["video"]["bottom"], "the live panel should follow the video"
            assert b["panel"]["right"] <= width and b["log"]["right"] <= width
        page.locator('#menu-buttons button[data-level="0"]').click()  # reachable and clickable
        page.wait_for_function("() => hlskitPlayer.state().chosenLevel === 0")
        page.screenshot(path=str(artifacts / f"player-{width}x{height}.png"), full_page=True)
    finally:
        context.close()
