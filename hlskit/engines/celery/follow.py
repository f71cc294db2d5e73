"""Wait for a run's chunks: progress, lost workers, a restarted broker, a cancel.

Every second the follower reads the run's chunk rows and reports each definition's progress (the
mean of its chunks'). Besides Redis's own redelivery (a dead worker's task comes back after the
visibility timeout), it looks after two faults itself, because sending a chunk again is always
safe (a chunk is complete only once its folder is renamed into place, and a second delivery of a
finished chunk stops at once):

- a worker that ran a chunk and stops answering pings three times in a row (about 30 s) has its
  chunk sent again at once, so the run does not wait out the visibility timeout;
- a broker that restarted (its Redis run_id changed) may have lost every queued task: each chunk
  not finished is sent again. A broker that stays away ends the run, in one sentence, after
  :data:`BROKER_GRACE` seconds; nothing is published.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from ...domain.chunks import AUDIO, VIDEO, Chunk, ChunkState
from ...domain.configs import CeleryConfig
from ...domain.plan import ProgressCallback
from ...domain.runs import JobState
from ...stores.jobs import JobStore
from .app import broker_identity, ping_workers
from .work import RunFile, Task, write_run_file


class Sender(Protocol):
    """What the follower needs of the engine (engine.CeleryEngine)."""

    config: CeleryConfig

    @property
    def app(self) -> Any: ...

    def send(self, run: RunFile, task: Task) -> None: ...

    def unreachable(self, exc: BaseException) -> str: ...


POLL_SECONDS = 1.0
BROKER_CHECK_SECONDS = 5.0
PING_SECONDS = 10.0
LOST_AFTER = 3  # missed pings before a running chunk is sent again
BROKER_GRACE = 300.0  # seconds the broker may stay away before the run ends
CANCEL_WAIT = 15.0  # seconds to let running chunks see a cancel before finishing the run


class Follower:
    def __init__(self, engine: Sender, run: RunFile, store: JobStore, progress: ProgressCallback):
        self.engine, self.run, self.store, self.progress = engine, run, store, progress
        self.missed: dict[str, int] = {}
        self.broker_lost_since: float | None = None
        self.gave_up = ""  # why the run ends without its chunks (the broker stayed away)
        self.last_broker = self.last_ping = time.monotonic()

    def wait(self) -> list[Chunk]:
        """Return the chunks once each has ended (or the run was cancelled and they stopped)."""
        cancelled_at = None
        while True:
            chunks = self.store.chunks.of_run(self.run.run_id)
            self._report(chunks)
            if all(c.state.finished for c in chunks):
                return chunks
            jobs = self.store.run_jobs(self.run.run_id)
            if any(j.state == JobState.CANCELLED for j in jobs):
                cancelled_at = cancelled_at or time.monotonic()
                running = [c for c in chunks if c.state == ChunkState.RUNNING]
                if not running or time.monotonic() - cancelled_at > CANCEL_WAIT:
                    return chunks
            else:
                now = time.monotonic()
                if now - self.last_broker >= BROKER_CHECK_SECONDS:
                    self.last_broker = now
                    if self._check_broker(chunks):
                        return self.store.chunks.of_run(self.run.run_id)
                if now - self.last_ping >= PING_SECONDS and self.broker_lost_since is None:
                    self.last_ping = now
                    self._check_workers(chunks)
            time.sleep(POLL_SECONDS)

    def _report(self, chunks: list[Chunk]) -> None:
        video = [c for c in chunks if c.kind == VIDEO]
        if video:
            pct = sum(100 if c.state == ChunkState.DONE else c.percent for c in video) / len(video)
            for name in self.run.definitions:
                self.progress(name, min(99.0, pct))
        by_name = {c.name: c for c in chunks if c.kind == AUDIO}
        for a in self.run.audio:
            chunk = by_name.get(a["folder"])
            if chunk is not None:
                self.progress(a["folder"], 99.0 if chunk.state == ChunkState.DONE else float(chunk.percent))

    def _check_broker(self, chunks: list[Chunk]) -> bool:
        """Send unfinished chunks again after a broker restart; True when the broker stayed away
        too long and the chunks were ended."""
        try:
            identity = broker_identity(self.engine.config)
        except OSError as exc:
            now = time.monotonic()
            self.broker_lost_since = self.broker_lost_since or now
            if now - self.broker_lost_since < BROKER_GRACE:
                return False
            self.gave_up = (
                f"{self.engine.unreachable(exc)}; it was away for over {BROKER_GRACE:.0f} s, so the run's "
                "unfinished chunks were given up"
            )
            for c in chunks:
                if not c.state.finished:
                    self.store.chunks.update(self.run.run_id, c.name, state=ChunkState.FAILED, message=self.gave_up)
            return True
        self.broker_lost_since = None
        if identity == self.run.broker_id:
            return False
        self.run.broker_id = identity  # a new broker (restarted): what it held may be gone
        write_run_file(self.run)
        for c in chunks:
            if not c.state.finished:
                self._send_again(c, "sent again: the broker restarted")
        return False

    def _check_workers(self, chunks: list[Chunk]) -> None:
        running = [c for c in chunks if c.state == ChunkState.RUNNING and c.worker]
        if not running:
            self.missed.clear()
            return
        try:
            alive = set(ping_workers(self.engine.app, timeout=2.0))
        except Exception:  # the broker is away: its own check handles that
            return
        for c in running:
            if c.worker in alive:
                self.missed.pop(c.name, None)
                continue
            self.missed[c.name] = self.missed.get(c.name, 0) + 1
            if self.missed[c.name] >= LOST_AFTER:
                self.missed.pop(c.name)
                self._send_again(c, f"sent again: worker {c.worker} stopped answering")

    def _send_again(self, chunk: Chunk, why: str) -> None:
        self.store.chunks.update(self.run.run_id, chunk.name, state=ChunkState.QUEUED, percent=0, message=why)
        try:
            self.engine.send(self.run, self.run.task(chunk.name))
        except Exception:  # the broker went away again: the next check sends it
            self.run.broker_id = ""
            write_run_file(self.run)
