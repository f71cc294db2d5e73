"""Chunks: the pieces of a run that the Celery engine's workers encode, as plain values.

A definition's job (the MPS model) is made of chunks: every video chunk is a time range of the
title, encoded by one task into every definition at once; an audio rendition and the seek-bar
sprite are tasks of their own. The job store keeps one row per chunk (:mod:`hlskit.stores.chunks`)
so ``hlskit status`` shows chunks done/total and the worker that ran each.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

VIDEO, AUDIO, THUMBNAILS = "video", "audio", "thumbnails"  # what a chunk makes (THUMBNAILS: a sprite row)


class ChunkState(str, Enum):
    QUEUED = "Queued"  # sent to the broker, no worker has it yet (or it was sent again)
    RUNNING = "Running"  # a worker is encoding it
    RETRYING = "Retrying"  # an attempt failed; Celery sends it again
    DONE = "Done"  # its folder is in place, complete
    FAILED = "Failed"  # it failed three times, or was refused: its outputs fail
    CANCELLED = "Cancelled"  # the run was cancelled before it ended

    @property
    def finished(self) -> bool:
        return self in (ChunkState.DONE, ChunkState.FAILED, ChunkState.CANCELLED)

    def __str__(self) -> str:
        return self.value


@dataclass
class Chunk:
    run_id: str
    name: str  # "c00003" (video), "audio/en", "sprite/00" (a row of the seek-bar sprite): unique in the run
    kind: str = VIDEO
    start: float = 0.0  # seconds into the title (after --clip's start)
    duration: float = 0.0
    state: ChunkState = ChunkState.QUEUED
    worker: str = ""  # the Celery node name of the worker that ran (or runs) it
    attempts: int = 0
    percent: int = 0
    message: str = ""
    task_id: str = ""
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["state"] = self.state.value
        return d


def chunk_name(index: int) -> str:
    """The name of video chunk ``index`` (0-based): ``c00003``."""
    return f"c{index:05d}"


def sprite_row_name(row: int) -> str:
    """The name of the task that makes row ``row`` of the seek-bar sprite: ``sprite/00``."""
    return f"sprite/{row:02d}"


def summary(chunks: list[Chunk]) -> str:
    """'5/8 chunks done on w1 (3), w2 (2)' for ``hlskit status``."""
    video = [c for c in chunks if c.kind == VIDEO]
    done = [c for c in video if c.state == ChunkState.DONE]
    workers: dict[str, int] = {}
    for c in done:
        workers[c.worker] = workers.get(c.worker, 0) + 1
    text = f"{len(done)}/{len(video)} chunks done"
    if workers:
        text += " on " + ", ".join(f"{w or '?'} ({n})" for w, n in sorted(workers.items()))
    failed = [c for c in chunks if c.state == ChunkState.FAILED]
    if failed:
        text += f"; {len(failed)} failed"
    return text
