"""The file names of a package, in one place (the layout the README documents).

```
<content-id>/hlskit.json  master.m3u8  sprite.jpg  thumbnails.vtt  downloads/<definition>.mp4
<content-id>/<definition>/index.m3u8  iframes.m3u8  init.mp4  index-00001.ts|.m4s …
```
Segments are named like MPS's (``index-00001.ts``).
"""

from __future__ import annotations

MANIFEST = "hlskit.json"
MASTER = "master.m3u8"
MEDIA_PLAYLIST = "index.m3u8"
IFRAMES_PLAYLIST = "iframes.m3u8"
INIT = "init.mp4"  # an fMP4 definition's initialization section (EXT-X-MAP, RFC 8216 §4.3.2.5)
SEGMENT_SUFFIX = {"ts": ".ts", "fmp4": ".m4s"}
DOWNLOADS = "downloads"
MP4_SUFFIX = ".mp4"  # an MP4 download job is named "<definition>.mp4"; its file is downloads/<definition>.mp4
SPRITE = "sprite.jpg"
SOURCE_COPY = ".source.mov"  # a source without a keyframe index, remuxed to be cut on exact frames (engines.seekable)
THUMBNAILS = "thumbnails.vtt"


def run_staging(final: str, run_id: str) -> str:
    """Where a detached run (its jobs outlive the process that started it) writes a folder package
    until it is published: ``out/.<content-id>.run-<run-id>`` beside ``final`` (``out/<content-id>``).
    Named by the run, not by a process id, so no later run sweeps it away as a dead process's."""
    head, _, name = final.rstrip("/").rpartition("/")
    return f"{head}/.{name}.run-{run_id}"


def segment_name(index: int, suffix: str = ".ts") -> str:
    """The ``index``-th segment (0-based), MPS style: ``index-00001.ts``."""
    return f"index-{index + 1:05d}{suffix}"


def iframes_name(playlist: str) -> str:
    """The I-frame playlist beside media playlist ``playlist`` (a file name)."""
    stem = playlist.rsplit(".", 1)[0]
    return IFRAMES_PLAYLIST if stem == MEDIA_PLAYLIST.rsplit(".", 1)[0] else f"{stem}-{IFRAMES_PLAYLIST}"
