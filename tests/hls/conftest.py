"""Fixtures for the hls tests: real FFmpeg HLS output (made faulty on purpose by the tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hls.streams import KeyServer, encode


@pytest.fixture(scope="session")
def ladder(ffmpeg, tmp_path_factory) -> Path:
    """Two aligned clear definitions (LD 320x180, HD 640x360, 4 s, 2 s segments); copy before editing."""
    base = tmp_path_factory.mktemp("ladder")
    encode(ffmpeg, base / "LD", size="320x180", kbps=250)
    encode(ffmpeg, base / "HD", size="640x360", kbps=700)
    return base


@pytest.fixture
def key_server():
    server = KeyServer()
    yield server
    server.close()
