"""hls.js, Shaka Player and video.js/VHS (npm, stock settings, a page of another origin, headless
Chromium) against every kind of package: the browser rows of the client table. Each test plays
its sessions side by side, one page each."""

from __future__ import annotations

import pytest

from tests.clients import browsers
from tests.clients.expected import EXPECTED, PLAYS, ROW
from tests.clients.packages import CODECS, FRAMES, KINDS, SECONDS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def origin():
    server = browsers.page_server()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("player", browsers.PLAYERS)
def test_plays_every_kind_to_the_end(clients_site, browser, origin, player):
    kinds = [*KINDS, CODECS]
    assert {kind: EXPECTED[ROW[player]][kind] for kind in kinds} == dict.fromkeys(kinds, PLAYS)
    states = browsers.play_all(browser, origin, [(player, clients_site.url(kind)) for kind in kinds])
    for kind, seen in zip(kinds, states, strict=True):
        assert seen["errors"] == [], (kind, seen)
        assert seen["ended"] and seen["time"] >= SECONDS - 0.1, (kind, seen)
        # Chromium here has no HEVC decoder: on the codec package the players play H.264 or AV1.
        assert seen["frames"] >= FRAMES - 2 and seen["sizes"], (kind, seen)


def test_no_frame_without_a_token(clients_site, browser, origin):
    """Given 5 s (with a token each starts within about one), no player shows a frame."""
    sessions = [(p, clients_site.url(k, token=False)) for p in browsers.PLAYERS for k in ("ts-aes", "fmp4-aes")]
    for (player, src), seen in zip(sessions, browsers.play_all(browser, origin, sessions, timeout=5), strict=True):
        assert seen["frames"] == 0 and not seen["ended"] and seen["sizes"] == [], (player, src, seen)
