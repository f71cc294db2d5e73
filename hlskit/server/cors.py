"""CORS for browser players on other origins.

Keys: only the configured origins (``Settings.allowed_origins``, comma-separated; ``self`` is the
server's own origin) get ``Access-Control-Allow-Origin: <origin>`` with credentials, so the
``hlskit_token`` cookie can travel. ``*`` among the origins allows any origin *without*
credentials (a wildcard with credentials would hand any site the viewer's cookie grant).
Media: any origin (``*``), and the key origins again with credentials, for players that send
credentials on every request (hls.js ``xhrSetup`` with ``withCredentials``).
"""

from __future__ import annotations

from flask import Request, Response

from .responses import json_error

ALLOW_METHODS = "GET, HEAD, OPTIONS"
ALLOW_HEADERS = "Authorization, Range"
MEDIA_EXPOSE = "Content-Length, Content-Range, Accept-Ranges, ETag"
PREFLIGHT_MAX_AGE = "600"


class CorsPolicy:
    def __init__(self, allowed_origins: str):
        names = {o.strip().rstrip("/").lower() for o in (allowed_origins or "").split(",") if o.strip()}
        self.self_origin = "self" in names
        self.any_origin = "*" in names
        self.origins = names - {"self", "*"}

    def credentialed(self, origin: str, request: Request) -> bool:
        origin = origin.lower()
        if origin in self.origins:
            return True
        return self.self_origin and origin == f"{request.scheme}://{request.host}".lower()

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

    def apply(self, request: Request, response: Response, *, media: bool) -> Response:
        _vary_origin(response)
        if "HTTP_ORIGIN" in request.environ:
            response.headers.update(self.headers(request, media=media) or {})
        return response

    def preflight(self, request: Request, *, media: bool) -> Response:
        headers = self.headers(request, media=media)
        if headers is None:
            response = json_error(
                403, "Cors.OriginNotAllowed", "this origin may not fetch keys: add it to allowed_origins."
            )
        else:
            response = Response(status=204, headers=headers)
            response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
            response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        _vary_origin(response)
        return response


def _vary_origin(response: Response) -> None:
    # Plain string handling: response.vary parses and rebuilds a header set on every request.
    vary = response.headers.get("Vary")
    if not vary:
        response.headers["Vary"] = "Origin"
    elif "Origin" not in vary:
        response.headers["Vary"] = f"{vary}, Origin"
