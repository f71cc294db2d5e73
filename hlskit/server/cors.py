"""CORS for browser players on other origins (the Fetch standard's CORS protocol).

Keys: only the configured origins (``Settings.allowed_origins``, comma-separated; ``self`` is the
server's own origin) get ``Access-Control-Allow-Origin: <origin>`` with credentials, so the
``hlskit_token`` cookie can travel. ``*`` among the origins allows any origin *without*
credentials (a wildcard with credentials would hand any site the viewer's cookie grant).
``null`` (every sandboxed frame and ``file:`` page shares it) is never granted credentials.
A key request whose response the browser would block is refused with 403 instead of answered,
so the audit log never records a key as delivered when the page never got it.
Media: any origin (``*``), and the key origins again with credentials, for players that send
credentials on every request (hls.js ``xhrSetup`` with ``withCredentials``).

``self`` never comes from the Host header (any client can write one): it is
``Settings.public_origin`` when set, else the address of the socket the request arrived on
(Werkzeug's and gunicorn's TCP listeners), plus ``localhost`` on a loopback address.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from flask import Request, Response

from .responses import json_error

ALLOW_METHODS = "GET, HEAD, OPTIONS"
ALLOW_HEADERS = "Authorization, Range"
MEDIA_EXPOSE = "Content-Length, Content-Range, Accept-Ranges, ETag"
PREFLIGHT_MAX_AGE = "600"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SOCKET_KEYS = ("werkzeug.socket", "gunicorn.socket")


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` as a browser serialises it in an Origin header (RFC 6454 §6.2:
    lower case, default port left out), or None when ``url`` has no http(s) origin."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return _serialise(parts.scheme, host, port)


def _serialise(scheme: str, host: str, port: int | None) -> str:
    suffix = "" if port is None or port == _DEFAULT_PORTS.get(scheme) else f":{port}"
    return f"{scheme}://{host.lower()}{suffix}"


def listening_origins(environ: dict) -> tuple[str, ...]:
    """The origins of the TCP address this request arrived on (the socket, never a header)."""
    sock = next((environ[k] for k in _SOCKET_KEYS if k in environ), None)
    try:
        if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
            return ()  # a Unix socket or an unknown server: only public_origin can name "self"
        host, port = sock.getsockname()[:2]
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except (OSError, ValueError, AttributeError):
        return ()
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    if mapped is not None:  # a dual-stack "::" listener serving IPv4 clients
        address = mapped
        host = str(address)
    loopback = address.is_loopback
    scheme = environ.get("wsgi.url_scheme", "http")
    own = _serialise(scheme, f"[{host}]" if ":" in host else host, port)
    # "localhost" always names the loopback interface in browsers (RFC 6761 §6.3).
    return (own, _serialise(scheme, "localhost", port)) if loopback else (own,)


class CorsPolicy:
    def __init__(self, allowed_origins: str, public_origin: str | None = None):
        names = {o.strip().rstrip("/").lower() for o in (allowed_origins or "").split(",") if o.strip()}
        self.self_origin = "self" in names
        self.any_origin = "*" in names
        self.origins = names - {"self", "*", "null"}
        self.public_origin = origin_of(public_origin) if public_origin else None
        if public_origin and self.public_origin is None:
            raise ValueError(f"public_origin {public_origin!r} is not an origin")

    def own_origins(self, request: Request) -> tuple[str, ...]:
        """What ``self`` means for this request."""
        return (self.public_origin,) if self.public_origin else listening_origins(request.environ)

    def credentialed(self, origin: str, request: Request) -> bool:
        origin = origin.lower()
        if origin in self.origins:
            return True
        return self.self_origin and origin in self.own_origins(request)

    def headers(self, request: Request, *, media: bool) -> dict[str, str] | None:
        """CORS response headers for this request, or None when its origin is not allowed."""
        origin = request.headers.get("Origin")
        if not origin:
            return {}
        if self.credentialed(origin, request):
            out = {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true"}
        elif media or self.any_origin:
            out = {"Access-Control-Allow-Origin": "*"}
        else:
            return None
        if media:
            out["Access-Control-Expose-Headers"] = MEDIA_EXPOSE
        return out

    def key_refusal(self, request: Request) -> Response | None:
        """403 for a key request whose answer the browser would not hand to the page, else None."""
        origin = request.headers.get("Origin")
        if not origin or self.credentialed(origin, request):
            return None
        if not self.any_origin:
            return _origin_refused("this origin may not fetch keys: add it to allowed_origins.")
        if "Cookie" in request.headers:
            # A request that carries cookies is in credentials mode "include", and the Fetch
            # standard forbids a "*" answer to it: the browser would drop the key.
            return _origin_refused(
                "this origin is allowed only without credentials (allowed_origins has *): "
                "add it to allowed_origins to use the hlskit_token cookie."
            )
        return None

    def apply(self, request: Request, response: Response, *, media: bool) -> Response:
        _vary_origin(response)
        if "HTTP_ORIGIN" in request.environ:
            response.headers.update(self.headers(request, media=media) or {})
        return response

    def preflight(self, request: Request, *, media: bool) -> Response:
        headers = self.headers(request, media=media)
        if headers is None:
            response = _origin_refused("this origin may not fetch keys: add it to allowed_origins.")
        else:
            response = Response(status=204, headers=headers)
            response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
            response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        _vary_origin(response)
        return response


def _origin_refused(message: str) -> Response:
    return json_error(403, "Cors.OriginNotAllowed", message)


def _vary_origin(response: Response) -> None:
    # Plain string handling: response.vary parses and rebuilds a header set on every request.
    vary = response.headers.get("Vary")
    if not vary:
        response.headers["Vary"] = "Origin"
    elif "Origin" not in vary:
        response.headers["Vary"] = f"{vary}, Origin"
