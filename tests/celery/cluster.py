"""A throwaway Redis broker and real `hlskit worker` processes for the Celery engine's tests.

Redis is Debian's ``redis-server`` on a free 127.0.0.1 port, without persistence (``--save ""``,
no AOF), so a restart loses every queued task, as a broker that crashed would. Workers are the
real CLI (``python -m hlskit worker``) in their own processes, sharing the test's hlskit home
(its SQLite job store) and the broker; a test kills one with SIGKILL, as the issue asks.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from hlskit.domain.configs import CeleryConfig
from hlskit.engines.celery.app import make_app, ping_workers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server() -> str:
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError(
            "redis-server is missing: install Debian's redis-server package (apt-get install -y redis-server), "
            "as .ci/run and `make test` do."
        )
    return found


@dataclass
class Redis:
    dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30) -> None:
        args = [redis_server(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--dir", str(self.dir), "--logfile", str(self.dir / "redis.log"), "--protected-mode", "no"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with code {self.proc.returncode}: see {self.dir}/redis.log")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {timeout:.0f} s")

    def kill(self) -> None:
        """SIGKILL: a crash, nothing saved."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def restart(self) -> None:
        self.kill()
        self.start()


@dataclass
class Workers:
    """``hlskit worker`` processes by name (w1, w2…); their logs in ``dir``."""

    dir: Path
    env: dict[str, str]
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, env: dict[str, str] | None = None, prefix: list[str] | None = None) -> subprocess.Popen:
        """Start worker ``name``; ``prefix`` runs it under another command (bench: ``taskset -c 0``)."""
        log = open(self.dir / f"{name}.log", "ab")  # noqa: SIM115 (the process owns it)
        proc = subprocess.Popen(
            [*(prefix or []), sys.executable, "-m", "hlskit", "worker", "--name", f"{name}@%h", "--concurrency", "1"],
            env={**os.environ, **self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the terminal reaches pytest, not the workers
        )
        self.procs[name] = proc
        return proc

    def node(self, name: str) -> str:
        return f"{name}@{socket.gethostname()}"

    def wait_ready(self, names: list[str], timeout: float = 120) -> None:
        """Until every worker answers Celery's ping (each has connected and registered the task)."""
        app = make_app(CeleryConfig(self.env["HLSKIT_BROKER_URL"]))
        wanted = {self.node(n) for n in names}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name in names:
                if self.procs[name].poll() is not None:
                    raise RuntimeError(f"worker {name} exited: {self.log(name)[-2000:]}")
            try:
                if wanted <= set(ping_workers(app, timeout=1.0)):
                    return
            except Exception:  # a broker restarted a moment ago: a stale pooled connection; ask again
                time.sleep(0.5)
        raise RuntimeError(f"workers {sorted(wanted)} did not answer a ping within {timeout:.0f} s")

    def ensure(self, names: list[str]) -> None:
        """Every named worker running (a test may have killed one)."""
        for name in names:
            if name not in self.procs or self.procs[name].poll() is not None:
                self.start(name)
        self.wait_ready(names)

    def kill(self, name: str) -> None:
        """kill -9: the worker and, through PR_SET_PDEATHSIG, the FFmpeg it runs."""
        proc = self.procs[name]
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.kill(name)

    def log(self, name: str) -> str:
        path = self.dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""
