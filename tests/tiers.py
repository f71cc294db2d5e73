"""The test tiers: what makes a test heavy, and the guard that makes an unmarked heavy test fail.

`make test-fast` runs ``pytest -m "not slow and not browser and not db"`` with
``HLSKIT_TEST_TIER=fast`` and ``IMAGEIO_FFMPEG_EXE=/nonexistent/ffmpeg``. The bundled FFmpeg is
then a path that does not exist (imageio-ffmpeg returns that variable unchecked), so any encode
fails; the fixtures and helpers that reach Chromium, PostgreSQL or Debian's FFmpeg call
:func:`require_heavy`, which fails the test with the mark it is missing. A heavy test left
unmarked therefore fails in the fast tier instead of slowing it down or passing unnoticed.
"""

from __future__ import annotations

import os

import pytest

TIER_VARIABLE = "HLSKIT_TEST_TIER"

# Debian's own FFmpeg and ffprobe: independent clients that read what the bundled build made.
# Only :func:`debian_ffmpeg` and :func:`debian_ffprobe` name them, so no test reaches them
# without passing the tier guard (tests/test_tiers.py checks that no other module does).
_DEBIAN_FFMPEG = "/usr/bin/ffmpeg"
_DEBIAN_FFPROBE = "/usr/bin/ffprobe"

MARKS = {
    "slow": "encodes or decodes media with FFmpeg",
    "browser": "drives Chromium",
    "db": "needs a PostgreSQL or Redis server",
}


def fast_tier() -> bool:
    return os.environ.get(TIER_VARIABLE) == "fast"


def require_heavy(mark: str) -> None:
    """Fail the running test when it runs in the fast tier: it needs what ``mark`` declares."""
    if fast_tier():
        pytest.fail(
            f"this test is heavy ({MARKS[mark]}): mark it @pytest.mark.{mark} "
            f"(a module's pytestmark or a decorator), or `make test-fast` cannot exclude it.",
            pytrace=False,
        )


def debian_ffmpeg() -> str:
    """The path of Debian's FFmpeg, for tests marked slow."""
    require_heavy("slow")
    return _DEBIAN_FFMPEG


def debian_ffprobe() -> str:
    """The path of Debian's ffprobe, for tests marked slow."""
    require_heavy("slow")
    return _DEBIAN_FFPROBE
