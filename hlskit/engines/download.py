"""MP4 downloads: a progressive, fast-start MP4 per definition beside the HLS output (``--mp4``).

MPS makes one output per job, so each download is a job of its own. The local engine makes it
from the definition's clear segments, before they are encrypted, by remuxing them (``-c copy``):
the same encode as the HLS variant, no second encode. ``-movflags +faststart`` moves the moov box
before the media data (ISO/IEC 14496-12 §8.2.1 allows either order), so a browser starts playing
a download before it has all of it. The file is clear: progressive download has no AES-128 as
HLS does, so the media server hands it out only for a playback token of its content (segments,
being encrypted, need none).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .process import popen_tied


def remux_mp4(ffmpeg: str, playlist: Path, target: Path, audio: Path | None = None) -> str | None:
    """Write ``target`` from the clear media playlist ``playlist`` (with ``audio``, a clear audio
    rendition's playlist, when audio is in renditions); None on success, else why not.

    FFmpeg writes a hidden temporary file that is renamed into place, so a failed or killed
    remux never leaves a half-written MP4 where users look."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    args = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i", str(playlist)]
    streams = ["-map", "0"]
    if audio is not None:
        args += ["-i", str(audio)]
        streams = ["-map", "0:v", "-map", "1:a"]
    args += [*streams, "-c", "copy", "-movflags", "+faststart", "-f", "mp4", str(partial)]
    proc = popen_tied(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace")
    _, err = proc.communicate()
    if proc.returncode != 0:
        partial.unlink(missing_ok=True)
        lines = [line.strip() for line in err.splitlines() if line.strip()]
        return f"FFmpeg could not write the MP4 ({' / '.join(lines[-2:]) or f'exit code {proc.returncode}'})"
    os.replace(partial, target)
    return None
