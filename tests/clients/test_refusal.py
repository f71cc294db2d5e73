"""Without a playback token no client shows a frame of an encrypted package: the key service
answers 401, and the segments alone are ciphertext."""

from __future__ import annotations

import pytest

from tests.clients import players

pytestmark = pytest.mark.slow

RUNNERS = {"FFmpeg": players.ffmpeg, "mpv": players.mpv, "VLC": players.vlc, "GStreamer": players.gstreamer}
# GStreamer shows nothing of an encrypted fMP4 package even with a token (the table's note 1).
CASES = [(c, k) for c in RUNNERS for k in ("ts-aes", "fmp4-aes") if (c, k) != ("GStreamer", "fmp4-aes")]


@pytest.mark.parametrize("client, kind", CASES)
def test_no_frame_without_a_token(clients_site, client, kind):
    played = RUNNERS[client](clients_site.url(kind, token=False), timeout=10)  # hanging counts: nothing shown
    assert played.frames == 0, (client, kind, played.frames, played.log[-2000:])
