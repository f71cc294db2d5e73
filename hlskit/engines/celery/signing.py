"""Tasks signed with the task secret (HMAC-SHA256, RFC 2104).

A worker runs FFmpeg with the arguments a task carries, and FFmpeg reads and writes files: a
worker must run only what a host holding the task secret sent, not whatever reaches the broker
(Redis on a LAN is often open to every host on it). The packaging host signs each task's
arguments; a worker checks the signature, in constant time, before it reads any of them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from ...domain.configs import CeleryConfig
from ...domain.errors import ConfigError
from ...keys.secretfile import read_secret_file, weak_secret

SECRET_FILE = "task.secret"


def task_secret(config: CeleryConfig) -> bytes:
    """The task secret: the task_secret setting, else <home>/task.secret (made 0600 on first use,
    except in production, where a missing or short secret is refused)."""
    fix = "the same 32+ random characters on every worker and on the host that packages"
    if config.task_secret:
        if config.production and weak_secret(config.task_secret):
            raise ConfigError(f"task_secret is too weak for production: set HLSKIT_TASK_SECRET to {fix}.")
        return config.task_secret.encode("utf-8")
    path = config.home / SECRET_FILE
    if config.production and not path.exists():
        raise ConfigError(
            f"no task secret in production: set HLSKIT_TASK_SECRET to {fix}, or write them to {path} (mode 600)."
        )
    secret = read_secret_file(path, lambda: secrets.token_urlsafe(32).encode(), "task secret").strip()
    if not secret:
        raise ConfigError(f"task secret file {path} is empty: write {fix} to it.")
    return secret


def sign(secret: bytes, kwargs: dict[str, Any]) -> str:
    """The signature of a task's arguments (their canonical JSON, the form Celery sends them in)."""
    body = json.dumps(kwargs, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, kwargs: dict[str, Any], signature: object) -> bool:
    """True when ``signature`` is ``kwargs``' own under ``secret`` (compared in constant time)."""
    return isinstance(signature, str) and hmac.compare_digest(sign(secret, kwargs), signature)
