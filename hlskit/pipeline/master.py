"""Where a stitched master lands: its I-frame playlists first, then master.m3u8 last.

The master's appearance is what makes a package visible (and on OSS, its upload is what
publishes it), so nothing may point at an I-frame playlist that is not written yet. Each write
is atomic (:meth:`hlskit.storage.Storage.write_text`).
"""

from __future__ import annotations

from ..hls.master import MasterInfo
from ..hls.source import KeyResolver
from ..hls.stitch import Progress, stitch_files
from ..hls.write import CONTENT_TYPE
from ..storage import LocalStorage, Storage


def write_iframes(storage: Storage, info: MasterInfo) -> None:
    """Only the I-frame playlists: then ``validate(..., master_text=info.text)`` can check the
    master, I-frame playlists included, before the master itself is written."""
    for ref, text in info.iframes.items():
        storage.write_text(ref, text, CONTENT_TYPE)


def write_master(storage: Storage, info: MasterInfo) -> None:
    """The I-frame playlists, then the master last."""
    write_iframes(storage, info)
    storage.write_text(info.path, info.text, CONTENT_TYPE)


def stitch_playlists(
    playlists: list[str], output: str, key_resolver: KeyResolver | None = None, progress: Progress | None = None
) -> MasterInfo:
    """Stitch media playlists from anywhere on disk and write ``output`` (and the I-frame
    playlists beside each media playlist); variant URIs are relative to ``output``."""
    info = stitch_files(playlists, output, key_resolver, progress)
    write_master(LocalStorage("."), info)
    return info
