"""CLI fixtures: the real `hlskit` in a subprocess with a clean environment (no HLSKIT_* from the
caller), so each test decides where the home and the config come from."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HLSKIT_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # `hlskit` is this venv's
    env.update(extra)
    return env


def hlskit(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300):
    """Run `python -m hlskit ARGS` in ``cwd`` with ``env`` (default: clean_env())."""
    return subprocess.run(
        [sys.executable, "-m", "hlskit", *args],
        cwd=cwd,
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def project(tmp_path) -> Path:
    """A folder with a make-style `.hlskit/` home (mode 700), as `make demo` leaves the checkout."""
    root = tmp_path / "project"
    (root / ".hlskit").mkdir(parents=True, mode=0o700)
    return root
