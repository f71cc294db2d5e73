"""Playback tokens: short-lived HMAC-SHA256 grants for one content id.

A token is ``<payload>.<signature>``, both base64url without padding. The payload is compact
JSON ``{"c": content id, "e": expiry (unix seconds), "i": client IP (optional), "p": 1 (optional:
playback only, no MP4 downloads; what the test player mints for itself)}``; the
signature is HMAC-SHA256 over the encoded payload under the token secret. Tokens use only
``[A-Za-z0-9_.-]``, so they travel unescaped in a query string, a header or a cookie, and can be
copied into playlists safely. A token only ever names a valid content id
(``hlskit.domain.ids``): ``make`` refuses any other, ``verify`` grants no other.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from ..domain.configs import TokenConfig
from ..domain.errors import ConfigError, HlskitError, InputError
from ..domain.ids import check_content_id, is_content_id
from .secretfile import read_secret_file, weak_secret

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,1024}\.[A-Za-z0-9_-]{43}")  # fullmatch: $ lets a newline end it
_DOMAIN = b"hlskit-playback-token-v1:"  # keeps these MACs apart from any other use of the secret


class TokenError(HlskitError):
    """A playback token was refused. ``reason`` is one of REASONS; ``status`` the HTTP status."""

    REASONS = ("missing", "malformed", "tampered", "expired", "other-content", "other-client", "playback-only")

    def __init__(self, reason: str, message: str):
        super().__init__(message, code="Token." + "".join(p.title() for p in reason.split("-")))
        self.reason = reason

    @property
    def status(self) -> int:
        return 401 if self.reason == "missing" else 403


@dataclass(frozen=True)
class TokenClaims:
    content_id: str
    expires: int
    client_ip: str | None = None
    playback_only: bool = False  # keys and playlists, never a clear MP4 download


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _as_bytes(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


class PlaybackTokens:
    """Makes and checks tokens under one secret; keeps the keyed HMAC state, so the key
    service's hot path pays for one copy-and-update per token instead of a full HMAC setup."""

    MEMO_SIZE = 4096

    def __init__(self, secret: str | bytes):
        self._mac = hmac.new(_as_bytes(secret), _DOMAIN, hashlib.sha256)
        # Tokens whose signature already checked out: a player presents the same token for
        # every key it fetches. Expiry, content and client are still checked on every use.
        self._memo: dict[str, TokenClaims] = {}

    def _sign(self, payload: str) -> str:
        mac = self._mac.copy()
        mac.update(payload.encode("ascii"))
        return _b64(mac.digest())

    def _check_signature(self, token: str) -> TokenClaims:
        if not TOKEN_PATTERN.fullmatch(token):
            raise TokenError("malformed", "the playback token is malformed: request a new one.")
        payload, signature = token.split(".")
        if not hmac.compare_digest(self._sign(payload), signature):
            raise TokenError("tampered", "the playback token signature is not valid: request a new one.")
        try:
            raw = json.loads(_unb64(payload))
            return TokenClaims(str(raw["c"]), int(raw["e"]), raw.get("i"), raw.get("p") == 1)
        except (ValueError, KeyError, TypeError, OverflowError, binascii.Error):
            # Signed by us but unreadable: only if the secret is shared with another format.
            raise TokenError("malformed", "the playback token is malformed: request a new one.")

    def make(
        self,
        content_id: str,
        ttl: int,
        client_ip: str | None = None,
        *,
        now: float | None = None,
        playback_only: bool = False,
    ) -> str:
        """A token for ``content_id``; InputError (one sentence) if it is not a valid content id.
        ``playback_only``: the token fetches keys and playlists but no MP4 download."""
        check_content_id(content_id)
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        claims: dict = {"c": content_id, "e": int((time.time() if now is None else now) + ttl)}
        if client_ip is not None:
            claims["i"] = client_address(client_ip)
        if playback_only:
            claims["p"] = 1
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
        return f"{payload}.{self._sign(payload)}"

    def verify(
        self, token: str | None, content_id: str, client_ip: str | None, *, now: float | None = None
    ) -> TokenClaims:
        if not is_content_id(content_id):
            # Nothing can be granted for a name that is not a content id, whatever the token says.
            raise TokenError("other-content", "the requested content id is not valid: no playback token grants it.")
        if not token:
            raise TokenError(
                "missing",
                "a playback token is required: pass ?token=, Authorization: Bearer or the hlskit_token cookie.",
            )
        claims = self._memo.get(token)
        if claims is None:
            claims = self._check_signature(token)
            if len(self._memo) >= self.MEMO_SIZE:
                self._memo.clear()
            self._memo[token] = claims
        if claims.expires <= (time.time() if now is None else now):
            raise TokenError("expired", "the playback token has expired: request a new one.")
        if not hmac.compare_digest(claims.content_id.encode("utf-8"), content_id.encode("utf-8")):
            raise TokenError("other-content", "the playback token is for another content id.")
        if claims.client_ip is not None and claims.client_ip != _normal(client_ip):
            raise TokenError("other-client", "the playback token is bound to another client address.")
        return claims


def make_token(
    secret: str | bytes,
    content_id: str,
    ttl: int,
    client_ip: str | None = None,
    *,
    now: float | None = None,
    playback_only: bool = False,
) -> str:
    """A token granting ``content_id`` for ``ttl`` seconds, optionally only to ``client_ip``."""
    return PlaybackTokens(secret).make(content_id, ttl, client_ip, now=now, playback_only=playback_only)


def client_address(text: str) -> str:
    """The IP address a token is bound to, in one spelling (``2001:DB8:0::1`` → ``2001:db8::1``; an
    IPv4-mapped IPv6 address as its IPv4 one, as a dual-stack server may see the client); InputError
    when ``text`` is not an IP address (a token bound to it could never be used)."""
    normal = _normal(text)
    if normal is None:
        raise InputError(
            f"--client-ip must be an IP address such as 203.0.113.7 or 2001:db8::1, got {text!r}: give the "
            "address the player connects from."
        )
    return normal


def _normal(text: str | None) -> str | None:
    try:
        ip = ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return str(mapped or ip)


def verify_token(
    secret: str | bytes, token: str | None, content_id: str, client_ip: str | None, *, now: float | None = None
) -> TokenClaims:
    """The token's claims if it grants ``content_id`` to ``client_ip`` now; else TokenError."""
    return PlaybackTokens(secret).verify(token, content_id, client_ip, now=now)


def token_secret(config: TokenConfig) -> bytes:
    """The token secret: Settings.token_secret, else <home>/token.secret (created 0600 on first use).

    In production a missing, short (< 32 characters) or repetitive secret is refused, and the
    secret file is never created implicitly: a fresh random secret would silently invalidate
    the tokens every other server instance issues.
    """
    if config.secret:
        secret = str(config.secret)
        if config.production and weak_secret(secret):
            raise ConfigError(
                "token_secret is too weak for production: set HLSKIT_TOKEN_SECRET to 32+ random characters (e.g. from `openssl rand -hex 32`)."
            )
        return secret.encode("utf-8")
    path = Path(config.home) / "token.secret"
    if config.production and not path.exists():
        raise ConfigError(
            f"no token secret in production: set HLSKIT_TOKEN_SECRET (32+ random characters) or create {path} with mode 600."
        )
    secret = read_secret_file(path, lambda: secrets.token_urlsafe(32).encode(), "token secret").decode().strip()
    if not secret or (config.production and weak_secret(secret)):
        raise ConfigError(f"token secret file {path} is empty or too weak: write 32+ random characters to it.")
    return secret.encode("utf-8")
