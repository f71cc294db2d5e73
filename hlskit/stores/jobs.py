"""The job store: runs and jobs (:mod:`hlskit.domain.runs`) in SQLite (WAL) or PostgreSQL.

Every engine writes to the same store, so ``hlskit status`` and ``hlskit cancel`` see the same
truth whether a job runs in a local FFmpeg process or on Alibaba Cloud MPS, and a restart after
a crash finds runs and jobs as they were left. With a ``postgresql://`` store_url, every host
sees it (:mod:`hlskit.stores.db`).

Concurrent runs of one content id: at most one run of a content id is active (Running or
Finishing) at a time. :meth:`JobStore.start_run` checks and inserts in one write transaction
(SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock on the content id), so a second run fails
at once with a sentence naming the active one. A local run whose process died no longer holds its
content id (:meth:`JobStore.recover` marks it Interrupted).
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Iterable
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..domain.configs import StoreConfig
from ..domain.errors import InputError
from ..domain.runs import ContentBusy, Job, JobState, Run, RunState, owner_alive, this_owner
from .chunks import ChunkStore, create_chunks_table
from .db import Conn, Database, StoreLocation, script

_COLUMNS = [f.name for f in fields(Job)]
_RUN_COLUMNS = [f.name for f in fields(Run)]
_JOBS = ",".join(_COLUMNS)
_RUNS = ",".join(_RUN_COLUMNS)


def _create(db: Conn) -> None:
    """Version 1: the tables as of the first versioned schema (no-ops on an older SQLite store)."""
    real = "DOUBLE PRECISION" if db.dialect == "postgresql" else "REAL"
    # PostgreSQL has no rowid: seq keeps the insertion order that run_jobs reports.
    seq = "seq BIGSERIAL," if db.dialect == "postgresql" else ""
    script(
        f"""
        CREATE TABLE IF NOT EXISTS jobs (
            {seq}
            job_id TEXT PRIMARY KEY,
            content_id TEXT NOT NULL,
            definition TEXT NOT NULL,
            run_id TEXT NOT NULL DEFAULT '',
            engine TEXT NOT NULL,
            state TEXT NOT NULL,
            percent INTEGER NOT NULL DEFAULT 0,
            code TEXT NOT NULL DEFAULT '',
            message TEXT NOT NULL DEFAULT '',
            output TEXT NOT NULL DEFAULT '',
            user_data TEXT NOT NULL DEFAULT '',
            remote_id TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT '',
            created_at {real} NOT NULL,
            started_at {real},
            finished_at {real},
            owner TEXT NOT NULL DEFAULT '',
            notify TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX IF NOT EXISTS jobs_content ON jobs (content_id);
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
            created_at {real} NOT NULL,
            finished_at {real}
        );
        CREATE INDEX IF NOT EXISTS runs_content ON runs (content_id, state)
        """
    )(db)


def _add_missing_job_columns(db: Conn) -> None:
    """Version 2: a jobs table made by an hlskit before versioned schemas gains today's columns."""
    present = db.columns("jobs")
    for name in _COLUMNS:
        if name not in present:
            db.execute(f"ALTER TABLE jobs ADD COLUMN {name} TEXT NOT NULL DEFAULT ''")


MIGRATIONS = [
    _create,
    _add_missing_job_columns,
    # Version 3: indexes on columns that version 2 may have added.
    script(
        "CREATE INDEX IF NOT EXISTS jobs_remote ON jobs (remote_id); CREATE INDEX IF NOT EXISTS jobs_run ON jobs (run_id)"
    ),
    create_chunks_table,  # version 4: the chunks of Celery runs (hlskit.stores.chunks)
]


class JobStore:
    """Runs and jobs in the store named by a path (an SQLite file) or a store URL."""

    def __init__(self, path: Path | str | StoreLocation):
        self.db = Database(path)
        self.path = self.db.location.path  # the SQLite file, None on PostgreSQL
        self.db.migrate("jobs", MIGRATIONS)
        self._order = "seq" if self.db.dialect == "postgresql" else "rowid"
        self.chunks = ChunkStore(self.db)

    def __repr__(self) -> str:
        return f"JobStore({self.db.display!r})"

    @classmethod
    def open(cls, config: StoreConfig) -> JobStore:
        return cls(config.jobs)

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
        with self.db.write(f"hlskit-run-{run.content_id}") as db:
            busy = db.execute(
                f"SELECT {_RUNS} FROM runs WHERE content_id=? AND state IN (?, ?)",
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
                f"INSERT INTO runs ({_RUNS}) VALUES ({','.join('?' * len(_RUN_COLUMNS))})",
                [d[c] for c in _RUN_COLUMNS],
            )
            for job in jobs:
                job.run_id = run.run_id
                self._insert(db, job)
        return run

    def get_run(self, run_id: str) -> Run | None:
        with self.db.read() as db:
            row = db.execute(f"SELECT {_RUNS} FROM runs WHERE run_id=?", (run_id,)).fetchone()
        return self._run_row(row) if row else None

    def runs(self, ref: str | None = None) -> list[Run]:
        """All runs, or those matching a run id (or unique prefix), a content id, or one of their job ids."""
        query = f"SELECT {_RUNS} FROM runs"
        args: tuple = ()
        if ref:
            query += (
                " WHERE run_id=? OR content_id=? OR run_id LIKE ? OR run_id IN "
                "(SELECT run_id FROM jobs WHERE job_id=? OR remote_id=? OR job_id LIKE ?)"
            )
            args = (ref, ref, ref + "%", ref, ref, ref + "%")
        with self.db.read() as db:
            rows = db.execute(query + " ORDER BY created_at, run_id", args).fetchall()
        return [self._run_row(r) for r in rows]

    def run_jobs(self, run_id: str) -> list[Job]:
        with self.db.read() as db:
            rows = db.execute(
                f"SELECT {_JOBS} FROM jobs WHERE run_id=? ORDER BY created_at, {self._order}", (run_id,)
            ).fetchall()
        return [self._row(r) for r in rows]

    def claim_finish(self, run_id: str) -> bool:
        """Move a Running run to Finishing for this process; False when another process has it."""
        with self.db.read() as db:
            cur = db.execute(
                "UPDATE runs SET state=?, owner=? WHERE run_id=? AND state=?",
                (RunState.FINISHING.value, this_owner(), run_id, RunState.RUNNING.value),
            )
            return cur.rowcount == 1

    def end_run(self, run_id: str, state: RunState, code: str = "", message: str = "") -> Run:
        """Record how a run ended; an ended run never changes again."""
        with self.db.read() as db:
            db.execute(
                "UPDATE runs SET state=?, code=?, message=?, finished_at=? WHERE run_id=? AND state IN (?, ?)",
                (state.value, code, message, time.time(), run_id, RunState.RUNNING.value, RunState.FINISHING.value),
            )
        run = self.get_run(run_id)
        if run is None:  # runs are never deleted: only an id that was never recorded gets here
            raise InputError(f"no run {run_id}: list runs with `hlskit status`.")
        return run

    # --- jobs ---------------------------------------------------------------------------

    @staticmethod
    def _insert(db: Conn, job: Job) -> None:
        d = job.to_dict()
        db.execute(f"INSERT INTO jobs ({_JOBS}) VALUES ({','.join('?' * len(_COLUMNS))})", [d[c] for c in _COLUMNS])

    def add(self, job: Job) -> Job:
        with self.db.read() as db:
            self._insert(db, job)
        return job

    def get(self, job_id: str) -> Job | None:
        with self.db.read() as db:
            row = db.execute(f"SELECT {_JOBS} FROM jobs WHERE job_id=?", (job_id,)).fetchone()
        return self._row(row) if row else None

    def update(self, job_id: str, **changes: Any) -> Job:
        """Change fields of one job. A finished job's state is never changed again."""
        unknown = set(changes) - set(_COLUMNS)
        if unknown:  # field names become SQL: only the model's own names pass
            raise ValueError(f"not job fields: {', '.join(sorted(unknown))}")
        if "state" in changes:
            state = JobState(changes["state"])
            changes["state"] = state.value
            if state == JobState.TRANSCODING:
                changes.setdefault("started_at", time.time())
            if state.finished:
                changes.setdefault("finished_at", time.time())
        with self.db.write(f"hlskit-job-{job_id}") as db:
            current = db.execute("SELECT state FROM jobs WHERE job_id=?", (job_id,)).fetchone()
            if current is None:
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
        job = self.get(job_id)
        if job is None:  # checked inside the transaction above, and jobs are never deleted
            raise InputError(f"no job {job_id}: list jobs with `hlskit status`.")
        return job

    def set_percent(self, job_ids: builtins.list[str], percent: int) -> None:
        """The progress of jobs encoded together, in one statement (an encode reports every half second)."""
        marks = ",".join("?" * len(job_ids))
        with self.db.read() as db:  # one statement: it commits on its own
            db.execute(f"UPDATE jobs SET percent=? WHERE job_id IN ({marks})", [percent, *job_ids])

    def all_cancelled(self, job_ids: builtins.list[str]) -> bool:
        """Whether every one of these jobs is cancelled, in one query (the engines ask every second)."""
        marks = ",".join("?" * len(job_ids))
        with self.db.read() as db:
            row = db.execute(
                f"SELECT count(*) FROM jobs WHERE job_id IN ({marks}) AND state=?", [*job_ids, JobState.CANCELLED.value]
            ).fetchone()
        return bool(job_ids) and row[0] == len(set(job_ids))

    def list(self, ref: str | None = None) -> list[Job]:
        """All jobs, or those of one job id, run id or content id (a unique prefix of a job id works too)."""
        query = f"SELECT {_JOBS} FROM jobs"
        args: tuple = ()
        if ref:
            query += " WHERE job_id=? OR content_id=? OR remote_id=? OR run_id=? OR job_id LIKE ?"
            args = (ref, ref, ref, ref, ref + "%")
        with self.db.read() as db:
            rows = db.execute(query + " ORDER BY created_at, content_id, definition", args).fetchall()
        return [self._row(r) for r in rows]

    def jobs_matching(self, ref: str) -> builtins.list[Job]:
        """The jobs whose id starts with ``ref`` or whose MPS JobId is ``ref``."""
        return [j for j in self.list(ref) if j.job_id.startswith(ref) or j.remote_id == ref]

    def find_job(self, ref: str) -> Job:
        """One job by id, unique id prefix or MPS JobId."""
        matches = self.jobs_matching(ref)
        if not matches:
            raise InputError(f"no job {ref}: list runs and jobs with `hlskit status`.")
        if len(matches) > 1:
            raise InputError(f"{ref} matches {len(matches)} jobs: give more characters of the job id.")
        return matches[0]

    def cancel(self, job_id: str) -> Job:
        """Mark one job cancelled; the engine running it drops it at its next check."""
        return self.update(job_id, state=JobState.CANCELLED, code="Cancelled", message="cancelled by user")

    def recover(
        self,
        published: Callable[[Run], bool] = lambda run: False,
        detached: Callable[[Run], bool] = lambda run: False,
    ) -> builtins.list[Run]:
        """End the runs whose process died without ending them: Interrupted, or Published when
        ``published(run)`` finds its package in place (the process died between publishing and
        recording it).

        Returns those runs, so the caller can revoke the keys of the interrupted ones. A run of
        another host is left alone, and so is a ``detached(run)`` one (its jobs live elsewhere, on
        MPS or workers): when its finishing process died it goes back to Running, so that
        `hlskit status --wait` can finish it.
        """
        lost = []
        for run in self.runs():
            if run.state.finished or not run.owner or owner_alive(run.owner):
                continue
            if run.state == RunState.FINISHING and published(run):
                lost.append(self.end_run(run.run_id, RunState.PUBLISHED, "", "published; its process then stopped"))
                continue
            if detached(run):
                if run.state == RunState.FINISHING:
                    with self.db.read() as db:
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
