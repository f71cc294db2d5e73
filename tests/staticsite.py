"""A static site on 127.0.0.1 (another origin than hlskit's server): pages and player files from memory,
or a folder's files (QuietFiles)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer


class QuietFiles(SimpleHTTPRequestHandler):
    """A folder's files, without a log line per request, nor a traceback when a browser drops a
    request it no longer needs (hls.js aborts fetches when it switches)."""

    def log_message(self, format, *args):  # noqa: A002 - http.server's name
        pass

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass


def serve_files(files: dict[str, tuple[bytes, str]]) -> ThreadingHTTPServer:
    """Serve ``files`` ({path: (body, Content-Type)}, the query ignored) on a free port, in a thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            body, kind = files.get(self.path.split("?")[0], (None, None))
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
