"""Errors a user can cause, each carrying one sentence and an exit code.

The CLI prints ``message`` and exits with ``exit_code``; it never shows a traceback for these.
Write messages as "<what is wrong>: <how to fix it>."
"""

from __future__ import annotations

import errno


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


def os_error_sentence(exc: OSError, doing: str) -> str:
    """One sentence for an OSError met while ``doing`` (e.g. "writing the package"): path, cause and fix."""
    path = exc.filename or "the output folder"
    write_fix = "choose a folder you can write to, or fix its permissions"
    causes = {
        errno.ENOSPC: ("the disk is full", "free some space there and try again"),
        errno.EDQUOT: ("the disk quota is used up", "free some space there and try again"),
        errno.EROFS: ("the file system is read-only", write_fix),
        errno.EACCES: ("permission was denied", write_fix),
        errno.EPERM: ("permission was denied", write_fix),
        errno.ENOTDIR: ("a part of the path is a file, not a folder", "give a folder path"),
        errno.EISDIR: ("it is a folder", "give a file path"),
        errno.ENAMETOOLONG: ("the name is too long", "use a shorter path"),
    }
    cause, fix = causes.get(exc.errno or 0, ("of an operating-system error", "check the path and try again"))
    return f"{doing} failed at {path} because {cause} ({exc.strerror or exc}): {fix}."
