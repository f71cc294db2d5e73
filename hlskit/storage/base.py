"""The Storage protocol: just what stitching, validation and publishing need.

Paths are '/'-separated strings relative to the storage root (for OSS: object keys).
"""

from __future__ import annotations

from typing import Protocol


class Storage(Protocol):
    def read_bytes(self, path: str, start: int | None = None, length: int | None = None) -> bytes:
        """The whole object, or ``length`` bytes from ``start``."""

    def read_text(self, path: str) -> str: ...

    def size(self, path: str) -> int: ...

    def exists(self, path: str) -> bool: ...

    def list(self, prefix: str) -> list[str]:
        """Every object path under ``prefix`` (recursive), sorted."""

    def write_bytes(self, path: str, data: bytes, content_type: str | None = None) -> None:
        """Write atomically: readers see the old object or the new one, never a part."""

    def write_text(self, path: str, text: str, content_type: str | None = None) -> None: ...

    def url(self, path: str) -> str:
        """A URL or local path a player or FFmpeg can open."""
