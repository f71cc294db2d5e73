"""Unwrapped data keys kept briefly in memory, dropped the moment a key is revoked.

Before every lookup the cache stat()s the key store's revocation marker, a file that
``KeyStore.revoke`` replaces after each revocation — from ``hlskit keys revoke`` in another
process, another gunicorn worker, or re-packaging. A new marker clears the cache, so a revocation
applies to the very next request in every process, at the cost of one stat() per request (an
earlier version read SQLite's ``PRAGMA data_version`` here: about 30 µs per request instead of 2).
"""

from __future__ import annotations

import threading
import time

from ..keys.store import KeyStore


class KeyCache:
    def __init__(self, store: KeyStore, max_age: float = 60.0, max_entries: int = 1024):
        self.store = store
        self.max_age = max_age  # bounds how long a plain key lives in memory
        self.max_entries = max_entries
        self._keys: dict[tuple[str, str], tuple[bytes, float]] = {}
        self._lock = threading.Lock()  # one cache for all of a worker's threads
        self._version: tuple[int, int] | None = None

    def _sync(self) -> tuple[int, int] | None:
        """Clear the cache if a key was revoked since the last look; the marker's identity (lock held)."""
        version = self.store.revocation_version()
        if version != self._version:
            self._keys.clear()
            self._version = version
        return version

    def get(self, content_id: str, key_id: str) -> bytes | None:
        """The plain key, or None when it is unknown or revoked (as the store says right now)."""
        ident = (content_id, key_id)
        with self._lock:
            version = self._sync()
            hit = self._keys.get(ident)
            if hit is not None and time.monotonic() - hit[1] < self.max_age:
                return hit[0]
        key = self.store.get(content_id, key_id)  # unwrap outside the lock
        if key is None:
            return None
        with self._lock:
            # Cache only if nothing was revoked since the version read: otherwise this read
            # may predate a revocation that other threads have already honoured.
            if self._sync() == version:
                if len(self._keys) >= self.max_entries:
                    self._keys.clear()
                self._keys[ident] = (key, time.monotonic())
        return key

    def close(self) -> None:
        self._keys.clear()
