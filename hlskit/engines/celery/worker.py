"""``hlskit worker``: a Celery worker that runs hlskit's tasks (:mod:`.tasks`).

Its pool is threads: every task's work happens in an FFmpeg process, so a thread per task only
waits for it, and a worker killed with -9 takes its FFmpeg processes with it (engines.process).
Before it starts, the worker checks what its tasks will need, so a misconfigured host says so in
one sentence rather than failing every task: the broker, the job store, FFmpeg.
"""

from __future__ import annotations

import os
import socket

from ...domain.configs import CeleryConfig
from ...domain.errors import ConfigError, InputError
from ...stores.db import mask_url
from ...stores.jobs import JobStore
from ..encode import ffmpeg_exe
from .app import broker_identity, broker_url, make_app
from .tasks import register


def default_name() -> str:
    """A node name unique on this host (two workers on one host must not share one)."""
    return f"hlskit-{os.getpid()}@{socket.gethostname()}"


def run_worker(config: CeleryConfig, concurrency: int, name: str | None = None, loglevel: str = "INFO") -> None:
    """Run a worker until it is stopped (Ctrl-C or SIGTERM: it finishes its running tasks first)."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InputError(f"--concurrency must be a whole number, 1 or more, got {concurrency!r}.")
    url = broker_url(config)
    try:
        broker_identity(config)
    except OSError as exc:
        raise ConfigError(
            f"the broker {mask_url(url)} does not answer ({exc}): start Redis there, or fix broker_url."
        ) from None
    assert config.store is not None
    JobStore.open(config.store).db.ping()  # StoreUnavailable: one sentence naming the store
    ffmpeg_exe(config.ffmpeg)
    app = make_app(config)
    register(app, config)
    app.worker_main(
        [
            "worker",
            "--pool=threads",
            f"--concurrency={concurrency}",
            f"--queues={config.queue}",
            f"--hostname={name or default_name()}",
            f"--loglevel={loglevel}",
            "--without-gossip",
            "--without-mingle",
        ]
    )
