"""Shared fixtures: real FFmpeg clips, an isolated hlskit home, and one packaged encrypted sample.

Every test gets its own HLSKIT_HOME (job store, key store, master key) unless it asks for the
session package, which has its own home shared by the tests that read it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from hlskit.cli.abrcheck import launch_chromium
from hlskit.config import load_settings
from hlskit.domain.errors import HlskitError
from hlskit.domain.settings import Settings
from hlskit.engines.encode import ffmpeg_exe
from hlskit.engines.sample import sample_args
from tests.tiers import require_heavy

REPO = Path(__file__).resolve().parents[1]

# CI explores the same examples every run (reproducible); local runs keep exploring new ones.
from hypothesis import settings as hypothesis_settings  # noqa: E402

hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")
HLSKIT = [sys.executable, "-m", "hlskit"]


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    """The bundled FFmpeg, for tests marked slow."""
    require_heavy("slow")
    return ffmpeg_exe()


@pytest.fixture
def hlskit_env(tmp_path, monkeypatch) -> Settings:
    """An isolated hlskit home for one test; returns the Settings that see it."""
    home = tmp_path / "hlskit-home"
    monkeypatch.setenv("HLSKIT_HOME", str(home))
    monkeypatch.delenv("HLSKIT_CONFIG", raising=False)
    return load_settings()


def _make_clip(
    ffmpeg: str,
    path: Path,
    width: int = 320,
    height: int = 180,
    seconds: float = 3,
    fps: int = 30,
    audio: bool = True,
    rotate: int | None = None,
) -> Path:
    """A small clip with motion and detail (the sample recipe, fast x264 settings)."""
    require_heavy("slow")
    path = Path(path)
    args = sample_args(ffmpeg, str(path), width, height, seconds, fps, audio, preset="ultrafast")
    if rotate is not None:
        tmp = path.with_name("unrotated-" + path.name)
        args[-1] = str(tmp)
        subprocess.run(args, check=True, capture_output=True)
        subprocess.run(
            [
                ffmpeg,
                "-loglevel",
                "error",
                "-y",
                "-display_rotation",
                str(rotate),
                "-i",
                str(tmp),
                "-c",
                "copy",
                str(path),
            ],
            check=True,
            capture_output=True,
        )
        tmp.unlink()
        return path
    subprocess.run(args, check=True, capture_output=True)
    return path


@pytest.fixture
def make_clip(ffmpeg):
    """make_clip(path, width=320, height=180, seconds=3, fps=30, audio=True, rotate=None) -> Path"""
    return lambda path, **kw: _make_clip(ffmpeg, path, **kw)


def run_hlskit(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 300):
    """Run the real CLI in a subprocess; returns CompletedProcess (text)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([*HLSKIT, *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout)


@dataclass
class Packaged:
    dir: Path  # out/<content-id>
    out: Path  # out/
    content_id: str
    settings: Settings
    manifest: dict
    source: Path
    home: Path

    def env(self) -> dict[str, str]:
        return {"HLSKIT_HOME": str(self.home)}


@pytest.fixture(scope="session")
def packaged(tmp_path_factory, ffmpeg) -> Packaged:
    """An encrypted package of a 1280x720, 6 s clip with 2 s segments: LD, SD and HD.

    The key URL points at http://127.0.0.1:8000/keys; servers started by tests on another port
    serve keys by content id and key id, which do not depend on the URL.
    """
    import json

    from hlskit.domain.plan import PackageOptions
    from hlskit.pipeline import run_package

    base = tmp_path_factory.mktemp("packaged")
    home = base / "home"
    source = _make_clip(ffmpeg, base / "talk.mp4", width=1280, height=720, seconds=6)
    old = os.environ.get("HLSKIT_HOME")
    os.environ["HLSKIT_HOME"] = str(home)
    try:
        settings = load_settings()
        result = run_package(
            str(source), str(base / "out"), settings, PackageOptions(segment_duration=2, content_id="talk")
        )
    finally:
        if old is None:
            os.environ.pop("HLSKIT_HOME", None)
        else:
            os.environ["HLSKIT_HOME"] = old
    assert result.ok, [j.message for j in result.failed]
    manifest = json.loads((Path(result.dir) / "hlskit.json").read_text())
    return Packaged(Path(result.dir), base / "out", result.content_id, settings, manifest, source, home)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium through Playwright, one per test session (Playwright's sync API allows
    one running instance per thread); fails (never skips) when it is missing."""
    require_heavy("browser")
    try:
        pw, chromium = launch_chromium()
    except HlskitError as exc:
        pytest.fail(exc.message, pytrace=False)
    yield chromium
    chromium.close()
    pw.stop()
