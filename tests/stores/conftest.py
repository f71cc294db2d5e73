"""SQLite stores in tmp_path, and owners whose process is gone."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from hlskit.stores.jobs import JobStore
from hlskit.stores.keys import KeyStore


@pytest.fixture
def jobs(tmp_path) -> JobStore:
    return JobStore(tmp_path / "jobs.db")


@pytest.fixture
def keys(tmp_path) -> KeyStore:
    return KeyStore(tmp_path / "keys.db", tmp_path / "master.key")


@pytest.fixture(scope="session")
def dead_owner() -> str:
    """``host:pid`` of a process of this host that has ended."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return f"{socket.gethostname()}:{int(proc.stdout)}"
