"""Where a run writes and how its package becomes visible: a local folder or an OSS prefix.

Local: the engine writes into a hidden staging folder beside the target
(``out/.<content-id>.partial-<pid>``); master and manifest are written there too, and publishing
is one rename (an existing package is swapped out, then removed). A failed or interrupted run
leaves nothing visible.

OSS has no rename, and MPS writes its outputs in place. Each run therefore writes its definitions
under its own prefix (``<out>/<content-id>/<run-id>/<DEF>/…``) and publishing is the upload of
``<out>/<content-id>/master.m3u8``, written last, that points at them: one atomic PUT switches
players from the previous package to the new one, and a run that fails never touches the
published package's objects.
"""

from __future__ import annotations

import os
import posixpath
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..domain.errors import InputError
from ..domain.manifest import Manifest
from ..domain.names import MANIFEST
from ..domain.runs import pid_alive
from ..domain.settings import Settings
from ..storage import LocalStorage, Storage, is_remote, open_storage


@dataclass
class Destination:
    storage: Storage
    staging: str  # where the engine wrote the definitions (a path inside storage)
    master_dir: str  # where master.m3u8 and hlskit.json are written before publishing
    final: str  # the package's location once published
    local: bool

    def write_manifest(self, manifest: Manifest, folder: str | None = None) -> None:
        """hlskit.json, written atomically (a rename on disk, one PUT on OSS)."""
        path = posixpath.join(folder or self.master_dir, MANIFEST)
        self.storage.write_text(path, manifest.dumps(), "application/json")

    def read_manifest(self, folder: str) -> Manifest | None:
        """The manifest in ``folder``; None when there is none; InputError when it is not one."""
        path = posixpath.join(folder, MANIFEST)
        if not self.storage.exists(path):
            return None
        return read_manifest_text(self.storage.read_text(path), path)

    def publish(self) -> None:
        """Make the package visible. OSS: nothing left to do, the master was uploaded last."""
        if self.local:
            swap_into_place(Path(self.staging), Path(self.final))

    def discard(self) -> None:
        """Remove what a run that will not publish wrote. OSS: the run's prefix is never referenced."""
        if self.local:
            shutil.rmtree(self.staging, ignore_errors=True)

    def url(self, path: str) -> str:
        return self.storage.url(path)


def destination(staging: str, final: str, settings: Settings) -> Destination:
    if is_remote(final):
        storage, prefix = open_storage(final, settings.oss_config())
        _, run_prefix = open_storage(staging, settings.oss_config())
        return Destination(storage, run_prefix, prefix, prefix, local=False)
    return Destination(LocalStorage(), staging, staging, final, local=True)


def swap_into_place(staging: Path, target: Path) -> None:
    """Rename staging into place; an existing package is swapped out, then removed. If the new
    package cannot be renamed in, the old one is put back: it stays published."""
    # staging was owner only (clear segments passed through it): the package is as readable as the
    # folder it is published into, never writable by others
    staging.chmod(target.parent.stat().st_mode & 0o755)
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    try:
        os.replace(staging, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def sweep_stale_staging(out_dir: Path) -> None:
    """Remove staging folders left by runs that were killed (their process no longer exists)."""
    if not out_dir.is_dir():
        return
    for stale in out_dir.glob(".*.partial-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


def read_manifest_text(text: str, where: str) -> Manifest:
    """A manifest from its text; InputError naming ``where`` when it is not an hlskit manifest."""
    try:
        return Manifest.loads(text)
    except ValueError as exc:
        raise InputError(f"{where} is {exc}: restore it from the package run, or package the source again.") from None
