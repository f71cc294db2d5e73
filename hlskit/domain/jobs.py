"""Runs and jobs, with MPS's state names, persisted in SQLite (WAL).

A *job* is one definition of one source. A *package run* is one attempt at one content id: the
jobs it submitted (on MPS, one SubmitJobs call and its JobIds) and what became of them. Every later
step (follow, finish, cancel, status) looks at one run, never at "all jobs of a content id".

Every engine writes to the same store, so ``hlskit status`` and ``hlskit cancel`` see the same
truth whether a job runs in a local FFmpeg process or on Alibaba Cloud MPS, and a restart after
a crash finds runs and jobs as they were left.

Concurrent runs of one content id: at most one run of a content id is active (Running or
Finishing) at a time. :meth:`JobStore.start_run` checks and inserts in one write transaction,
so a second run fails at once with a sentence naming the active one. A local run whose process
died no longer holds its content id (:meth:`JobStore.recover` marks it Interrupted).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
import time
from collections.abc import Iterable
from contextlib import closing
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import Any

from .errors import ConfigError, InputError


class JobState(str, Enum):
    SUBMITTED = "Submitted"
    TRANSCODING = "Transcoding"
    SUCCESS = "TranscodeSuccess"
    FAIL = "TranscodeFail"
    CANCELLED = "TranscodeCancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.SUCCESS, JobState.FAIL, JobState.CANCELLED)

    def __str__(self) -> str:
        return self.value


class RunState(str, Enum):
    RUNNING = "Running"  # jobs submitted or encoding
    FINISHING = "Finishing"  # one process is stitching, validating and publishing it
    PUBLISHED = "Published"  # the package is live (some definitions may have failed)
    FAILED = "Failed"  # nothing was published
    CANCELLED = "Cancelled"  # the user cancelled it; nothing was published
    INTERRUPTED = "Interrupted"  # its process stopped before it ended; nothing was published

    @property
    def finished(self) -> bool:
        return self not in (RunState.RUNNING, RunState.FINISHING)

    def __str__(self) -> str:
        return self.value


def new_job_id() -> str:
    return secrets.token_hex(16)  # 32 hex characters, like MPS job ids


def new_run_id() -> str:
    return secrets.token_hex(6)


@dataclass
class Run:
    """One attempt at one content id."""

    run_id: str
    content_id: str
    engine: str = "local"
    state: RunState = RunState.RUNNING
    out: str = ""  # the package's final location: a folder, or oss://bucket/prefix
    code: str = ""
    message: str = ""
    owner: str = ""  # "host:pid" of the process that runs (local) or finishes it
    notify: str = ""  # JSON list of notification targets
    created_at: float = field(default_factory=time.time)
    finished_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["state"] = self.state.value
        return d


class ContentBusy(InputError):
    """Another run of the same content id is active."""


@dataclass
class Job:
    job_id: str
    content_id: str
    definition: str
    run_id: str = ""
    engine: str = "local"
    state: JobState = JobState.SUBMITTED
    percent: int = 0
    code: str = ""
    message: str = ""
    output: str = ""  # where the media playlist lands: a path, or oss://bucket/key
    user_data: str = ""  # JSON text, echoed to notifications (MPS UserData)
    remote_id: str = ""  # the engine's own id (MPS JobId)
    source: str = ""
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    owner: str = ""  # "host:pid" of the local process running it
    notify: str = ""  # JSON list of notification targets, for whoever sees the job end

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["state"] = self.state.value
        return d


_COLUMNS = [f.name for f in fields(Job)]
_RUN_COLUMNS = [f.name for f in fields(Run)]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    content_id TEXT NOT NULL,
    definition TEXT NOT NULL,
    engine TEXT NOT NULL,
    state TEXT NOT NULL,
    percent INTEGER NOT NULL DEFAULT 0,
    code TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    output TEXT NOT NULL DEFAULT '',
    user_data TEXT NOT NULL DEFAULT '',
    remote_id TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    owner TEXT NOT NULL DEFAULT '',
    notify TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS jobs_content ON jobs (content_id);
CREATE INDEX IF NOT EXISTS jobs_remote ON jobs (remote_id);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    content_id TEXT NOT NULL,
    engine TEXT NOT NULL,
    state TEXT NOT NULL,
    out TEXT NOT NULL DEFAULT '',
    code TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    notify TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS runs_content ON runs (content_id, state);
"""


def this_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def pid_alive(pid: int) -> bool:
    """Whether a process of this machine still exists (one we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _alive(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's process: we cannot tell, so assume it runs
    return pid_alive(int(pid))


class JobStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with closing(self._connect()) as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)
                present = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
                for name in _COLUMNS:  # stores made by an older hlskit gain the new columns
                    if name not in present:
                        db.execute(f"ALTER TABLE jobs ADD COLUMN {name} TEXT NOT NULL DEFAULT ''")
        except sqlite3.DatabaseError as exc:
            raise ConfigError(
                f"the job store {self.path} cannot be opened ({exc}): move it aside "
                "(hlskit starts a new one) or restore it from a backup."
            ) from None

    @classmethod
    def from_settings(cls, settings) -> JobStore:
        return cls(settings.job_db)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    @staticmethod
    def _row(row: Iterable[Any]) -> Job:
        job = Job(**dict(zip(_COLUMNS, row)))
        job.state = JobState(job.state)
        return job

    @staticmethod
    def _run_row(row: Iterable[Any]) -> Run:
        run = Run(**dict(zip(_RUN_COLUMNS, row)))
        run.state = RunState(run.state)
        return run

    # --- runs ---------------------------------------------------------------------------

    def start_run(self, run: Run, jobs: list[Job]) -> Run:
        """Record a new run and its jobs, unless another run of the content id is active.

        Check and insert happen in one write transaction, so of two processes starting a run of
        the same content id at once, exactly one wins; the other gets :class:`ContentBusy`.
        Call :meth:`recover` first, so that a run whose process died does not hold the content id.
        """
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                busy = db.execute(
                    f"SELECT {','.join(_RUN_COLUMNS)} FROM runs WHERE content_id=? AND state IN (?, ?)",
                    (run.content_id, RunState.RUNNING.value, RunState.FINISHING.value),
                ).fetchone()
                if busy is not None:
                    other = self._run_row(busy)
                    raise ContentBusy(
                        f"content id {run.content_id} is being packaged by run {other.run_id} "
                        f"({other.engine}, {other.state.value}): wait for it (`hlskit status {other.run_id} --wait`), "
                        f"cancel it (`hlskit cancel {other.run_id}`), or choose another --content-id.",
                        code="ContentBusy",
                    )
                d = run.to_dict()
                db.execute(
                    f"INSERT INTO runs ({','.join(_RUN_COLUMNS)}) VALUES ({','.join('?' * len(_RUN_COLUMNS))})",
                    [d[c] for c in _RUN_COLUMNS],
                )
                for job in jobs:
                    job.run_id = run.run_id
                    j = job.to_dict()
                    db.execute(
                        f"INSERT INTO jobs ({','.join(_COLUMNS)}) VALUES ({','.join('?' * len(_COLUMNS))})",
                        [j[c] for c in _COLUMNS],
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return run

    def get_run(self, run_id: str) -> Run | None:
        with closing(self._connect()) as db:
            row = db.execute(f"SELECT {','.join(_RUN_COLUMNS)} FROM runs WHERE run_id=?", (run_id,)).fetchone()
        return self._run_row(row) if row else None

    def runs(self, ref: str | None = None) -> list[Run]:
        """All runs, or those matching a run id (or unique prefix), a content id, or one of their job ids."""
        query = f"SELECT {','.join(_RUN_COLUMNS)} FROM runs"
        args: tuple = ()
        if ref:
            query += (
                " WHERE run_id=? OR content_id=? OR run_id LIKE ? OR run_id IN "
                "(SELECT run_id FROM jobs WHERE job_id=? OR remote_id=? OR job_id LIKE ?)"
            )
            args = (ref, ref, ref + "%", ref, ref, ref + "%")
        with closing(self._connect()) as db:
            rows = db.execute(query + " ORDER BY created_at, run_id", args).fetchall()
        return [self._run_row(r) for r in rows]

    def run_jobs(self, run_id: str) -> list[Job]:
        with closing(self._connect()) as db:
            rows = db.execute(
                f"SELECT {','.join(_COLUMNS)} FROM jobs WHERE run_id=? ORDER BY created_at, rowid", (run_id,)
            ).fetchall()
        return [self._row(r) for r in rows]

    def claim_finish(self, run_id: str) -> bool:
        """Move a Running run to Finishing for this process; False when another process has it."""
        with closing(self._connect()) as db:
            cur = db.execute(
                "UPDATE runs SET state=?, owner=? WHERE run_id=? AND state=?",
                (RunState.FINISHING.value, this_owner(), run_id, RunState.RUNNING.value),
            )
        return cur.rowcount == 1

    def end_run(self, run_id: str, state: RunState, code: str = "", message: str = "") -> Run:
        """Record how a run ended; an ended run never changes again."""
        with closing(self._connect()) as db:
            db.execute(
                "UPDATE runs SET state=?, code=?, message=?, finished_at=? WHERE run_id=? AND state IN (?, ?)",
                (state.value, code, message, time.time(), run_id, RunState.RUNNING.value, RunState.FINISHING.value),
            )
        return self.get_run(run_id)  # type: ignore[return-value]

    # --- jobs ---------------------------------------------------------------------------

    def add(self, job: Job) -> Job:
        d = job.to_dict()
        with closing(self._connect()) as db:
            db.execute(
                f"INSERT INTO jobs ({','.join(_COLUMNS)}) VALUES ({','.join('?' * len(_COLUMNS))})",
                [d[c] for c in _COLUMNS],
            )
        return job

    def get(self, job_id: str) -> Job | None:
        with closing(self._connect()) as db:
            row = db.execute(f"SELECT {','.join(_COLUMNS)} FROM jobs WHERE job_id=?", (job_id,)).fetchone()
        return self._row(row) if row else None

    def update(self, job_id: str, **changes: Any) -> Job:
        """Change fields of one job. A finished job's state is never changed again."""
        if "state" in changes:
            state = JobState(changes["state"])
            changes["state"] = state.value
            if state == JobState.TRANSCODING:
                changes.setdefault("started_at", time.time())
            if state.finished:
                changes.setdefault("finished_at", time.time())
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            current = db.execute("SELECT state FROM jobs WHERE job_id=?", (job_id,)).fetchone()
            if current is None:
                db.execute("ROLLBACK")
                raise InputError(f"no job {job_id}: list jobs with `hlskit status`.")
            if "state" in changes and JobState(current[0]).finished:
                changes = {
                    k: v
                    for k, v in changes.items()
                    if k not in ("state", "finished_at", "started_at", "code", "message")
                }
            if changes:
                sets = ", ".join(f"{k}=?" for k in changes)
                db.execute(f"UPDATE jobs SET {sets} WHERE job_id=?", [*changes.values(), job_id])
            db.execute("COMMIT")
        return self.get(job_id)  # type: ignore[return-value]

    def list(self, ref: str | None = None) -> list[Job]:
        """All jobs, or those of one job id, run id or content id (a unique prefix of a job id works too)."""
        query = f"SELECT {','.join(_COLUMNS)} FROM jobs"
        args: tuple = ()
        if ref:
            query += " WHERE job_id=? OR content_id=? OR remote_id=? OR run_id=? OR job_id LIKE ?"
            args = (ref, ref, ref, ref, ref + "%")
        with closing(self._connect()) as db:
            rows = db.execute(query + " ORDER BY created_at, content_id, definition", args).fetchall()
        return [self._row(r) for r in rows]

    def find_job(self, ref: str) -> Job:
        """One job by id, unique id prefix or MPS JobId."""
        matches = [j for j in self.list(ref) if j.job_id.startswith(ref) or j.remote_id == ref]
        if not matches:
            raise InputError(f"no job {ref}: list runs and jobs with `hlskit status`.")
        if len(matches) > 1:
            raise InputError(f"{ref} matches {len(matches)} jobs: give more characters of the job id.")
        return matches[0]

    def cancel(self, job_id: str) -> Job:
        """Mark one job cancelled; the engine running it drops it at its next check."""
        return self.update(job_id, state=JobState.CANCELLED, code="Cancelled", message="cancelled by user")

    def recover(self) -> list[Run]:
        """End the local runs (and their jobs) whose process died without ending them: Interrupted.

        Returns those runs, so the caller can revoke their keys. A run of another host, or an mts
        run (its jobs live on MPS), is left alone; an mts run whose finishing process died goes
        back to Running so that `hlskit status --wait` can finish it.
        """
        lost = []
        for run in self.runs():
            if run.state.finished or not run.owner or _alive(run.owner):
                continue
            if run.engine != "local":
                if run.state == RunState.FINISHING:
                    with closing(self._connect()) as db:
                        db.execute(
                            "UPDATE runs SET state=? WHERE run_id=? AND state=?",
                            (RunState.RUNNING.value, run.run_id, RunState.FINISHING.value),
                        )
                continue
            for job in self.run_jobs(run.run_id):
                if not job.state.finished:
                    self.update(
                        job.job_id,
                        state=JobState.FAIL,
                        code="Interrupted",
                        message="the process running this job stopped before it ended; package the source again",
                    )
            lost.append(
                self.end_run(
                    run.run_id,
                    RunState.INTERRUPTED,
                    "Interrupted",
                    "the process running this package stopped before it ended",
                )
            )
        return lost


def user_data(**values: Any) -> str:
    return json.dumps(values, separators=(",", ":"), sort_keys=True)
