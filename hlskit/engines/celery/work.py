"""The run's work folder on shared storage, and what it holds: the run file and the chunks.

Inside the run's staging folder (``out/.<content-id>.run-<run-id>/``), which every worker and
the host that finishes the run see at the same path::

    .celery/run.json             what the follower needs to finish the run (no key, only key ids)
    .celery/text/                text watermarks, read by FFmpeg on the workers
    .celery/chunks/<chunk>/      a chunk's clear segments, renamed into place when complete
    .celery/chunks/.<chunk>.<n>/ an attempt in progress (never counted)
    .celery/subtitles/<slug>.vtt subtitle renditions, cut into segments at finish
    .celery/assembling           the follower that assembles the run (created exclusively)

The folder is removed before the package is published. Segments are clear here: the folder is
the staging folder's, never served, and it goes with the run.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...domain.runs import owner_alive, this_owner

WORK = ".celery"
RUN_FILE = "run.json"
CLAIM = "assembling"  # who assembles the run: "host:pid" (two followers must not both write the package)
CHUNK_FILE = "chunk.json"  # in a finished chunk's folder: who made it, and any definition that failed


def work_dir(staging: str | Path) -> Path:
    return Path(staging) / WORK


def folder_of(name: str) -> str:
    """A chunk's folder name: its name, with "/" (audio/en) made a "-" (audio-en)."""
    return name.replace("/", "-")


@dataclass
class Task:
    """One task as sent to the broker: enough to send it again (a lost worker, a broker restart)."""

    name: str  # the chunk's name
    kind: str  # chunks.VIDEO, AUDIO, THUMBNAILS
    commands: list[list[str]]  # FFmpeg commands without the binary; the first is the normal one
    outputs: list[str]  # folders FFmpeg writes under the attempt folder (definitions, audio/<slug>)
    jobs: list[str]  # ids of the jobs it works for
    seconds: float  # media seconds it encodes (progress, and the completeness check)


@dataclass
class RunFile:
    """What the host that follows the run needs, written once at submit."""

    version: str
    run_id: str
    content_id: str
    staging: str
    format: str
    segment_duration: int
    seconds: float  # the title's length
    definitions: list[str]  # rung names, ladder order
    jobs: dict[str, str]  # definition → its job id
    audio: list[dict[str, str]]  # {"slug", "folder", "job_id"} per audio rendition
    subtitles: list[dict[str, str]]  # {"slug", "folder"}; the text in subtitles/<slug>.vtt
    downloads: dict[str, str]  # definition → its MP4 download job id (--mp4)
    default_audio: str | None  # the default audio rendition's folder (the downloads' sound)
    key_url: str
    schedule: dict[str, Any]  # KeySchedule fields
    keys: list[dict[str, str]]  # {"key_id", "iv"} by schedule index: ids, never keys
    chunk_seconds: int
    tasks: list[Task] = field(default_factory=list)
    thumbnails: dict[str, Any] | None = None  # Layout fields, when a sprite is made
    notes: list[str] = field(default_factory=list)  # warnings every definition shares
    broker_id: str = ""  # the broker's identity when the tasks were sent (a restart changes it)

    def dumps(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1)

    @classmethod
    def loads(cls, text: str) -> RunFile:
        data = json.loads(text)
        data["tasks"] = [Task(**t) for t in data.get("tasks", [])]
        return cls(**data)

    def task(self, name: str) -> Task:
        return next(t for t in self.tasks if t.name == name)


def write_run_file(run: RunFile) -> None:
    """run.json, written atomically (a rename)."""
    target = work_dir(run.staging) / RUN_FILE
    partial = target.with_name(f".{RUN_FILE}.partial")
    partial.write_text(run.dumps(), encoding="utf-8")
    os.replace(partial, target)


def read_run_file(staging: str | Path) -> RunFile | None:
    """The run file, or None when the work folder is gone (the run ended) or was never written."""
    try:
        return RunFile.loads((work_dir(staging) / RUN_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def chunk_dir(staging: str | Path, name: str) -> Path:
    return work_dir(staging) / "chunks" / folder_of(name)


def chunk_record(staging: str | Path, name: str) -> dict[str, Any] | None:
    """A finished chunk's record (worker, failed definitions), None while it is not in place."""
    try:
        return json.loads((chunk_dir(staging, name) / CHUNK_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def remove_work(staging: str | Path) -> None:
    shutil.rmtree(work_dir(staging), ignore_errors=True)


def claim_assembly(staging: str | Path) -> bool:
    """Whether this process may assemble the run: the first follower creates the claim file
    (O_EXCL); a later one may take it only from a process of this host that has died. False as
    well when the work folder is gone (the run was assembled, or ended)."""
    path = work_dir(staging) / CLAIM
    while True:
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                owner = path.read_text(encoding="utf-8").strip()
            except FileNotFoundError:
                continue  # its owner let go of it a moment ago
            if owner == this_owner():
                return True
            if not owner or owner_alive(owner):
                return False
            path.unlink(missing_ok=True)  # a follower of this host that died: take over
            continue
        except FileNotFoundError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(this_owner())
        return True
