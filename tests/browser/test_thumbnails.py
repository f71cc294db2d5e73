"""Seek-bar previews in the player: hovering the page's seek bar shows the sprite tile of the
WebVTT thumbnails cue under the pointer, fetched like segments (no token)."""

from __future__ import annotations

import re
import urllib.request
from urllib.parse import quote

import pytest

from tests.package.test_thumbnails import parse_track

from .test_player import wait_state

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _position(style: str) -> tuple[float, float]:
    x, y = (float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", style))
    return x, y


def _hover(page, fraction: float) -> dict:
    box = page.locator("#seek").bounding_box()
    page.mouse.move(box["x"] + fraction * box["width"], box["y"] + box["height"] / 2)
    page.wait_for_function("() => !document.getElementById('seek-preview').hidden")
    return page.evaluate(
        """() => { const p = document.getElementById('seek-preview'); const b = p.getBoundingClientRect();
        return {position: p.style.backgroundPosition, image: p.style.backgroundImage, w: b.width, h: b.height,
                top: b.top, bottom: b.bottom, left: b.left, right: b.right, image_class: p.classList.contains('has-image'),
                time: document.getElementById('seek-time').textContent, duration: document.getElementById('video').duration}; }"""
    )


def test_hovering_the_seek_bar_shows_the_tile_of_the_cue(page, served, artifacts):
    cues = parse_track((served.dir / "thumbnails.vtt").read_text(encoding="utf-8"))
    assert len(cues) == 18  # 36 s, one tile every 2 s
    page.goto(served.play_url())
    wait_state(page, "s.currentTime > 0.5")
    page.wait_for_function(f"() => hlskitPlayer.thumbnails().length === {len(cues)}")
    seek = page.locator("#seek").bounding_box()
    assert page.locator("#seek").get_attribute("role") == "slider"
    for fraction in (0.3, 0.62, 0.97):
        shown = _hover(page, fraction)
        t = fraction * shown["duration"]
        cue = next(c for c in cues if c["start"] <= t < c["end"])
        assert shown["image_class"] and "/media/abr/sprite.jpg" in shown["image"], shown
        assert _position(shown["position"]) == (-cue["x"], -cue["y"]), (fraction, t, cue, shown)
        # The tile's own size (plus its 2 px border), above the bar, inside the bar's width.
        assert (round(shown["w"]) - 4, round(shown["h"]) - 4) == (cue["w"], cue["h"])
        assert (
            shown["bottom"] <= seek["y"] and seek["x"] <= shown["left"] and shown["right"] <= seek["x"] + seek["width"]
        )
        assert shown["time"] == f"{int(t) // 60}:{int(t) % 60:02d}"
        if fraction == 0.62:
            page.screenshot(path=str(artifacts / "player-thumbnail.png"), full_page=True)
    # Leaving the bar hides the preview; the sprite is served as a JPEG without a token, like segments.
    page.mouse.move(seek["x"] + seek["width"] / 2, seek["y"] + 200)
    page.wait_for_function("() => document.getElementById('seek-preview').hidden")
    with urllib.request.urlopen(f"{served.base}/media/abr/sprite.jpg") as r:
        assert r.headers["Content-Type"] == "image/jpeg" and r.read(3) == b"\xff\xd8\xff"
    with urllib.request.urlopen(f"{served.base}/media/abr/thumbnails.vtt") as r:
        assert r.headers["Content-Type"].startswith("text/vtt") and r.read(6) == b"WEBVTT"


def test_the_seek_bar_seeks_with_a_click_and_the_keyboard(page, served):
    page.goto(served.play_url() + "&autostart=1")
    wait_state(page, "s.currentTime > 0.5")
    box = page.locator("#seek").bounding_box()
    page.mouse.click(box["x"] + 0.5 * box["width"], box["y"] + box["height"] / 2)
    page.wait_for_function("() => Math.abs(document.getElementById('video').currentTime - 18) < 1.5")
    page.locator("#seek").focus()
    page.keyboard.press("Home")
    page.wait_for_function("() => document.getElementById('video').currentTime < 1.5")
    assert page.locator("#seek").get_attribute("aria-valuetext").endswith("of 0:36")


def test_a_stream_without_thumbnails_shows_the_time_alone_and_no_error(page, served):
    """/play?src= derives thumbnails.vtt next to the playlist: a media playlist has none there (404)."""
    src = f"{served.base}/media/abr/LD/index.m3u8"
    page.goto(f"{served.base}/play?src={quote(src, safe='')}&token={served.token}")
    wait_state(page, "s.currentTime > 0.5")
    shown = _hover(page, 0.5)
    assert not shown["image_class"] and shown["image"] == "" and shown["time"] == "0:18"
    assert page.locator("#error").is_hidden()
    assert page.evaluate("hlskitPlayer.thumbnails().length") == 0
    assert not [m for m in page.console_messages if m.startswith("pageerror")]


def test_the_player_reads_tracks_of_other_tools(page, served):
    """CRLF line ends, NOTE blocks, cue ids, mm:ss timestamps, cue settings, sprites elsewhere."""
    page.goto(served.play_url() + "&autostart=0")
    text = (
        "WEBVTT - thumbnails\r\n\r\nNOTE made elsewhere\r\n\r\n1\r\n00:00.000 --> 00:05.000 align:start\r\n"
        "img/a.jpg#xywh=0,0,128,72\r\n\r\n00:00:05.000 --> 00:01:10.500\r\nhttps://cdn.example/b.jpg#xywh=128,0,128,72"
        "\r\n\r\n00:01:10.500 --> 00:01:20.000\r\nno-fragment.jpg\r\n"
    )
    cues = page.evaluate(
        """async (text) => (await import('/player/static/js/thumbnails.js'))
             .parseThumbnails(text, 'http://127.0.0.1/media/x/thumbnails.vtt')""",
        text,
    )
    assert cues == [
        {"start": 0, "end": 5, "image": "http://127.0.0.1/media/x/img/a.jpg", "x": 0, "y": 0, "w": 128, "h": 72},
        {"start": 5, "end": 70.5, "image": "https://cdn.example/b.jpg", "x": 128, "y": 0, "w": 128, "h": 72},
    ]
