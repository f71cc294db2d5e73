"""Audit log: one JSON line per key request (content id, key id, client, outcome; never the key
or the token). Goes to the ``hlskit.audit`` logger; stderr unless the host configures it."""
from __future__ import annotations

import json
import logging
import os
import sys
import time

logger = logging.getLogger("hlskit.audit")


def setup() -> None:
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def key_request(content_id: str, key_id: str, client: str | None, outcome: str, status: int) -> None:
    if logger.isEnabledFor(logging.INFO):
        # json.dumps escapes control characters, so a crafted id cannot forge extra log lines.
        logger.info(json.dumps({
            "ts": round(time.time(), 3), "event": "key", "content_id": content_id[:128],
            "key_id": key_id[:128], "client": client, "outcome": outcome, "status": status,
            "pid": os.getpid(),   # which worker answered (gunicorn runs several)
        }, separators=(",", ":")))
