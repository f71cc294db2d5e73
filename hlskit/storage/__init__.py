"""Where packages live: a local folder or an OSS bucket, behind one small interface."""

from __future__ import annotations

from .base import Storage
from .local import LocalStorage
from .oss import OssStorage


def open_storage(location: str, settings=None) -> tuple[Storage, str]:
    """Split ``location`` into a Storage and a path inside it.

    ``oss://bucket/prefix`` → OssStorage (needs mts/oss settings); anything else → LocalStorage.
    """
    if location.startswith("oss://"):
        bucket, _, key = location[len("oss://") :].partition("/")
        return OssStorage.from_settings(bucket, settings), key
    return LocalStorage(), location


__all__ = ["Storage", "LocalStorage", "open_storage"]
