"""The player's controllers tear down what they set up (issue 20 item 7): re-creating the player
for a new source leaves no bus handler, DOM listener or timer behind, a destroyed player leaves
none at all, and the records a long session fills stay at their caps."""

from __future__ import annotations

import pytest

from .test_player import wait_state

pytestmark = pytest.mark.browser

# Runs before the page's own scripts: counts live timers and the listeners on the page's
# elements, independently of the player's own bookkeeping (hlskitPlayer.debug()).
WATCH = """
(() => {
  const live = { intervals: new Set(), timeouts: new Set() };
  const { setInterval: si, clearInterval: ci, setTimeout: st, clearTimeout: ct } = window;
  window.setInterval = function (fn, ms, ...a) { const id = si.call(window, fn, ms, ...a); live.intervals.add(id); return id; };
  window.clearInterval = function (id) { live.intervals.delete(id); return ci.call(window, id); };
  window.setTimeout = function (fn, ms, ...a) {
    const id = st.call(window, function (...b) { live.timeouts.delete(id); return typeof fn === 'function' ? fn.apply(this, b) : undefined; }, ms, ...a);
    live.timeouts.add(id);
    return id;
  };
  window.clearTimeout = function (id) { live.timeouts.delete(id); return ct.call(window, id); };
  const listeners = new Map(); // element → "type capture" → Set of functions
  const key = (type, options) => `${type} ${Boolean(typeof options === 'boolean' ? options : options && options.capture)}`;
  const { addEventListener: add, removeEventListener: remove } = EventTarget.prototype;
  EventTarget.prototype.addEventListener = function (type, fn, options) {
    if (this instanceof Element && fn) {
      if (!listeners.has(this)) listeners.set(this, new Map());
      const byType = listeners.get(this);
      if (!byType.has(key(type, options))) byType.set(key(type, options), new Set());
      byType.get(key(type, options)).add(fn);
    }
    return add.call(this, type, fn, options);
  };
  EventTarget.prototype.removeEventListener = function (type, fn, options) {
    const byType = listeners.get(this);
    if (byType && byType.has(key(type, options))) byType.get(key(type, options)).delete(fn);
    return remove.call(this, type, fn, options);
  };
  // Listeners on elements still in the page, by element id (the video, the seek bar, ...).
  window.watched = () => {
    const perElement = {};
    for (const [el, byType] of listeners) {
      if (!el.isConnected) continue;
      let n = 0;
      for (const fns of byType.values()) n += fns.size;
      if (n) perElement[el.id || el.tagName] = (perElement[el.id || el.tagName] || 0) + n;
    }
    return { intervals: live.intervals.size, timeouts: live.timeouts.size, listeners: perElement };
  };
})();
"""

SNAPSHOT = "() => ({debug: hlskitPlayer.debug(), watched: watched()})"


def playing(page, src_part: str = "master.m3u8"):
    """Wait until the player for a source containing ``src_part`` has played a second."""
    return wait_state(page, f"s.src.includes({src_part!r}) && s.currentTime > 1 && s.fragments.length >= 1")


def test_recreating_the_player_leaves_nothing_behind(page, served):
    page.add_init_script(WATCH)
    page.goto(served.play_url())
    first = playing(page)
    assert len(first["levels"]) == len(served.levels)
    after_first = page.evaluate(SNAPSHOT)
    assert after_first["debug"]["listeners"] > 10 and after_first["watched"]["intervals"] >= 3
    assert after_first["watched"]["listeners"].get("video", 0) > 5  # ours and hls.js's

    # Another source (one definition's own media playlist), then the master again, three times.
    media = f"{served.base}/media/{served.content_id}/{served.levels[0]['name']}/index.m3u8"
    master = f"/media/{served.content_id}/master.m3u8"
    for _ in range(3):
        page.evaluate("([src, token]) => hlskitPlayer.load(src, token)", [media, served.token])
        s = playing(page, "/index.m3u8")
        assert len(s["levels"]) == 1 and s["src"] == media, s["levels"]
        assert page.locator("#menu-buttons button").count() == 2  # Auto and the one definition
        page.evaluate("([src, token]) => hlskitPlayer.load(src, token)", [master, served.token])
        s = playing(page)
        assert [lv["name"] for lv in s["levels"]] == [d["name"] for d in served.levels]
        assert s["errors"] == [] and s["fragmentsDecrypted"] >= 1
    again = page.evaluate(SNAPSHOT)
    # As many bus handlers, per event, and as many intervals and DOM listeners, per element, as
    # one player has: each destroyed player took its own away (hls.js's included).
    assert again["debug"]["byEvent"] == after_first["debug"]["byEvent"]
    assert again["debug"]["listeners"] == after_first["debug"]["listeners"]
    assert again["watched"]["intervals"] == after_first["watched"]["intervals"]
    assert again["watched"]["listeners"] == after_first["watched"]["listeners"]

    # Destroyed: nothing at all is left, and the video element no longer loads anything.
    page.evaluate("hlskitPlayer.destroy()")
    page.wait_for_function("() => watched().timeouts === 0", timeout=10_000)  # pending ones fire or are cleared
    gone = page.evaluate(SNAPSHOT)
    assert gone["debug"]["destroyed"] and gone["debug"]["listeners"] == 0 and gone["debug"]["timers"] == 0
    assert gone["watched"] == {"intervals": 0, "timeouts": 0, "listeners": {}}
    assert page.evaluate("() => document.querySelector('video').getAttribute('src')") is None
    assert page.locator("#menu-buttons button").count() == 0
    assert page.evaluate("() => window.hlskitHls") is None


def test_records_stay_at_their_caps_after_more_than_the_cap(page, served):
    """A long session, compressed: more fragments, chart samples and log lines than the caps."""
    page.goto(served.play_url())
    playing(page)
    # The chart is hidden while it is flooded, so that this measures the records, not drawing.
    page.evaluate("() => { document.getElementById('chart').style.display = 'none'; }")
    buffers = page.evaluate("hlskitPlayer.debug().buffers")
    samples_cap = buffers["chart.samples"]["cap"]
    fragments_cap = buffers["state.fragments"]["cap"]
    assert samples_cap >= 1000 and fragments_cap >= 1000  # real caps, not tiny ones made for a test
    more = max(samples_cap, fragments_cap) + 250
    page.evaluate(
        """(n) => {
          const c = hlskitPlayer.controllers();
          for (let i = 0; i < n; i++) c.chart.sample();
          for (let i = 0; i < n; i++) hlskitPlayer.bus.emit('fragLoaded', {at: 1e6 + i, level: 0, sn: 1e6 + i, bytes: 1, ms: 1});
          for (let i = 0; i < n; i++) hlskitPlayer.bus.emit('log', {name: 'flood', text: String(i)});
        }""",
        more,
    )
    buffers = page.evaluate("hlskitPlayer.debug().buffers")
    assert buffers["chart.samples"]["length"] == samples_cap and buffers["chart.samples"]["total"] >= more
    for name in ("state.fragments", "chart.fragments", "state.events"):
        assert buffers[name]["length"] == buffers[name]["cap"] < buffers[name]["total"], (name, buffers[name])
    s = page.evaluate("hlskitPlayer.state()")
    chart = page.evaluate("hlskitPlayer.chart()")
    # The newest are kept, in order; the oldest went first. (Playback goes on: real fragments may
    # arrive between the flooded ones.)
    flooded = [f["sn"] - 1e6 for f in s["fragments"] if f["sn"] >= 1e6]
    assert len(s["fragments"]) == fragments_cap
    assert flooded == sorted(flooded) and flooded[-1] == more - 1 and flooded[0] >= more - fragments_cap
    assert len(chart["samples"]) == samples_cap and len(chart["fragments"]) == buffers["chart.fragments"]["cap"]
    # The log kept its newest lines: the last flood line, not the first ones (playback goes on, so
    # other lines may follow).
    lines = page.evaluate("() => [...document.querySelectorAll('#log li')].map((li) => li.textContent)")
    flood = [int(t.rsplit(" ", 1)[1]) for t in lines if "flood " in t]
    assert 100 <= len(lines) < more and flood[-1] == more - 1 and flood[0] > more - len(lines) - 1
