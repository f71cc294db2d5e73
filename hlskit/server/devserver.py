"""Werkzeug's threaded server for `hlskit serve` and `hlskit play` (production uses gunicorn)."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable

from werkzeug.serving import WSGIRequestHandler, make_server

from ..domain.errors import ConfigError


class QueryFreeHandler(WSGIRequestHandler):
    """Access log lines without query strings: they carry playback tokens."""

    def log_request(self, code="-", size="-"):
        path = self.path.split("?", 1)[0]
        self.log("info", '"%s %s" %s %s', self.command, path, getattr(code, "value", code), size)


def run(app, host: str, port: int, announce: Callable[[int], None]) -> None:
    """Serve ``app`` until Ctrl+C; ``announce(port)`` runs once listening (port 0 picks one)."""
    # Werkzeug prints its own lines and exits when the port is taken: check first, say it in one.
    if port:
        try:
            with socket.create_server((host, port)):
                pass
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror}): stop what uses it or pass another --port."
            )
    server = make_server(host, port, app, threaded=True, request_handler=QueryFreeHandler)
    announce(server.port)
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
