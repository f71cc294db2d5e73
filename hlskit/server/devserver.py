"""Werkzeug's threaded server for `hlskit serve` and `hlskit play` (production uses gunicorn)."""

from __future__ import annotations

import ipaddress
import re
import socket
import sys
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import WSGIRequestHandler, make_server

from ..domain.errors import ConfigError
from .responses import json_error

_QUERY = re.compile(r"\?[^\s'\"]*")
_LOG_ARG_MAX = 200  # a refused request line can be 64 KiB long: keep log lines short
LINGER_SECONDS = 1.0
LINGER_BYTES = 1 << 20
IDLE_SECONDS = 30.0  # a connection silent this long is closed: an idle or half-sent request holds a thread


def _redact(arg: object) -> object:
    if not isinstance(arg, str):
        return arg
    text = _QUERY.sub("?…", arg)  # query strings carry playback tokens
    return text if len(text) <= _LOG_ARG_MAX else text[:_LOG_ARG_MAX] + "…"


class QueryFreeHandler(WSGIRequestHandler):
    """Access log lines without query strings (they carry playback tokens), and protocol-level
    refusals (414 request line over 64 KiB, 431 header too long, 400 bad syntax) that end in one
    log line and a response the client can read, never a traceback."""

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(IDLE_SECONDS)  # a read waiting longer ends the connection

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # ``path`` is unset when the request line itself was refused (414, 400).
        path = getattr(self, "path", None) or "-"
        command = getattr(self, "command", None) or "-"
        path = _redact(path.split("?", 1)[0])
        self.log("info", '"%s %s" %s %s', command, path, getattr(code, "value", code), size)

    def log_error(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        self.log("error", format, *(_redact(a) for a in args))

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        self._linger = True
        super().send_error(code, message, explain)

    def finish(self) -> None:
        super().finish()
        if getattr(self, "_linger", False):
            _linger(self.connection)


def _linger(conn: socket.socket) -> None:
    """Half-close, then read what the client still sends, briefly, before the socket closes:
    closing with unread bytes makes TCP send a reset that can destroy the error response before
    the client reads it (RFC 9112 §9.6, "tear-down")."""
    try:
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(LINGER_SECONDS)
        drained = 0
        while drained < LINGER_BYTES:
            chunk = conn.recv(65536)
            if not chunk:
                break
            drained += len(chunk)
    except OSError:
        pass


def is_loopback(host: str) -> bool:
    """``localhost`` (and its subdomains, RFC 6761 §6.3) or a loopback address; a Host header's port and
    an IPv6 address's brackets allowed."""
    name = host.strip().lower()
    if name.startswith("["):  # [::1]:8000
        name = name[1 : name.find("]")]
    elif name.count(":") == 1:  # host:port (a bare IPv6 address has more colons)
        name = name.partition(":")[0]
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def loopback_names_only(app: Flask) -> None:
    """Answer only requests that name a loopback host. A page on any site whose name its owner points
    at 127.0.0.1 (DNS rebinding) is otherwise same-origin with this server: it could open /play, which
    mints a token for whoever asks outside production, and fetch keys with it."""

    @app.before_request
    def check_host() -> Response | None:
        if is_loopback(request.host):
            return None
        return json_error(
            421,
            "Host.NotLocal",
            "this server listens on a loopback address and answers only localhost or 127.0.0.1 (DNS rebinding): "
            "open it by that name, or serve with --host to be reached by others.",
        )


def run(app: Flask, host: str, port: int, announce: Callable[[int], None]) -> None:
    """Serve ``app`` until Ctrl+C; ``announce(port)`` runs once listening (port 0 picks one). Bound to a
    loopback address, only requests naming a loopback host are answered (loopback_names_only)."""
    if is_loopback(host):
        loopback_names_only(app)
    # Werkzeug prints its own lines and exits when the port is taken: check first, say it in one.
    if port:
        try:
            with socket.create_server((host, port)):
                pass
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror}): stop what uses it or pass another --port."
            )
        except OverflowError:
            raise ConfigError(f"port {port} is out of range: pass a --port from 1 to 65535 (0 picks a free one).")
    server = make_server(host, port, app, threaded=True, request_handler=QueryFreeHandler)
    announce(server.port)
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
