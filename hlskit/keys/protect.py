"""Turn FFmpeg's clear HLS output into the final media playlist, encrypting segments per schedule.

FFmpeg writes clear TS segments into staging; this step encrypts each finished segment with its
data key (AES-128-CBC, PKCS#7, explicit IV), names segments like MPS (``index-00001.ts``) and
writes the VOD media playlist with one EXT-X-KEY before the first segment each key covers.
Encrypting finished files ourselves keeps key rotation and clear lead deterministic (no swapping
of FFmpeg's key-info file while it runs) and means FFmpeg never sees a plain key file.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import m3u8

from ..domain.keys import DataKey, KeySchedule
from ..hls.crypto import encrypt_segment
from ..storage import LocalStorage

PLAYLIST = "index.m3u8"


@dataclass(frozen=True)
class Rendition:
    """What one definition produced."""

    playlist: str          # path of index.m3u8
    segments: int
    duration: float
    bytes: int
    target_duration: int
    key_ids: tuple[str, ...]


def round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def segment_name(index: int) -> str:
    return f"index-{index + 1:05d}.ts"


def protect(ffmpeg_playlist: Path, schedule: KeySchedule, key_for: Callable[[int], DataKey],
            key_url: str) -> Rendition:
    """Encrypt (or keep clear) every segment listed in ``ffmpeg_playlist`` and write index.m3u8 beside it.

    ``key_for(i)`` returns the data key for schedule index i (created on first use).
    """
    folder = ffmpeg_playlist.parent
    source = m3u8.load(str(ffmpeg_playlist))
    lines = []
    total_bytes = 0
    total_duration = 0.0
    current: int | None = None
    used: list[str] = []
    durations = [seg.duration for seg in source.segments]
    for i, seg in enumerate(source.segments):
        plain_path = folder / seg.uri
        data = plain_path.read_bytes()
        index = schedule.key_index(i)
        if index != current:
            if index is None:
                lines.append("#EXT-X-KEY:METHOD=NONE")
            else:
                key = key_for(index)
                used.append(key.key_id)
                lines.append(f'#EXT-X-KEY:METHOD=AES-128,URI="{key.uri(key_url)}",IV={key.iv_hex}')
            current = index
        if index is not None:
            key = key_for(index)
            data = encrypt_segment(data, key.key, key.iv)
        out_name = segment_name(i)
        (folder / out_name).write_bytes(data)
        if out_name != seg.uri:
            plain_path.unlink()
        total_bytes += len(data)
        total_duration += seg.duration
        lines.append(f"#EXTINF:{seg.duration:.6f},")
        lines.append(out_name)
    target = max(round_half_up(d) for d in durations) if durations else 1
    header = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{target}",
              "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD"]
    # A leading METHOD=NONE is noise: segments before the first KEY tag are clear anyway.
    if lines and lines[0] == "#EXT-X-KEY:METHOD=NONE":
        lines.pop(0)
    text = "\n".join(header + lines + ["#EXT-X-ENDLIST", ""])
    final = folder / PLAYLIST
    LocalStorage().write_text(str(final), text)
    if ffmpeg_playlist != final:
        ffmpeg_playlist.unlink()
    return Rendition(str(final), len(durations), total_duration, total_bytes, target, tuple(used))
