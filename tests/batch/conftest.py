"""Fixtures for option parsing and batch submission: tiny real PNGs and real FFmpeg clips."""
from __future__ import annotations

import struct
import subprocess
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


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def make_test_clip(path: Path, *, width: int = 320, height: int = 180, seconds: float = 2) -> Path:
    """A tiny H.264/AAC clip from FFmpeg's test sources (ultrafast: the machine is shared)."""
    subprocess.run(
        [_ffmpeg(), "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=25:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25",
         "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )
    return path


@pytest.fixture
def hlskit_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Isolated HLSKIT_HOME so job and key stores never touch the user's."""
    home = tmp_path / "home"
    monkeypatch.setenv("HLSKIT_HOME", str(home))
    monkeypatch.delenv("HLSKIT_CONFIG", raising=False)
    return home
