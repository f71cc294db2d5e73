"""Secret files (master key, token secret, webhook secret): created once, mode 0600, never half-written."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..domain.errors import ConfigError

MIN_SECRET = 32  # characters: what `openssl rand -hex 16` gives
MIN_DISTINCT = 8  # different characters: 32 random hex digits have about 14, "aaaa…" or "abab…" far fewer


def weak_secret(secret: str) -> bool:
    """Too short to be a secret (surrounding spaces not counted) or too repetitive to be random."""
    text = secret.strip()
    return len(text) < MIN_SECRET or len(set(text)) < MIN_DISTINCT


def read_secret_file(path: Path, make: Callable[[], bytes], what: str) -> bytes:
    """The bytes of a secret file, creating it from ``make()`` on first use.

    The file is written to a temporary name (mode 0600) and linked into place, so a concurrent
    reader — another gunicorn worker — never sees it half-written, and the first writer wins.
    A file other users can read, or another user's (who would know the secret), is refused.
    """
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(make())
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        finally:
            os.unlink(tmp)
    st = path.stat()
    if st.st_mode & 0o077:
        raise ConfigError(f"{what} file {path} is readable by other users: run chmod 600 {path}.")
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        raise ConfigError(
            f"{what} file {path} belongs to another user (uid {st.st_uid}), who knows it: use a home of your own "
            "(HLSKIT_HOME)."
        )
    return path.read_bytes()
