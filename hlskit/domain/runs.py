"""Runs and jobs: the plain model, with MPS's state names.

A *job* is one definition of one source. A *package run* is one attempt at one content id: the
jobs it submitted (on MPS, one SubmitJobs call and its JobIds) and what became of them. Every later
step (follow, finish, cancel, status) looks at one run, never at "all jobs of a content id".
The job store (:mod:`hlskit.stores.jobs`) persists them.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

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


def owner_alive(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's process: we cannot tell, so assume it runs
    return pid_alive(int(pid))


def user_data(**values: Any) -> str:
    return json.dumps(values, separators=(",", ":"), sort_keys=True)
