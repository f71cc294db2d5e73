"""Key resolvers: key URI -> data key bytes, for stitching (first segment) and validation.

A resolver returns the bytes the key source gave (validate checks they are exactly 16), returns
None when the key is unknown, or raises with a sentence saying why the key could not be had.
Keys stay in memory; nothing here logs or prints them.
"""
from __future__ import annotations

from typing import Callable
from urllib.parse import urlparse

from ..domain.errors import HlskitError

KeyResolver = Callable[[str], "bytes | None"]


def split_key_uri(uri: str) -> tuple[str, str] | None:
    """<content-id>, <key-id>: the last two path segments of a key URI made by hlskit.keys.key_uri."""
    parts = [p for p in urlparse(uri).path.split("/") if p]
    return (parts[-2], parts[-1]) if len(parts) >= 2 else None


def local_key_resolver(settings) -> KeyResolver:
    """Keys from the local KeyStore under settings.home (no HTTP, no token)."""
    from .store import KeyStore

    store = KeyStore.from_settings(settings)

    def resolve(uri: str) -> bytes | None:
        ids = split_key_uri(uri)
        return store.get(*ids) if ids else None

    return resolve


def http_key_resolver(token: str | None = None, *, timeout: float = 10.0) -> KeyResolver:
    """Fetch the key URI as a player does, sending ``Authorization: Bearer <token>`` when given."""
    import requests

    session = requests.Session()
    if token:
        session.headers["Authorization"] = f"Bearer {token}"

    def resolve(uri: str) -> bytes:
        if not uri.startswith(("http://", "https://")):
            raise HlskitError(f"key URI {uri} is not http(s)")
        try:
            resp = session.get(uri, timeout=timeout)
        except requests.RequestException as exc:
            raise HlskitError(f"key URI {uri} could not be fetched ({type(exc).__name__})") from None
        if resp.status_code != 200:
            hint = " (pass a playback token with --key-token)" if resp.status_code in (401, 403) and not token else ""
            raise HlskitError(f"key URI {uri} answered HTTP {resp.status_code}{hint}")
        return resp.content

    return resolve


def chain(*resolvers: KeyResolver | None) -> KeyResolver:
    """The first resolver that gives bytes wins; the last failure is what the caller sees."""
    active = [r for r in resolvers if r is not None]

    def resolve(uri: str) -> bytes | None:
        error: Exception | None = None
        for r in active:
            try:
                key = r(uri)
            except Exception as exc:  # noqa: BLE001 - try the next source
                error = exc
                continue
            if key is not None:
                return key
        if error is not None:
            raise error
        return None

    return resolve
