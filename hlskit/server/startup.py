"""When the app cannot start: one sentence and a clear exit, under ``hlskit serve`` and gunicorn.

``create_app`` turns every problem the operator must fix (bad settings, the key store's database
unreachable) into :class:`StartupError`. ``hlskit serve`` prints it like any ConfigError (exit 2).
gunicorn prints its ``AppImportError`` as one line, without a traceback, and its arbiter then
shuts down with exit code 4 ("App failed to load"), so StartupError is one.

One gunicorn quirk remains: when a second worker exits with that code while the arbiter is
already shutting down, the arbiter dies with a HaltServer traceback (gunicorn 22-27,
``Arbiter.reap_workers`` raised inside ``Arbiter.stop``). Workers boot together and meet the same
dead database together, so under gunicorn only the first worker to fail reports it; the others
exit quietly with code 0 (which the arbiter ignores while it shuts down). "First" is decided by
creating a marker file named after the arbiter (pid and start time, so never a stale one).
"""

from __future__ import annotations

import glob
import os
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import NoReturn

from ..domain.errors import ConfigError

try:
    from gunicorn.errors import AppImportError as _HostCannotLoad
except ImportError:  # another WSGI server: a plain error
    _HostCannotLoad = Exception

_MARKER = "hlskit-gunicorn-{pid}-{started}.failed"


class StartupError(ConfigError, _HostCannotLoad, RuntimeError):
    """The app cannot start. A ConfigError for the CLI (exit 2); gunicorn's AppImportError for its
    workers (one line, exit 4); a RuntimeError for gunicorn --preload (one line, exit 1)."""

    def __str__(self) -> str:
        return f"error: {self.message}"


def _started(pid: int) -> str | None:
    """A process's start time (clock ticks since boot, /proc/<pid>/stat field 22), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _in_gunicorn_worker() -> bool:
    frame: FrameType | None = sys._getframe()
    while frame is not None:
        code = frame.f_code
        if code.co_name == "spawn_worker" and "gunicorn" in code.co_filename:
            return True
        frame = frame.f_back
    return False


def _first_to_fail(arbiter: int) -> bool:
    """True for the first worker of this arbiter to fail (it creates the marker), else False."""
    started = _started(arbiter)
    if started is None:
        return True  # no /proc: no coordination, every worker reports
    folder = tempfile.gettempdir()
    for old in glob.glob(os.path.join(folder, "hlskit-gunicorn-*-*.failed")):
        _, _, pid, when = Path(old).stem.split("-", 3)
        if pid.isdigit() and _started(int(pid)) != when:
            try:
                Path(old).unlink(missing_ok=True)  # that arbiter is gone
            except OSError:
                pass  # another user's (a sticky /tmp) or not a file: it cannot be this arbiter's
    try:
        os.close(
            os.open(os.path.join(folder, _MARKER.format(pid=arbiter, started=started)), os.O_CREAT | os.O_EXCL, 0o600)
        )
    except FileExistsError:
        return False
    except OSError:
        return True
    return True


def fail(message: str, code: str) -> NoReturn:
    """Raise StartupError(message), or exit quietly if another gunicorn worker reported it first."""
    if _in_gunicorn_worker() and not _first_to_fail(os.getppid()):
        sys.exit(0)
    raise StartupError(message, code=code)
