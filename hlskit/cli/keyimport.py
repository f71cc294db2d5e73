"""``hlskit keys import``: all of the file's keys, or none, and an audit line either way.

The file is read whole (bounded: :mod:`hlskit.cli.keyinput`), every line checked, and the keys
stored in one transaction (:meth:`KeyStore.add_all`). Ctrl-C or SIGTERM at any point before the
commit rolls the transaction back: no key is added, one ``error:`` sentence is printed, the exit
code is 130, and a ``key-import-failed`` audit line records the attempt. From the commit on, a
signal no longer stops the import: it has happened, and is reported and audited as done.
"""

from __future__ import annotations

import getpass
import signal
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

import click

from ..domain.errors import HlskitError, InputError
from ..domain.keys import DataKey
from ..domain.settings import Settings
from ..server import audit
from ..stores.keys import KeyStore
from .keyinput import IMPORT_CAP, decode_text, read_file, read_stdin
from .keyopts import parse_import_line

STDIN = "-"
TOO_LARGE = "split it into smaller files and import each"
_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# What signal.signal takes and gives back: a function, SIG_DFL / SIG_IGN, or None (set outside Python).
Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class Interrupted(HlskitError):
    """Ctrl-C or SIGTERM stopped a command before it changed anything: exit code 130."""

    exit_code = 130


class SignalGuard:
    """While entered, SIGINT and SIGTERM raise KeyboardInterrupt until :meth:`disarm`; after it
    they are only noted (``caught``), so a commit that has begun is never reported as undone."""

    def __init__(self) -> None:
        self.armed = True
        self.caught: int | None = None
        self._old: dict[int, Handler] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.caught = signum
        if self.armed:
            raise KeyboardInterrupt

    def disarm(self) -> None:
        """Called last inside the transaction: raises if a signal came, else lets the commit run."""
        if self.caught is not None:
            raise KeyboardInterrupt
        self.armed = False

    def __enter__(self) -> SignalGuard:
        self._old = {s: signal.signal(s, self._handle) for s in _SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for s, handler in self._old.items():
            signal.signal(s, handler)

    @property
    def name(self) -> str:
        return signal.Signals(self.caught).name if self.caught else "Ctrl-C"


@dataclass
class Parsed:
    keys: list[DataKey]

    @property
    def content_ids(self) -> list[str]:
        return list(dict.fromkeys(k.content_id for k in self.keys))


def read_keys(path: str, parsed: Parsed) -> None:
    """Every key line of the file (or stdin for "-") into ``parsed``; InputError on the first bad one."""
    what = "the key file on standard input" if path == STDIN else f"the key file {path}"
    data = read_stdin(IMPORT_CAP, what, TOO_LARGE) if path == STDIN else read_file(path, IMPORT_CAP, what, TOO_LARGE)
    seen: set[tuple[str, str]] = set()
    for number, line in enumerate(decode_text(data, what).splitlines(), 1):
        if not line.strip():
            continue
        content_id, key_id, iv, key = parse_import_line(line, number)
        if (content_id, key_id) in seen:
            raise InputError(f"key {key_id} of {content_id} is in the key file twice: keep one of its lines.")
        seen.add((content_id, key_id))
        parsed.keys.append(DataKey(content_id, key_id, iv, key))
    if not parsed.keys:
        raise InputError("the key file holds no keys: give the lines `hlskit keys export` printed.")


def import_keys(settings: Settings, path: str, report: Callable[[str, list[str]], None]) -> None:
    """Import the file's keys into ``settings``' key store; ``report(content id, key ids)`` for
    each content id added, after the commit."""
    log = str(settings.ensure_home() / "audit.log")
    user = getpass.getuser()
    parsed = Parsed([])
    with SignalGuard() as guard:
        try:
            read_keys(path, parsed)
            KeyStore.open(settings.store_config()).add_all(parsed.keys, before_commit=guard.disarm)
        except KeyboardInterrupt:
            _audit_failure(f"interrupted by {guard.name}", parsed, user, log)
            raise Interrupted(f"keys import was interrupted ({guard.name}); no key was added: run it again.")
        except HlskitError as exc:
            _audit_failure(exc.message, parsed, user, log)
            raise
        added: dict[str, list[str]] = {}
        for k in parsed.keys:
            added.setdefault(k.content_id, []).append(k.key_id)
        for content_id, ids in added.items():
            audit.key_transfer("key-import", content_id, ids, user, log)
            report(content_id, ids)


def _audit_failure(reason: str, parsed: Parsed, user: str, log: str) -> None:
    try:
        audit.key_import_failed(reason, parsed.content_ids, len(parsed.keys), user, log)
    except OSError as exc:  # the sentence about the import matters more; say the audit line is missing
        click.echo(f"warning: the audit line for this failed import was not written ({exc.strerror}).", err=True)
