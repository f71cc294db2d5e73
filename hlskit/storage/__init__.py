"""Where packages live: a local folder or an OSS bucket, behind one small interface."""

from __future__ import annotations

from ..domain.configs import OssConfig
from .base import Storage
from .local import LocalStorage
from .oss import OssStorage


def is_remote(location: str) -> bool:
    """Whether ``location`` is an OSS location (``oss://bucket/prefix``) rather than a path."""
    return location.startswith("oss://")


def open_storage(location: str, oss: OssConfig | None = None) -> tuple[Storage, str]:
    """Split ``location`` into a Storage and a path inside it.

    ``oss://bucket/prefix`` → OssStorage (with ``oss``'s credentials); anything else → LocalStorage.
    """
    if is_remote(location):
        bucket, _, key = location[len("oss://") :].partition("/")
        return OssStorage.from_config(bucket, oss or OssConfig()), key
    return LocalStorage(), location


__all__ = ["Storage", "LocalStorage", "is_remote", "open_storage"]
