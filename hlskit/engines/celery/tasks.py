"""What a worker does with one task: encode a chunk (or an audio rendition, or the sprite) into
the run's shared work folder, and say so in the job store.

Each attempt writes into a folder of its own (``chunks/.<chunk>.<random>``) that is renamed into
place only when every output is complete, so a worker killed half-way leaves nothing that counts,
and a task delivered twice (Redis redelivers after the visibility timeout) finds its chunk in
place and stops. A failed attempt is retried by Celery; the third failure of a chunk ends it,
naming FFmpeg's sentence, and the definitions it failed then fail. Every second the task looks at
the job store: a cancelled run (``hlskit cancel``) stops its FFmpeg within a second or two.

A task carries the hlskit version that sent it; a worker of another version refuses it in one
sentence (its FFmpeg commands were built by that version).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ... import __version__
from ...domain.chunks import THUMBNAILS, VIDEO, ChunkState
from ...domain.configs import CeleryConfig
from ...domain.runs import JobState
from ...stores.db import StoreUnavailable
from ...stores.jobs import JobStore
from ..encode import FFMPEG_PLAYLIST, ffmpeg_exe
from ..outcome import check_output, ffmpeg_reason, progress_percent
from ..process import popen_tied
from .app import TASK
from .chunks import OUT, SPRITE_ROW
from .signing import task_secret, verify
from .work import CHUNK_FILE, RUN_FILE, chunk_dir, work_dir

log = logging.getLogger("hlskit.worker")

ATTEMPTS = 3  # a chunk that fails this many times fails its definitions
MAX_STARTS = 5  # a chunk whose worker died this many times fails too (it may be what kills them)
RETRY_SECONDS = 2
CHECK_SECONDS = 1.0  # how often a running task looks for a cancel


@dataclass
class Piece:
    """One task's arguments (see engine.py, which sends them)."""

    version: str
    run_id: str
    staging: str
    name: str
    kind: str
    commands: list[list[str]]
    outputs: list[str]
    jobs: list[str]
    seconds: float


class Stop(Exception):
    """The run ended or was cancelled while the chunk was encoding."""


def register(app: Any, config: CeleryConfig) -> None:
    """Add hlskit's task to a worker's Celery ``app``."""
    assert config.store is not None
    ffmpeg = ffmpeg_exe(config.ffmpeg)
    secret = task_secret(config)
    stores: dict[str, JobStore] = {}

    def store() -> JobStore:
        if "jobs" not in stores:  # opened in the worker, after Celery has forked or started its threads
            stores["jobs"] = JobStore.open(config.store)  # type: ignore[arg-type]
        return stores["jobs"]

    @app.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
    def encode(self: Any, **kwargs: Any) -> None:
        worker = self.request.hostname or "worker"
        if not verify(secret, {k: v for k, v in kwargs.items() if k != "signature"}, kwargs.get("signature")):
            refuse_unsigned(kwargs, worker, store())
            return
        kwargs.pop("signature")
        piece = Piece(**kwargs)
        try:
            again = run_piece(piece, worker, self.request.id or "", store(), ffmpeg)
        except StoreUnavailable as exc:  # the job store is away: try again later, nothing was counted
            log.warning("%s of run %s waits for the job store: %s", piece.name, piece.run_id, exc.message)
            raise self.retry(countdown=10) from None
        if again:
            raise self.retry(countdown=RETRY_SECONDS)


def refuse_unsigned(kwargs: dict[str, Any], worker: str, store: JobStore) -> None:
    """A task not signed with this worker's task secret: nothing of it runs. Its chunk (when it
    names one) fails with the sentence, so a run sent by a host with another secret ends."""
    sentence = (
        f"worker {worker} refused a task whose signature does not match its task secret: set the same "
        "task_secret (HLSKIT_TASK_SECRET, or <home>/task.secret) on every worker and on the host that packages"
    )
    run_id, name = kwargs.get("run_id"), kwargs.get("name")
    log.warning("%s (run %r, %r).", sentence, run_id, name)
    if isinstance(run_id, str) and isinstance(name, str):
        store.chunks.update(run_id, name, state=ChunkState.FAILED, worker=worker, message=sentence)


def run_piece(piece: Piece, worker: str, task_id: str, store: JobStore, ffmpeg: str) -> bool:
    """Do one task; True when the chunk failed and should be tried again."""
    chunks = store.chunks
    if piece.version != __version__:
        sentence = (
            f"worker {worker} runs hlskit {__version__} but this task was sent by hlskit {piece.version}: "
            "install the same hlskit version on every worker and on the host that packages"
        )
        log.warning("refused %s of run %s: %s.", piece.name, piece.run_id, sentence)
        chunks.update(piece.run_id, piece.name, state=ChunkState.FAILED, worker=worker, message=sentence)
        return False
    final = chunk_dir(piece.staging, piece.name)
    if not (work_dir(piece.staging) / RUN_FILE).is_file():
        log.info("dropped %s of run %s: the run has ended (its work folder is gone).", piece.name, piece.run_id)
        return False
    if final.is_dir():  # delivered twice: an earlier delivery finished it
        _ended(store, piece, final)
        return False
    if _stopped(store, piece):
        chunks.update(piece.run_id, piece.name, state=ChunkState.CANCELLED, message="the run was cancelled")
        return False
    chunk = chunks.start(piece.run_id, piece.name, worker, task_id)
    if chunk is None:
        return False
    if chunk.attempts > MAX_STARTS:
        sentence = f"it was started {MAX_STARTS} times and its worker stopped each time"
        chunks.update(piece.run_id, piece.name, state=ChunkState.FAILED, message=sentence)
        return False
    for job_id in piece.jobs:
        job = store.get(job_id)
        if job is not None and job.state == JobState.SUBMITTED:
            store.update(job_id, state=JobState.TRANSCODING, owner=worker)
    attempt = final.with_name(f".{final.name}.{secrets.token_hex(4)}")
    try:
        failed = _attempt(piece, attempt, store, ffmpeg)
    except Stop:
        shutil.rmtree(attempt, ignore_errors=True)
        chunks.update(piece.run_id, piece.name, state=ChunkState.CANCELLED, message="the run was cancelled")
        return False
    except BaseException:
        shutil.rmtree(attempt, ignore_errors=True)
        raise
    if failed and chunk.attempts < ATTEMPTS:
        shutil.rmtree(attempt, ignore_errors=True)
        reason = "; ".join(f"{out}: {why}" for out, why in failed.items())
        log.warning(
            "%s of run %s failed (attempt %d of %d): %s", piece.name, piece.run_id, chunk.attempts, ATTEMPTS, reason
        )
        chunks.update(piece.run_id, piece.name, state=ChunkState.RETRYING, message=reason)
        return True
    for out in failed:  # the last attempt: keep what worked, name what did not
        shutil.rmtree(attempt / out, ignore_errors=True)
    record = {"worker": worker, "attempts": chunk.attempts, "failed": failed, "finished_at": time.time()}
    (attempt / CHUNK_FILE).write_text(json.dumps(record), encoding="utf-8")
    try:
        os.rename(attempt, final)
    except OSError:  # another delivery of this task put its folder in place first
        shutil.rmtree(attempt, ignore_errors=True)
    _ended(store, piece, final)
    return False


def _ended(store: JobStore, piece: Piece, final: Path) -> None:
    """Record a chunk in place: Done, or Failed naming its failed outputs; and its jobs' progress."""
    record = json.loads((final / CHUNK_FILE).read_text(encoding="utf-8"))
    failed: dict[str, str] = record.get("failed") or {}
    if failed:
        message = "; ".join(f"{out}: {why}" for out, why in failed.items())
        store.chunks.update(piece.run_id, piece.name, state=ChunkState.FAILED, percent=0, message=message)
    else:
        store.chunks.update(piece.run_id, piece.name, state=ChunkState.DONE, percent=100, message="")
    if piece.kind != VIDEO:
        return
    video = [c for c in store.chunks.of_run(piece.run_id) if c.kind == VIDEO]
    done = sum(1 for c in video if c.state == ChunkState.DONE)
    for job_id in piece.jobs:  # finishing (encryption) happens on the follower: at most 99 here
        store.update(job_id, percent=min(99, int(100 * done / max(1, len(video)))))


def _stopped(store: JobStore, piece: Piece) -> bool:
    """Whether the run was cancelled or has ended, or its work folder is gone."""
    if not (work_dir(piece.staging) / RUN_FILE).is_file():
        return True
    run = store.get_run(piece.run_id)
    if run is None or run.state.finished:
        return True
    return any((job := store.get(j)) is not None and job.state == JobState.CANCELLED for j in piece.jobs)


def _attempt(piece: Piece, folder: Path, store: JobStore, ffmpeg: str) -> dict[str, str]:
    """Run the piece's FFmpeg into ``folder``; {output: why it failed} (empty: all complete)."""
    folder.mkdir()  # never parents: a run whose folder is gone has ended
    for out in piece.outputs:
        (folder / out).mkdir(parents=True)
    watch = _watcher(store, piece)
    reason = _run(piece.commands[0], piece, folder, ffmpeg, watch)
    failed = _check(piece, folder, []) if reason is None else {out: reason for out in piece.outputs or [piece.kind]}
    if not failed or len(piece.commands) == 1:
        return failed
    # The shared process failed: each definition alone, so one bad definition fails by itself.
    failed = {}
    for out, command in zip(piece.outputs, piece.commands[1:]):
        shutil.rmtree(folder / out, ignore_errors=True)
        (folder / out).mkdir(parents=True)
        alone = _run(command, piece, folder, ffmpeg, watch)
        failed.update({out: alone} if alone else _check(piece, folder, [out]))
    return failed


def _check(piece: Piece, folder: Path, only: list[str]) -> dict[str, str]:
    """Which outputs are incomplete (FFmpeg can exit 0 with a partial playlist: engines.outcome)."""
    if piece.kind == THUMBNAILS:
        row = folder / SPRITE_ROW
        return {} if row.is_file() and row.stat().st_size else {THUMBNAILS: "FFmpeg wrote no sprite row"}
    failed = {}
    for out in only or piece.outputs:
        outcome = check_output(folder / out / FFMPEG_PLAYLIST, piece.seconds, [])
        if not outcome.ok:
            failed[out] = outcome.reason
    return failed


def _watcher(store: JobStore, piece: Piece) -> Callable[[float], None]:
    """A function called with the percent done, at most every CHECK_SECONDS: it records progress
    and raises Stop when the run was cancelled or ended."""
    last = [0.0]

    def watch(percent: float) -> None:
        now = time.monotonic()
        if now - last[0] < CHECK_SECONDS:
            return
        last[0] = now
        if _stopped(store, piece):
            raise Stop
        store.chunks.update(piece.run_id, piece.name, percent=int(percent))

    return watch


def _run(args: list[str], piece: Piece, folder: Path, ffmpeg: str, watch: Callable[[float], None]) -> str | None:
    """Run one FFmpeg command (without its binary) into ``folder``; None when it exited 0, else
    FFmpeg's sentence. Stop (after killing FFmpeg) when ``watch`` says the run was cancelled."""
    command = [ffmpeg, *(a.replace(OUT, str(folder)) for a in args)]
    proc = popen_tied(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
    assert proc.stdout is not None and proc.stderr is not None
    lines: list[str] = []
    stderr = proc.stderr
    reader = threading.Thread(target=lambda: lines.extend(stderr), daemon=True)
    reader.start()
    percent = 0.0
    ticker = threading.Event()
    try:
        if "-progress" in command:
            for line in proc.stdout:
                key, _, value = line.strip().partition("=")
                if (done := progress_percent(key, value, piece.seconds)) is not None:
                    percent = done
                watch(percent)
        while proc.poll() is None:  # the sprite's FFmpeg reports no progress: still watch for a cancel
            ticker.wait(0.2)
            watch(percent)
        proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    reader.join(timeout=5)
    if proc.returncode == 0:
        return None
    return ffmpeg_reason(lines, proc.returncode)
