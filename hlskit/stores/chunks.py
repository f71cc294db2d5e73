"""Chunk rows in the job store (:mod:`hlskit.domain.chunks`): one per task of a Celery run.

Written by the host that submits a run (Queued), by the workers that encode the chunks (Running,
Done, Failed) and read by ``hlskit status`` and the follower. The table comes with the job store's
migration 4 (:data:`hlskit.stores.jobs.MIGRATIONS`), so SQLite and PostgreSQL stores alike have it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import fields
from typing import Any

from ..domain.chunks import Chunk, ChunkState
from .db import Conn, Database

_COLUMNS = [f.name for f in fields(Chunk)]
_CHUNKS = ",".join(_COLUMNS)


def create_chunks_table(db: Conn) -> None:
    """Job store migration 4: the chunks of Celery runs."""
    real = "DOUBLE PRECISION" if db.dialect == "postgresql" else "REAL"
    db.execute(
        f"""
        CREATE TABLE IF NOT EXISTS chunks (
            run_id TEXT NOT NULL,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            start {real} NOT NULL DEFAULT 0,
            duration {real} NOT NULL DEFAULT 0,
            state TEXT NOT NULL,
            worker TEXT NOT NULL DEFAULT '',
            attempts INTEGER NOT NULL DEFAULT 0,
            percent INTEGER NOT NULL DEFAULT 0,
            message TEXT NOT NULL DEFAULT '',
            task_id TEXT NOT NULL DEFAULT '',
            created_at {real} NOT NULL,
            started_at {real},
            finished_at {real},
            PRIMARY KEY (run_id, name)
        )
        """
    )


class ChunkStore:
    """The chunks of runs, in the job store's database."""

    def __init__(self, db: Database):
        self.db = db

    @staticmethod
    def _row(row: Iterable[Any]) -> Chunk:
        chunk = Chunk(**dict(zip(_COLUMNS, row)))
        chunk.state = ChunkState(chunk.state)
        return chunk

    def add(self, chunks: list[Chunk]) -> None:
        """Record a run's chunks (Queued), all in one transaction."""
        with self.db.write("hlskit-chunks-add") as db:
            db.executemany(
                f"INSERT INTO chunks ({_CHUNKS}) VALUES ({','.join('?' * len(_COLUMNS))})",
                [[c.to_dict()[k] for k in _COLUMNS] for c in chunks],
            )

    def of_run(self, run_id: str) -> list[Chunk]:
        with self.db.read() as db:
            rows = db.execute(
                f"SELECT {_CHUNKS} FROM chunks WHERE run_id=? ORDER BY kind DESC, name", (run_id,)
            ).fetchall()
        return [self._row(r) for r in rows]

    def get(self, run_id: str, name: str) -> Chunk | None:
        with self.db.read() as db:
            row = db.execute(f"SELECT {_CHUNKS} FROM chunks WHERE run_id=? AND name=?", (run_id, name)).fetchone()
        return self._row(row) if row else None

    def start(self, run_id: str, name: str, worker: str, task_id: str) -> Chunk | None:
        """A worker took the chunk: Running, one more attempt. None (and nothing changed) when the
        chunk has already ended (a task delivered twice) or is unknown."""
        with self.db.write(f"hlskit-chunk-{run_id}-{name}") as db:
            cur = db.execute(
                "UPDATE chunks SET state=?, worker=?, task_id=?, attempts=attempts+1, percent=0, started_at=?, "
                "message='' WHERE run_id=? AND name=? AND state NOT IN (?, ?, ?)",
                (ChunkState.RUNNING.value, worker, task_id, time.time(), run_id, name, *_ENDED),
            )
            changed = cur.rowcount == 1
        return self.get(run_id, name) if changed else None

    def update(self, run_id: str, name: str, **changes: Any) -> None:
        """Change fields of a chunk that has not ended (an ended chunk never changes again)."""
        unknown = set(changes) - set(_COLUMNS)
        if unknown:  # field names become SQL: only the model's own names pass
            raise ValueError(f"not chunk fields: {', '.join(sorted(unknown))}")
        if "state" in changes:
            state = ChunkState(changes["state"])
            changes["state"] = state.value
            if state.finished:
                changes.setdefault("finished_at", time.time())
        sets = ", ".join(f"{k}=?" for k in changes)
        with self.db.read() as db:
            db.execute(
                f"UPDATE chunks SET {sets} WHERE run_id=? AND name=? AND state NOT IN (?, ?, ?)",
                [*changes.values(), run_id, name, *_ENDED],
            )


_ENDED = tuple(s.value for s in ChunkState if s.finished)
