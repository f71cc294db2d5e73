"""The player in real headless Chromium against a real hlskit server on 127.0.0.1."""

from __future__ import annotations

import time

import pytest

from hlskit.config import load_settings
from hlskit.keys.tokens import make_token, token_secret

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STATE = "() => window.hlskitPlayer.state()"


def tampered(token: str) -> str:
    return token[:-2] + ("AA" if not token.endswith("AA") else "BB")


def wait_state(page, condition: str, timeout: float = 30):
    """Wait until ``condition`` (JS over ``s``, the player state) holds; fail with the state."""
    try:
        page.wait_for_function(
            f"() => {{ const s = window.hlskitPlayer && window.hlskitPlayer.state(); return s && ({condition}); }}",
            timeout=timeout * 1000,
            polling=250,
        )
    except Exception:
        s = page.evaluate(STATE) if page.evaluate("() => !!window.hlskitPlayer") else None
        brief = {k: s[k] for k in ("currentTime", "currentLevel", "loadLevel", "errors", "levels")} if s else None
        pytest.fail(f"player never reached `{condition}`; state: {brief}; console: {page.console_messages[-10:]}")
    return page.evaluate(STATE)


def test_plays_encrypted_stream_with_token_and_records_it(page, served, artifacts):
    key_requests = []
    page.on("request", lambda r: key_requests.append(r) if "/keys/" in r.url else None)
    page.goto(served.play_url())
    s = wait_state(page, "s.currentTime > 3")

    assert [lv["name"] for lv in s["levels"]] == [d["name"] for d in served.levels]
    assert [(lv["width"], lv["height"]) for lv in s["levels"]] == [(d["width"], d["height"]) for d in served.levels]
    assert s["engine"] == "hls.js" and not [e for e in s["errors"] if e["fatal"]]
    # Keys came from the key service, with the token in the Authorization header (not the URL).
    assert s["keys"] and all(k["uri"].startswith(f"{served.base}/keys/{served.content_id}/") for k in s["keys"])
    assert key_requests
    for r in key_requests:
        assert r.headers.get("authorization") == f"Bearer {served.token}"
        assert "token=" not in r.url
        assert r.response() is not None and r.response().status == 200
    # Segments were decrypted by hls.js and the picture advanced past them.
    assert s["fragmentsDecrypted"] >= 2
    names = {e["name"] for e in s["events"]}
    assert {"manifestParsed", "keyLoaded", "fragDecrypted", "levelSwitched", "playbackStarted"} <= names
    assert s["videoWidth"] > 0 and s["currentDefinition"] in {d["name"] for d in served.levels}

    t1 = s["currentTime"]
    page.wait_for_timeout(1500)
    assert page.evaluate(STATE)["currentTime"] > t1

    # The panel and log say the same in words.
    assert page.locator('[data-stat="definition"]').inner_text().startswith(s["currentDefinition"])
    log = page.locator("#log").inner_text()
    assert "manifest parsed" in log and "key loaded" in log and "fragment decrypted" in log
    shot = artifacts / "player-playing.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000


def test_menu_choice_switches_definition(page, served):
    page.goto(served.play_url())
    s = wait_state(page, "s.currentTime > 1")
    top = len(s["levels"]) - 1
    target = 0 if s["currentLevel"] != 0 else top
    label = s["levels"][target]["name"]
    button = page.locator(f'#menu-buttons button[data-level="{target}"]')
    assert button.inner_text().startswith(label) and "×" in button.inner_text()
    button.click()
    s = wait_state(
        page, f"s.currentLevel === {target} && s.switches.length && s.switches[s.switches.length - 1].to === {target}"
    )
    assert s["autoLevelEnabled"] is False and s["chosenLevel"] == target
    assert s["switches"][-1]["auto"] is False
    assert button.get_attribute("aria-pressed") == "true"
    t = s["currentTime"]
    page.wait_for_timeout(1000)
    assert page.evaluate(STATE)["currentTime"] > t  # still playing after the switch

    page.locator('#menu-buttons button[data-level="-1"]').click()
    s = wait_state(page, "s.autoLevelEnabled === true")
    assert s["chosenLevel"] == -1


@pytest.mark.parametrize(
    "kind, words",
    [
        ("expired", "token expired"),
        ("tampered", "token signature not valid"),
        ("other-content", "token is for another content id"),
    ],
)
def test_wrong_token_is_refused_in_words_and_nothing_plays(page, served, kind, words):
    secret = token_secret(load_settings(home=str(served.home)).token_config())
    token = {
        "expired": make_token(secret, served.content_id, 60, now=time.time() - 3600),
        "tampered": tampered(served.token),
        "other-content": make_token(secret, "someone-else", 600),
    }[kind]
    page.goto(served.play_url(token=token))
    page.locator("#error").wait_for(state="visible", timeout=20_000)
    text = page.locator("#error-text").inner_text()
    assert text.startswith("The key service refused the key") and words in text, text
    assert "keyLoadError" in page.locator("#error-details").text_content()
    page.wait_for_timeout(1500)
    s = page.evaluate(STATE)
    assert s["currentTime"] == 0 and s["fragmentsDecrypted"] == 0 and not s["keys"]
    assert any(e["status"] == 403 for e in s["errors"])


def test_native_hls_fallback_plays_through_the_tokenised_url(page, served):
    """Chromium (like Safari) has native HLS: the token then travels in the playlist URL and the
    server's pass-through rewrites key URIs to carry it."""
    key_urls = []
    page.on("request", lambda r: key_urls.append(r.url) if "/keys/" in r.url else None)
    page.goto(served.play_url() + "&engine=native")
    if page.evaluate("() => !document.createElement('video').canPlayType('application/vnd.apple.mpegurl')"):
        pytest.fail("this Chromium has no native HLS: the native fallback cannot be exercised here")
    s = wait_state(page, "s.currentTime > 1")
    assert s["engine"] == "native" and s["videoWidth"] > 0 and not s["errors"]
    assert key_urls and all(f"token={served.token}" in u for u in key_urls)
    assert page.locator("#menu").is_hidden()  # the browser picks definitions itself

    page.goto(served.play_url(token=tampered(served.token)) + "&engine=native")
    page.locator("#error").wait_for(state="visible", timeout=20_000)
    assert page.locator("#error-text").inner_text().startswith("The browser could not play the stream")
    assert page.evaluate(STATE)["currentTime"] == 0
