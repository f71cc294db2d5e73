"""Events with MPS's message field names; signing and verifying their bodies."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import logging
import secrets
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..domain.configs import NotifyConfig
from ..domain.errors import ConfigError
from ..domain.runs import Job, JobState
from ..keys.secretfile import read_secret_file, weak_secret

log = logging.getLogger("hlskit.notify")

SIGNATURE_HEADER = "X-Hlskit-Signature"
TIMESTAMP_HEADER = "X-Hlskit-Timestamp"
EVENT_ID_HEADER = "X-Hlskit-Event-Id"
ATTEMPT_HEADER = "X-Hlskit-Delivery-Attempt"


# --- events ---------------------------------------------------------------------------------


def _mps_state(state: JobState) -> str:
    return "Success" if state == JobState.SUCCESS else "Fail"


def job_event(job: Job) -> dict[str, Any]:
    """The ``Transcode`` event for a finished job."""
    return {
        "id": f"Transcode.{job.job_id}",
        "type": "Transcode",
        "state": _mps_state(job.state),
        "jobId": job.job_id,
        "contentId": job.content_id,
        "definition": job.definition,
        "code": job.code or ("Cancelled" if job.state == JobState.CANCELLED else ""),
        "message": job.message,
        "userData": job.user_data,
        "time": int(job.finished_at or time.time()),
    }


_package_serial = itertools.count(1)


def package_event(
    content_id: str, jobs: Iterable[Job], *, code: str = "", message: str = "", output: str = "", user_data: str = ""
) -> dict[str, Any]:
    """The ``Package`` event: Success only when every job succeeded and no later stage failed (code)."""
    jobs = list(jobs)
    ok = bool(jobs) and not code and all(j.state == JobState.SUCCESS for j in jobs)
    now = time.time()
    return {
        # A content id can be packaged again, so the id adds time and a counter.
        "id": f"Package.{content_id}.{int(now * 1000)}{next(_package_serial):03d}",
        "type": "Package",
        "state": "Success" if ok else "Fail",
        "contentId": content_id,
        "code": code or ("" if ok else "JobFailed"),
        "message": message,
        "userData": user_data,
        "output": output,
        "jobs": [
            {"jobId": j.job_id, "definition": j.definition, "state": _mps_state(j.state), "code": j.code} for j in jobs
        ],
        "time": int(now),
    }


def encode_event(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":"), sort_keys=True).encode()


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes | str, body: bytes, header: str | None) -> bool:
    """For receivers: does ``X-Hlskit-Signature`` match this exact body? (constant time)"""
    if not header:
        return False
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.compare_digest(sign(key, body), header.strip())


def load_notify_secret(config: NotifyConfig) -> bytes:
    """The notify_secret setting, else ``<home>/notify.secret`` (created 0600 on first use); a short or
    repetitive one is refused: receivers trust what it signs."""
    if config.secret:
        if weak_secret(config.secret):
            raise ConfigError("notify_secret is too weak: set HLSKIT_NOTIFY_SECRET to 32+ random characters.")
        return config.secret.encode()
    path = Path(config.home) / "notify.secret"
    secret = read_secret_file(path, lambda: secrets.token_hex(32).encode(), "notify secret").decode().strip()
    if weak_secret(secret):
        raise ConfigError(f"notify secret file {path} is too weak: delete it to make a new one.")
    return secret.encode()
