"""Unwrapped data keys kept briefly in memory, dropped the moment a key is revoked.

Before a lookup the cache asks the key store for its revocation version
(``KeyStore.revocation_version``), which every revocation changes — from ``hlskit keys revoke``
in another process, another gunicorn worker, another key server, or re-packaging. A new version
clears the cache. On SQLite the version is a marker file's identity, one stat() per request; on
PostgreSQL it is a counter read at most every ``revocation_check_interval`` (0.25 s), so a
revocation reaches every server within that interval plus one request.

While the store cannot be reached the cache serves nothing, not even keys it holds (a key is
never handed out without a revocation check): ``get`` raises StoreUnavailable, which the key
route answers with 503. It retries the store at most every ``retry_interval`` seconds, so a
database outage costs one failed connection attempt per interval rather than one per request,
and it logs one line when the store goes away and one when it is back.
"""

from __future__ import annotations

import logging
import threading
import time

from ..stores.db import StoreUnavailable
from ..stores.keys import KeyStore

logger = logging.getLogger("hlskit.keystore")


class KeyCache:
    def __init__(self, store: KeyStore, max_age: float = 60.0, max_entries: int = 1024, retry_interval: float = 0.5):
        self.store = store
        self.max_age = max_age  # bounds how long a plain key lives in memory
        self.max_entries = max_entries
        self.retry_interval = retry_interval
        self._interval = store.revocation_check_interval
        self._keys: dict[tuple[str, str], tuple[bytes, float]] = {}
        self._lock = threading.Lock()  # one cache for all of a worker's threads
        self._version: tuple[int, int] | None = None
        self._checked = float("-inf")  # monotonic time of the last revocation check that answered
        self._down: StoreUnavailable | None = None  # the error while the store is away
        self._down_checked = float("-inf")

    def _failed(self, exc: StoreUnavailable) -> StoreUnavailable:
        """Record an outage (lock held): drop every key, log once."""
        self._keys.clear()
        self._checked = float("-inf")
        self._down_checked = time.monotonic()
        if self._down is None:
            logger.warning("key service: %s Answering 503 until it is back.", exc.message)
        self._down = exc
        return exc

    def _recovered(self) -> None:
        if self._down is not None:
            self._down = None
            logger.warning("key service: the key store %s is reachable again.", self.store.db.display)

    def _sync(self) -> tuple[int, int] | None:
        """Clear the cache if a key was revoked since the last look; the current version (lock held)."""
        now = time.monotonic()
        if self._down is not None and now - self._down_checked < self.retry_interval:
            raise self._down
        if now - self._checked >= self._interval:
            try:
                version = self.store.revocation_version()
            except StoreUnavailable as exc:
                raise self._failed(exc) from None
            self._recovered()
            self._checked = now
            if version != self._version:
                self._keys.clear()
                self._version = version
        return self._version

    def get(self, content_id: str, key_id: str) -> bytes | None:
        """The plain key, or None when it is unknown or revoked (as the store says right now).

        Raises StoreUnavailable while the key store cannot be reached.
        """
        ident = (content_id, key_id)
        with self._lock:
            version = self._sync()
            hit = self._keys.get(ident)
            if hit is not None and time.monotonic() - hit[1] < self.max_age:
                return hit[0]
        try:
            key = self.store.get(content_id, key_id)  # unwrap outside the lock
        except StoreUnavailable as exc:
            with self._lock:
                raise self._failed(exc) from None
        if key is None:
            return None
        with self._lock:
            # Cache only if nothing was revoked since the version read: otherwise this read
            # may predate a revocation that other threads have already honoured. On PostgreSQL
            # the version may be up to one check interval old; a key read then is cached
            # under it, and the next check (within that interval) drops it if revoked.
            if self._down is None and self._sync() == version:
                if len(self._keys) >= self.max_entries:
                    self._keys.clear()
                self._keys[ident] = (key, time.monotonic())
        return key

    def close(self) -> None:
        self._keys.clear()
