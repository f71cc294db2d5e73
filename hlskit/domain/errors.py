"""Errors a user can cause, each carrying one sentence and an exit code.

The CLI prints ``message`` and exits with ``exit_code``; it never shows a traceback for these.
Write messages as "<what is wrong>: <how to fix it>."
"""

from __future__ import annotations


class HlskitError(Exception):
    """Base class: a problem the user can fix. Exit code 1 unless a subclass says otherwise."""

    exit_code = 1

    def __init__(self, message: str, *, code: str = "Error"):
        super().__init__(message)
        self.message = message
        self.code = code  # short machine-readable code, MPS style (e.g. "InvalidParameter.Ladder")


class InputError(HlskitError):
    """Bad input (a file that is not media, a bad ladder, a bad option): exit code 2."""

    exit_code = 2


class ConfigError(HlskitError):
    """Missing or invalid settings (credentials, secrets, paths): exit code 2."""

    exit_code = 2


class JobError(HlskitError):
    """A job failed while running (encoder error, engine refusal): exit code 1."""

    exit_code = 1
