"""Key resolvers from hlskit's own key sources: key URI -> data key bytes, for stitching and validation.

The resolver type, and the resolvers that only need HTTP (a player's view: the key URI with a
playback token), live in :mod:`hlskit.hls` (``source.KeyResolver``, ``validate.read``).

A resolver returns the bytes the key source gave (validate checks they are exactly 16), returns
None when the key is unknown, or raises with a sentence saying why the key could not be had.
Keys stay in memory; nothing here logs or prints them.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlparse

from ..domain.keys import DataKey
from ..hls.source import KeyResolver


def split_key_uri(uri: str) -> tuple[str, str] | None:
    """<content-id>, <key-id>: the last two path segments of a key URI made by hlskit.keys.key_uri."""
    parts = [p for p in urlparse(uri).path.split("/") if p]
    return (parts[-2], parts[-1]) if len(parts) >= 2 else None


def memory_key_resolver(keys: Iterable[DataKey], key_url: str) -> KeyResolver:
    """The keys of a run still in memory (stitching a package before it is published)."""
    by_uri = {k.uri(key_url): k.key for k in keys}
    if not key_url.startswith("/"):
        return by_uri.get

    def resolve(uri: str) -> bytes | None:
        # A root-relative key URL ("/keys") stays as written when the playlist is read from a
        # folder, but is resolved to http://<host>/keys/... against a playlist URL (RFC 3986 §5.2):
        # both name the same key, so match on the path; the query (a token) is not part of it.
        return by_uri.get(uri) or by_uri.get(urlparse(uri).path)

    return resolve
