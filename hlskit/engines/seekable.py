"""A source FFmpeg can seek frame-accurately, for the encodes that start inside it.

``-ss`` before ``-i`` is frame-accurate only where the container indexes its keyframes (MP4/MOV's
sync-sample table, ISO/IEC 14496-12 §8.6.2; Matroska's Cues): FFmpeg seeks to the keyframe before
the target, decodes and drops the frames before it. A container without an index (MPEG-TS above
all, also MPEG-PS, FLV, raw streams) is searched by timestamp instead, and FFmpeg starts at the
first keyframe it finds after that byte position: a clip or a chunk then starts up to a GOP late
and runs on past its end (measured: a 4 s clip of a TS with a 10 s GOP gave 8 s). Such a source
is remuxed once, without re-encoding, into a MOV (which also takes PCM, MPEG audio and AC-3), and
the encode reads that copy.
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

from ..domain.errors import InputError
from ..domain.media import MediaInfo
from ..domain.plan import PackagePlan
from .process import popen_tied

INDEXED = {"mov", "mp4", "matroska", "webm"}  # FFmpeg demuxer names of containers with a keyframe index
REMUX_TIMEOUT = 3600  # seconds: a copy runs at disk speed, hours of video in minutes


def has_index(media: MediaInfo) -> bool:
    """True when the source's container indexes its keyframes (``-ss`` is frame-accurate)."""
    return bool(INDEXED & set(media.format.split(",")))


def seekable(plan: PackagePlan, copy: Path, ffmpeg: str) -> PackagePlan:
    """``plan`` reading a source ``-ss`` can cut on any frame: itself when the source has an index,
    else with its source (and the audio renditions taken from it) replaced by a MOV remux at
    ``copy``. Streams keep their order, so ``0:a:N`` names the same audio."""
    assert plan.media is not None
    if has_index(plan.media):
        return plan
    remux_to_mov(ffmpeg, plan.source, plan.media, copy)
    return reading(plan, copy)


def remux_to_mov(ffmpeg: str, source: str, media: MediaInfo, copy: Path, audio: bool = True) -> None:
    """Copy the source's video stream (and its audio, unless ``audio`` is False) into a MOV at
    ``copy`` without re-encoding; InputError, and no copy left, when FFmpeg cannot."""
    args = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i", source]
    args += ["-map", f"0:{media.video.index}"] + (["-map", "0:a?"] if audio else [])
    args += ["-c", "copy", "-f", "mov", str(copy)]
    proc = popen_tied(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace")
    try:
        _, err = proc.communicate(timeout=REMUX_TIMEOUT)
    except BaseException:
        proc.kill()
        proc.wait()
        copy.unlink(missing_ok=True)
        raise
    if proc.returncode != 0:
        copy.unlink(missing_ok=True)
        said = " / ".join(line.strip() for line in err.splitlines()[-2:] if line.strip()) or "no message"
        raise InputError(
            f"the source's container ({media.format}) has no keyframe index, and FFmpeg could not copy it "
            f"into MOV to cut it on exact frames ({said}): remux it into MP4 or MKV and package that."
        )


def reading(plan: PackagePlan, copy: Path) -> PackagePlan:
    """``plan`` with its source, and the audio renditions taken from it, read from ``copy``
    (``--dry-run`` shows the commands as they will run, without making the copy)."""
    source = str(copy)
    audio = [dataclasses.replace(a, input=source) if a.input == plan.source else a for a in plan.audio]
    media = copied(plan.media) if plan.media is not None else None
    return dataclasses.replace(plan, source=source, media=media, audio=audio)


def copied(media: MediaInfo) -> MediaInfo:
    """The source's facts as its copy holds them: the title's video is its first stream."""
    return dataclasses.replace(media, video=dataclasses.replace(media.video, index=0))
