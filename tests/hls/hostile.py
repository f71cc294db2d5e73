"""Hostile HTTP sources for the validator: a real server on 127.0.0.1 that drips, hangs, or never
ends its body, beside ordinary files. Used by tests/hls/test_hostile.py (fast settings) and
bench/reliability_validate.py (default budgets).

Paths (anything else is served from ``folder``, 404 when missing):
  /drip/<name>     200, a large Content-Length, then one byte every ``drip`` seconds
  /driphead/<name> the status line itself one byte every ``drip`` seconds
  /hang/<name>     accepts the connection and never answers
  /endless/<name>  200 without Content-Length, TS-looking bytes (or playlist lines) forever
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TS_PACKET = b"\x47\x1f\xff\x10" + b"\xff" * 184  # null packets: valid TS sync, no content


class HostileServer:
    def __init__(self, folder: Path, *, drip: float = 1.0):
        self.folder = Path(folder)
        self.drip = drip
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _route(self, head: bool) -> None:
                kind, _, name = self.path.lstrip("/").partition("/")
                name = name.split("?", 1)[0]
                if kind == "drip":
                    self.send_response(200)
                    self.send_header("Content-Length", str(10**9))
                    self.send_header("Content-Type", _type(name))
                    self.end_headers()
                    if not head:
                        self._slowly(b"#" * 10**6)
                elif kind == "driphead":
                    self._slowly(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789")
                elif kind == "hang":
                    server.stop.wait()
                elif kind == "endless":
                    self.send_response(200)
                    self.send_header("Content-Type", _type(name))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    if head:
                        return
                    chunk = b"#EXTM3U\n" + b"#EXTINF:1,\nx.ts\n" * 4096 if name.endswith(".m3u8") else TS_PACKET * 2048
                    while not server.stop.is_set():
                        self.wfile.write(chunk)
                else:
                    path = server.folder / self.path.lstrip("/").split("?", 1)[0]
                    if not path.is_file():
                        self.send_response(404)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    body = path.read_bytes()
                    self.send_response(200)
                    self.send_header("Content-Type", _type(path.name))
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if not head:
                        self.wfile.write(body)

            def _slowly(self, data: bytes) -> None:
                for i in range(len(data)):
                    if server.stop.wait(server.drip):
                        return
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()

            def do_GET(self):  # noqa: N802
                try:
                    self._route(False)
                except OSError:
                    pass  # the client hung up: that is the point

            def do_HEAD(self):  # noqa: N802
                try:
                    self._route(True)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        time.sleep(0.05)
        self.httpd.shutdown()
        self.httpd.server_close()


def _type(name: str) -> str:
    return "application/vnd.apple.mpegurl" if name.endswith(".m3u8") else "video/mp2t"


def media_playlist(uris: list[str], *, duration: float = 2.0, extra: str = "") -> str:
    """A VOD media playlist listing ``uris`` as segments."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2", "#EXT-X-PLAYLIST-TYPE:VOD"]
    if extra:
        lines.append(extra)
    for u in uris:
        lines += [f"#EXTINF:{duration:.3f},", u]
    return "\n".join(lines + ["#EXT-X-ENDLIST", ""])


def master_playlist(uris: list[str]) -> str:
    lines = ["#EXTM3U"]
    for u in uris:
        lines += ['#EXT-X-STREAM-INF:BANDWIDTH=500000,CODECS="avc1.42c00d,mp4a.40.2",RESOLUTION=320x180', u]
    return "\n".join(lines + [""])
