"""Fixtures for the Celery engine: a real Redis, real workers, real FFmpeg sources.

Each test module gets its own broker, hlskit home (SQLite job and key stores, which every
process on this host shares) and two workers, w1 and w2. Nothing skips: without redis-server
the tests fail with the command that installs it.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from hlskit.domain.settings import Settings
from hlskit.engines.sample import sample_args
from tests.celery.cluster import Redis, Workers
from tests.tiers import debian_ffprobe

LADDER = """
[[definition]]
name = "lo"
width = 160
video_kbps = 150

[[definition]]
name = "hi"
width = 320
video_kbps = 400
"""
VISIBILITY = 20  # seconds before Redis hands a dead worker's task to another


@dataclass
class Cluster:
    redis: Redis
    workers: Workers
    home: Path
    out: Path
    ladder: Path

    def settings(self, **changes) -> Settings:
        base = Settings(
            home=self.home,
            media_root=self.out,
            broker_url=self.redis.url,
            x264_preset="ultrafast",
            celery_visibility_timeout=VISIBILITY,
        )
        return base.replace(**changes)

    def env(self) -> dict[str, str]:
        """The environment of a CLI process that sees this cluster."""
        return {**self.workers.env, "HLSKIT_X264_PRESET": "ultrafast"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Cluster:
    base = tmp_path_factory.mktemp("celery")
    redis = Redis(base)
    try:
        redis.start()
    except (RuntimeError, OSError) as exc:
        pytest.fail(f"could not start a throwaway Redis for the Celery tests: {exc}", pytrace=False)
    home, out = base / "home", base / "out"
    out.mkdir()
    env = {
        "HLSKIT_HOME": str(home),
        "HLSKIT_BROKER_URL": redis.url,
        "HLSKIT_CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY),
    }
    for name in ("HLSKIT_CONFIG", "HLSKIT_STORE_URL", "HLSKIT_FFMPEG"):
        env[name] = ""  # the tests' own settings, whatever the shell exported (empty: unset)
    workers = Workers(base, env)
    ladder = base / "ladder.toml"
    ladder.write_text(LADDER)
    made = Cluster(redis, workers, home, out, ladder)
    try:
        workers.ensure(["w1", "w2"])
        yield made
    finally:
        workers.stop_all()
        redis.kill()


def make_source(ffmpeg: str, path: Path, seconds: int, fps: int = 25) -> Path:
    """A 320x180 clip with motion, detail and stereo AAC (the sample recipe, fast settings)."""
    if not path.exists():
        subprocess.run(sample_args(ffmpeg, str(path), 320, 180, seconds, fps, preset="ultrafast"), check=True)
    return path


def frames_of(path: Path | str) -> int:
    """Video frames Debian's ffprobe decodes from ``path`` (a file or URL)."""
    done = subprocess.run(
        [debian_ffprobe(), "-v", "error", "-count_frames", "-select_streams", "v:0"]
        + ["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return int(done.stdout.split()[0])


@pytest.fixture(autouse=True)
def _no_shell_settings(monkeypatch):
    """Keep a developer's exported HLSKIT_* settings out of the test process."""
    for name in list(os.environ):
        if name.startswith("HLSKIT_"):
            monkeypatch.delenv(name)
