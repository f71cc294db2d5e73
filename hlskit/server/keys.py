"""GET /keys/<content-id>/<key-id>: the 16 raw bytes of a data key, for a valid playback token.

Status: 200 key; 401 no token; 403 malformed, tampered, expired, other-content or other-client
token, or a content id that breaks the content-id rule (``hlskit.domain.ids``: no token grants
one), or an Origin whose answer the browser would block (``CorsPolicy.key_refusal``); 404 unknown
or revoked key, or a key id that breaks the key-id rule (checked only after the token, so key ids
cannot be probed without a grant). Errors are short JSON and never mention the key.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from flask import Blueprint, Request, Response, request

from ..domain.errors import HlskitError
from ..domain.ids import is_content_id, is_key_id
from ..keys.tokens import PlaybackTokens, TokenError
from ..stores.db import StoreUnavailable
from . import audit
from .cors import CorsPolicy
from .keycache import KeyCache
from .responses import json_error

COOKIE = "hlskit_token"
QUERY_PARAMS = ("token", "MtsHlsUriToken")  # MtsHlsUriToken: what MPS/CDN pass-through appends
_KEY_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff", "Vary": "Origin"}


def request_token(req: Request) -> str | None:
    """The playback token from the query, an Authorization: Bearer header, or the cookie."""
    query = req.environ.get("QUERY_STRING", "")
    if query.startswith("token=") and "&" not in query and "%" not in query and query != "token=":
        return query[6:]  # the common "?token=T" without parsing the query string
    for name in QUERY_PARAMS:
        token = req.args.get(name)
        if token:
            return token
    auth = req.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return req.cookies.get(COOKIE) or None


def create_blueprint(secret: bytes, keys: KeyCache, cors: CorsPolicy) -> Blueprint:
    bp = Blueprint("keys", __name__)
    tokens = PlaybackTokens(secret)

    @bp.route("/keys/<content_id>/<key_id>", methods=["GET", "OPTIONS"])
    def key(content_id: str, key_id: str) -> Response:
        if request.method == "OPTIONS":
            return cors.preflight(request, media=False)
        client = request.remote_addr

        def answer(response: Response, outcome: str) -> Response:
            audit.key_request(content_id, key_id, client, outcome, response.status_code)
            return cors.apply(request, response, media=False)

        if "HTTP_ORIGIN" in request.environ:
            refused = cors.key_refusal(request)  # the browser would drop the key: say so, audit so
            if refused is not None:
                return answer(refused, "origin-not-allowed")
        try:
            tokens.verify(request_token(request), content_id, client)
        except TokenError as exc:
            response = json_error(exc.status, exc.code, exc.message)
            if exc.status == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="hlskit"'
            return answer(response, exc.reason)
        try:
            data = keys.get(content_id, key_id) if is_content_id(content_id) and is_key_id(key_id) else None
        except StoreUnavailable:
            # The key store (database) is away: no key without a revocation check (KeyCache logs it once).
            response = json_error(503, "Key.StoreUnavailable", "the key store is unreachable: try again shortly.")
            response.headers["Retry-After"] = "1"
            return answer(response, "store-unavailable")
        except (HlskitError, InvalidTag, ValueError):
            # Wrong master key, or a KMS key without KMS credentials: say so without details.
            return answer(
                json_error(
                    503,
                    "Key.Unavailable",
                    "the key service cannot unwrap this key: check its master key or KMS settings.",
                ),
                "unwrap-failed",
            )
        if data is None:
            return answer(json_error(404, "Key.NotFound", "no live key with this id."), "unknown-or-revoked")
        # "ok" means the key was sent; a HEAD (Flask answers it with this view) sends no body
        sent = "head" if request.method == "HEAD" else "ok"
        return answer(Response(data, 200, _KEY_HEADERS, mimetype="application/octet-stream"), sent)

    return bp
