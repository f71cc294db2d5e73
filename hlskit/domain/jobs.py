"""Jobs: one definition of one source, with MPS's state names, persisted in SQLite (WAL).

Every engine writes to the same store, so ``hlskit status`` and ``hlskit cancel`` see the same
truth whether a job runs in a local FFmpeg process or on Alibaba Cloud MPS, and a restart after
a crash finds jobs as they were left.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
import time
from contextlib import closing
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import Any, Iterable

from .errors import InputError


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


def new_job_id() -> str:
    return secrets.token_hex(16)  # 32 hex characters, like MPS job ids


@dataclass
class Job:
    job_id: str
    content_id: str
    definition: str
    engine: str = "local"
    state: JobState = JobState.SUBMITTED
    percent: int = 0
    code: str = ""
    message: str = ""
    output: str = ""          # where the media playlist lands: a path, or oss://bucket/key
    user_data: str = ""       # JSON text, echoed to notifications (MPS UserData)
    remote_id: str = ""       # the engine's own id (MPS JobId)
    source: str = ""
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    owner: str = ""           # "host:pid" of the local process running it
    notify: str = ""          # JSON list of notification targets, for whoever sees the job end

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["state"] = self.state.value
        return d


_COLUMNS = [f.name for f in fields(Job)]

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
        with closing(self._connect()) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            present = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
            for name in _COLUMNS:  # stores made by an older hlskit gain the new columns
                if name not in present:
                    db.execute(f"ALTER TABLE jobs ADD COLUMN {name} TEXT NOT NULL DEFAULT ''")

    @classmethod
    def from_settings(cls, settings) -> "JobStore":
        return cls(settings.job_db)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    @staticmethod
    def _row(row: Iterable[Any]) -> Job:
        job = Job(**dict(zip(_COLUMNS, row)))
        job.state = JobState(job.state)
        return job

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
        sets = ", ".join(f"{k}=?" for k in changes)
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            current = db.execute("SELECT state FROM jobs WHERE job_id=?", (job_id,)).fetchone()
            if current is None:
                db.execute("ROLLBACK")
                raise InputError(f"no job {job_id}: list jobs with `hlskit status`.")
            if "state" in changes and JobState(current[0]).finished:
                changes = {k: v for k, v in changes.items() if k not in ("state", "finished_at", "started_at")}
                sets = ", ".join(f"{k}=?" for k in changes)
            if changes:
                db.execute(f"UPDATE jobs SET {sets} WHERE job_id=?", [*changes.values(), job_id])
            db.execute("COMMIT")
        return self.get(job_id)  # type: ignore[return-value]

    def list(self, ref: str | None = None) -> list[Job]:
        """All jobs, or those of one job id or content id (a unique prefix of a job id works too)."""
        query = f"SELECT {','.join(_COLUMNS)} FROM jobs"
        args: tuple = ()
        if ref:
            query += " WHERE job_id=? OR content_id=? OR remote_id=? OR job_id LIKE ?"
            args = (ref, ref, ref, ref + "%")
        with closing(self._connect()) as db:
            rows = db.execute(query + " ORDER BY created_at, content_id, definition", args).fetchall()
        return [self._row(r) for r in rows]

    def cancel(self, job_id: str) -> Job:
        """Mark an unfinished job cancelled; the engine running it drops it at its next check."""
        matches = self.list(job_id)
        matches = [j for j in matches if j.job_id.startswith(job_id) or j.remote_id == job_id]
        if not matches:
            raise InputError(f"no job {job_id}: list jobs with `hlskit status`.")
        if len(matches) > 1:
            raise InputError(f"{job_id} matches {len(matches)} jobs: give more characters of the job id.")
        job = matches[0]
        if job.state.finished:
            raise InputError(f"job {job.job_id} already ended as {job.state.value}: only unfinished jobs can be cancelled.")
        return self.update(job.job_id, state=JobState.CANCELLED, code="Cancelled", message="cancelled by user")

    def recover(self) -> list[Job]:
        """Mark as failed the local jobs whose process died (a crash or a kill) without ending them."""
        lost = []
        for job in self.list():
            if job.engine == "local" and not job.state.finished and job.owner and not _alive(job.owner):
                lost.append(self.update(job.job_id, state=JobState.FAIL, code="Interrupted",
                                        message="the process running this job stopped before it ended; package the source again"))
        return lost


def user_data(**values: Any) -> str:
    return json.dumps(values, separators=(",", ":"), sort_keys=True)
