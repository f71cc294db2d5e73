"""Fixtures for option parsing and batch submission: tiny real PNGs (clips come from tests/conftest.py)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest


def write_png(path: Path, width: int = 8, height: int = 4) -> Path:
    """A real RGBA PNG (opaque white), written by hand so no imaging library is needed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\xff\xff\xff" * width for _ in range(height))
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


@pytest.fixture
def png(tmp_path: Path) -> Path:
    return write_png(tmp_path / "logo.png")


@pytest.fixture
def make_png():
    """make_png(path, width=8, height=4) -> Path"""
    return write_png
