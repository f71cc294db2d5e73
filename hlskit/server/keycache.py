"""Unwrapped data keys kept briefly in memory, dropped the moment the key store changes.

Each thread keeps its own SQLite connection and cache. Before every lookup it reads
``PRAGMA data_version``, which changes whenever *another* connection — another thread, another
gunicorn worker, or ``hlskit keys revoke`` in another process — commits to the key store; any
change clears the cache, so a revocation applies to the very next request everywhere. Per-thread
caches avoid a race where one thread refills a shared cache from a read older than the revocation
another thread has just seen.
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
        self._local = threading.local()

    def _state(self) -> threading.local:
        state = self._local
        if not hasattr(state, "db"):
            state.db = sqlite3.connect(self.store.db_path, timeout=30, isolation_level=None,
                                       check_same_thread=True)
            state.version = None
            state.keys = {}
        return state

    def get(self, content_id: str, key_id: str) -> bytes | None:
        """The plain key, or None when it is unknown or revoked (decided by the store right now)."""
        state = self._state()
        version = state.db.execute("PRAGMA data_version").fetchone()[0]
        if version != state.version:
            state.keys.clear()
            state.version = version
        now = time.monotonic()
        hit = state.keys.get((content_id, key_id))
        if hit is not None and now - hit[1] < self.max_age:
            return hit[0]
        # A revocation committed after the version read above is either seen by this read or
        # changes data_version before the next request: never served from cache afterwards.
        key = self.store.get(content_id, key_id)
        if key is None:
            state.keys.pop((content_id, key_id), None)
            return None
        if len(state.keys) >= self.max_entries:
            state.keys.clear()
        state.keys[(content_id, key_id)] = (key, now)
        return key
