"""Why VLC 3.0 stops in the middle of an encrypted fMP4 package (the client table's note 3), shown.

VLC decrypts each downloaded block as it reads it and strips the PKCS#7 padding (RFC 8216
§4.3.2.4) only from a block it knows to be the segment's last. Its download thread marks a segment
finished one read after the last bytes arrive (a read of zero bytes, when Content-Length says
nothing is left), so when its reader is waiting for those bytes it takes them before the mark and
keeps the padding; the MP4 demuxer then reads the 1-16 padding bytes as a box header and loses the
rest of the stream. Through a server that sends no Content-Length, the last read is the short one
that ends the download, the race is gone, and the same package plays to the end every time.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.clients import players
from tests.clients.packages import FRAMES

pytestmark = pytest.mark.slow


def without_content_length(upstream: str) -> ThreadingHTTPServer:
    """A proxy to ``upstream`` that answers HTTP/1.0 with no Content-Length: the body ends at close."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self):  # noqa: N802 - http.server's name
            try:
                with urllib.request.urlopen(upstream + self.path) as answer:
                    status, kind, body = answer.status, answer.headers.get("Content-Type"), answer.read()
            except urllib.error.HTTPError as exc:
                status, kind, body = exc.code, exc.headers.get("Content-Type"), exc.read()
            self.send_response(status)
            if kind:
                self.send_header("Content-Type", kind)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_vlc_plays_encrypted_fmp4_to_the_end_when_the_server_sends_no_content_length(clients_site, ffmpeg):
    proxy = without_content_length(clients_site.server.url)
    try:
        base = f"http://127.0.0.1:{proxy.server_address[1]}"
        for kind in ("fmp4-aes", "fmp4-rotation"):
            url = clients_site.url(kind, "SD/index.m3u8").replace(clients_site.server.url, base)
            played = players.vlc(url)
            assert played.ended and played.frames >= FRAMES - 1, (kind, played.frames, played.log[-2000:])
            reference = players.reference_frames(clients_site.url(kind, "SD/index.m3u8"), ffmpeg)
            assert players.nearest(played.last, reference) >= FRAMES - 2, kind
    finally:
        proxy.shutdown()
        proxy.server_close()
