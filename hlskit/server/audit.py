"""Audit log: one JSON line per key request (content id, key id, client, outcome; never the key
or the token). Goes to the ``hlskit.audit`` logger; stderr unless the host configures it."""

from __future__ import annotations

import json
import logging
import os
import sys
import time

logger = logging.getLogger("hlskit.audit")
_handler: logging.StreamHandler | None = None
# The C string encoder: escapes quotes and control characters, so a crafted id cannot forge lines.
_quote = json.encoder.encode_basestring_ascii


def setup() -> None:
    global _handler
    if not logger.handlers:
        _handler = logging.StreamHandler(sys.stderr)
        _handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(_handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def key_request(content_id: str, key_id: str, client: str | None, outcome: str, status: int) -> None:
    line = (
        f'{{"ts":{time.time():.3f},"event":"key","content_id":{_quote(content_id[:128])},'
        f'"key_id":{_quote(key_id[:128])},"client":{_quote(client) if client else "null"},"outcome":"{outcome}",'
        f'"status":{status},"pid":{os.getpid()}}}'
    )
    if _handler is not None and logger.handlers == [_handler] and logger.level == logging.INFO:
        # Only our own plain handler is attached: write the line as it would, minus the
        # LogRecord machinery (about half of this function's cost on the key route).
        _handler.acquire()  # the handler's own lock, as Handler.handle takes it
        try:
            _handler.stream.write(line + "\n")
            _handler.stream.flush()
        finally:
            _handler.release()
    elif logger.isEnabledFor(logging.INFO):
        logger.info(line)


def key_transfer(event: str, content_id: str, key_ids: list[str], user: str, home_log: str | None = None) -> None:
    """One line per ``hlskit keys export`` / ``keys import`` (event "key-export" / "key-import"):
    who (the OS user), when, which content id and key ids; never a key. Written to the audit
    logger and, when ``home_log`` is given, appended to that file (mode 600) so it outlasts the terminal."""
    ids = ",".join(_quote(k[:128]) for k in key_ids)
    _transfer_line(
        f'{{"ts":{time.time():.3f},"event":"{event}","content_id":{_quote(content_id[:128])},'
        f'"key_ids":[{ids}],"user":{_quote(user[:128])},"pid":{os.getpid()}}}',
        home_log,
    )


def key_import_failed(reason: str, content_ids: list[str], keys: int, user: str, home_log: str | None) -> None:
    """One line for a ``keys import`` that added nothing (event "key-import-failed"): why (the
    error code, or "interrupted"), which content ids the file named and how many keys it held."""
    ids = ",".join(_quote(c[:128]) for c in content_ids)
    _transfer_line(
        f'{{"ts":{time.time():.3f},"event":"key-import-failed","reason":{_quote(reason[:300])},'
        f'"content_ids":[{ids}],"keys":{int(keys)},"added":0,"user":{_quote(user[:128])},"pid":{os.getpid()}}}',
        home_log,
    )


def _transfer_line(line: str, home_log: str | None) -> None:
    setup()
    logger.info(line)
    if home_log is not None:
        fd = os.open(home_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as f:
            f.write(line + "\n")
