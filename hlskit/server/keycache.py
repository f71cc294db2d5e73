"""Unwrapped data keys kept briefly in memory, dropped the moment the key store changes.

Before every lookup the cache reads ``PRAGMA data_version`` on its own SQLite connection; the
value changes whenever *another* connection — another gunicorn worker, or ``hlskit keys revoke``
in another process — commits to the key store. Any change clears the cache, so a revocation
applies to the very next request in every process, at the cost of one pragma per request.
"""
from __future__ import annotations

import sqlite3
import threading
import time

from ..keys import KeyStore


class KeyCache:
    def __init__(self, store: KeyStore, max_age: float = 60.0, max_entries: int = 1024):
        self.store = store
        self.max_age = max_age            # bounds how long a plain key lives in memory
        self.max_entries = max_entries
        self._keys: dict[tuple[str, str], tuple[bytes, float]] = {}
        self._lock = threading.Lock()     # one connection and cache for all of a worker's threads
        self._db = sqlite3.connect(store.db_path, timeout=30, isolation_level=None, check_same_thread=False)
        self._cursor = self._db.cursor()
        self._version: int | None = None

    def _sync(self) -> int:
        """Clear the cache if the key store changed; the current data version (lock held)."""
        version = self._cursor.execute("PRAGMA data_version").fetchone()[0]
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
        key = self.store.get(content_id, key_id)     # unwrap outside the lock
        if key is None:
            return None
        with self._lock:
            # Cache only if nothing was committed since the version read: otherwise this read
            # may predate a revocation that other threads have already honoured.
            if self._sync() == version:
                if len(self._keys) >= self.max_entries:
                    self._keys.clear()
                self._keys[ident] = (key, time.monotonic())
        return key

    def close(self) -> None:
        self._db.close()
