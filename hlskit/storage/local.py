"""Local folder storage. Writes go to a temporary file beside the target, then os.replace."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class LocalStorage:
    def __init__(self, root: str | Path = "."):
        self.root = Path(root)

    def _p(self, path: str) -> Path:
        return self.root / path

    def read_bytes(self, path: str, start: int | None = None, length: int | None = None) -> bytes:
        with open(self._p(path), "rb") as fh:
            if start:
                fh.seek(start)
            return fh.read() if length is None else fh.read(length)

    def read_text(self, path: str) -> str:
        return self._p(path).read_text(encoding="utf-8")

    def size(self, path: str) -> int:
        return self._p(path).stat().st_size

    def exists(self, path: str) -> bool:
        return self._p(path).exists()

    def list(self, prefix: str) -> list[str]:
        base = self._p(prefix)
        if base.is_file():
            return [prefix]
        return sorted(str(p.relative_to(self.root)) for p in base.rglob("*") if p.is_file())

    def write_bytes(self, path: str, data: bytes, content_type: str | None = None) -> None:
        target = self._p(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def write_text(self, path: str, text: str, content_type: str | None = None) -> None:
        self.write_bytes(path, text.encode("utf-8"), content_type)

    def url(self, path: str) -> str:
        return str(self._p(path))
