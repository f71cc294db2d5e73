"""What an FFmpeg HLS run really left behind, beyond its exit code.

FFmpeg's HLS muxer can exit 0 after ENOSPC with an empty or partial playlist (write errors on
segments are logged, not fatal), so a definition counts as encoded only when its playlist ends
with EXT-X-ENDLIST (RFC 8216 §4.3.3.4), lists only non-empty segments, and lasts about as long as
the source. Decoder errors in the log (a source damaged mid-stream) are counted, so a package that
concealed broken frames says so.
"""

from __future__ import annotations

import contextlib
import errno
import os
from dataclasses import dataclass
from pathlib import Path

from ..hls.model import MediaPlaylist
from ..hls.playlist import parse

NO_SPACE = "No space left on device"


def ffmpeg_reason(lines: list[str], code: int) -> str:
    """A failed FFmpeg run in one line: its exit code and its last three log lines."""
    useful = [line.strip() for line in lines if line.strip()]
    return f"FFmpeg exited with code {code}: " + (" / ".join(useful[-3:]) if useful else "no message")


def progress_percent(key: str, value: str, seconds: float | None) -> float | None:
    """The percent done that one ``-progress`` line (``key=value``) reports for ``seconds`` of
    media, at most 99 (the run is done when its output is checked), or None for other lines."""
    if key != "out_time_us" or not value.isdigit() or not seconds:
        return None
    return min(99.0, int(value) / 1e6 / seconds * 100)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    reason: str = ""
    duration: float = 0.0


def disk_full(stderr_lines: list[str]) -> bool:
    return any(NO_SPACE in line or "Disk quota exceeded" in line for line in stderr_lines)


def disk_full_reason(folder: Path, done: float | None = None, expected: float | None = None) -> str:
    where = f" and stopped after {done:.1f} of {expected:.1f} s" if done is not None and expected else ""
    return (
        f"disk full: FFmpeg could not write {folder} ({NO_SPACE}){where}; "
        "free space under the --out folder and package again"
    )


def write_refused(stderr_lines: list[str], folder: Path) -> str | None:
    """A reason when FFmpeg could not write its output for lack of permission (EROFS, EACCES)."""
    for cause in ("Read-only file system", "Permission denied"):
        if any(cause in line and ("Failed to open" in line or "error code" in line) for line in stderr_lines):
            return f"FFmpeg could not write {folder} ({cause}): choose a --out folder you can write to"
    return None


def check_output(
    playlist: Path, expected: float, stderr_lines: list[str], taken: frozenset[str] = frozenset()
) -> Outcome:
    """Whether ``playlist`` (FFmpeg's media playlist) holds the whole encode; else why not.
    ``taken``: segments already encrypted into their final names while FFmpeg ran (their clear
    files may be gone)."""
    folder = playlist.parent
    full = disk_full(stderr_lines)
    try:
        text = playlist.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        text = ""
    total, missing, ended = 0.0, [], False
    if text:
        parsed = parse(text, playlist.as_posix())
        if isinstance(parsed, MediaPlaylist):
            ended = parsed.endlist
            for seg in parsed.segments:
                path = folder / seg.raw_uri
                if seg.raw_uri not in taken and (not path.is_file() or path.stat().st_size == 0):
                    missing.append(seg.raw_uri)
                total += seg.duration
    if not full and (not text or missing or not ended):
        full = not has_room(folder)  # FFmpeg often logs nothing: ask the file system
    if full:
        return Outcome(False, disk_full_reason(folder, total, expected), total)
    if not text:
        return Outcome(False, "FFmpeg produced no playlist", 0.0)
    if missing:
        return Outcome(False, f"FFmpeg left {len(missing)} empty or missing segment(s), first {missing[0]}", total)
    if not ended:
        return Outcome(False, "FFmpeg's playlist has no EXT-X-ENDLIST: the encode stopped before the end", total)
    if total <= 0 or total < expected - max(1.0, 0.1 * expected):
        return Outcome(False, f"FFmpeg's output lasts {total:.2f} s of the expected {expected:.2f} s", total)
    return Outcome(True, "", total)


def has_room(folder: Path, probe_bytes: int = 64 * 1024) -> bool:
    """Whether ``folder`` can still take a small write (False on ENOSPC or EDQUOT)."""
    where = folder if folder.is_dir() else folder.parent
    test = where / f".hlskit-space-{os.getpid()}"
    try:
        with open(test, "wb") as f:
            f.write(b"\0" * probe_bytes)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        return exc.errno not in (errno.ENOSPC, errno.EDQUOT)
    finally:
        with contextlib.suppress(OSError):  # e.g. EROFS: the folder can take nothing at all
            test.unlink()
    return True


def decode_errors(stderr_lines: list[str], codecs: set[str]) -> int:
    """How many log lines the source's decoders wrote ("[h264 @ 0x…] error while decoding MB …")."""
    heads = tuple(f"[{c} @ 0x" for c in codecs if c)
    return sum(1 for line in stderr_lines if heads and line.lstrip().startswith(heads))
