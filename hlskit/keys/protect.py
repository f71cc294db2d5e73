"""Turn FFmpeg's clear HLS output into the final media playlist, encrypting segments per schedule.

FFmpeg writes clear TS or fMP4 segments into staging; this step encrypts each finished segment
with its data key (AES-128-CBC, PKCS#7, explicit IV: RFC 8216 §4.3.2.4), names segments like MPS
(``index-00001.ts``, ``index-00001.m4s``) and writes the VOD media playlist
(:func:`hlskit.hls.write.media_playlist`) with one EXT-X-KEY before the first segment each key covers.

An fMP4 definition's initialization section (EXT-X-MAP) stays clear, its MAP written before the
first EXT-X-KEY (RFC 8216 §4.3.2.5 permits either): it holds only the codec configuration, no
sample, and VLC 3.0 never decrypts an init section (its HLS parser attaches keys to media
segments only), so an encrypted one fails there ("Failed to create demuxer"); see docs/clients.md.
Encrypting finished files ourselves keeps key rotation and clear lead deterministic (no swapping
of FFmpeg's key-info file while it runs) and means FFmpeg never sees a plain key file.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..domain.errors import HlskitError
from ..domain.keys import DataKey, KeySchedule
from ..hls.crypto import encrypt_segment
from ..hls.playlist import MediaPlaylist, parse
from ..hls.write import Entry, KeyTag, media_playlist
from ..storage import LocalStorage

PLAYLIST = "index.m3u8"


@dataclass(frozen=True)
class Rendition:
    """What one definition produced."""

    playlist: str  # path of index.m3u8
    segments: int
    duration: float
    bytes: int
    target_duration: int
    key_ids: tuple[str, ...]
    init: str | None = None  # fMP4: the initialization section's file name (EXT-X-MAP)


def round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def segment_name(index: int, suffix: str = ".ts") -> str:
    return f"index-{index + 1:05d}{suffix}"


def _key_tag(index: int | None, key_for: Callable[[int], DataKey], key_url: str) -> KeyTag:
    if index is None:
        return KeyTag()
    key = key_for(index)
    return KeyTag("AES-128", key.uri(key_url), key.iv)


def protect(ffmpeg_playlist: Path, schedule: KeySchedule, key_for: Callable[[int], DataKey], key_url: str) -> Rendition:
    """Encrypt (or keep clear) every segment listed in ``ffmpeg_playlist`` and write index.m3u8 beside it.

    ``key_for(i)`` returns the data key for schedule index i (created on first use).
    """
    folder = ffmpeg_playlist.parent
    source = parse(ffmpeg_playlist.read_text(encoding="utf-8"), ffmpeg_playlist.as_posix())
    if not isinstance(source, MediaPlaylist):
        raise HlskitError(f"{ffmpeg_playlist} is not a media playlist: FFmpeg's HLS output was expected.")
    entries: list[Entry] = []
    total_bytes = 0
    used: list[str] = []
    current: int | None = None
    init = None
    if source.segments and source.segments[0].map is not None:
        init = Entry(Path(source.segments[0].map[0]).name, 0.0)  # clear: FFmpeg names it relative to its playlist
    for i, seg in enumerate(source.segments):
        plain_path = folder / seg.raw_uri
        data = plain_path.read_bytes()
        index = schedule.key_index(i)
        tag = _key_tag(index, key_for, key_url)
        if index is not None:
            key = key_for(index)
            if index != current:
                used.append(key.key_id)
            data = encrypt_segment(data, key.key, key.iv)
        current = index
        out_name = segment_name(i, Path(seg.raw_uri).suffix or ".ts")
        (folder / out_name).write_bytes(data)
        if out_name != seg.raw_uri:
            plain_path.unlink()
        total_bytes += len(data)
        entries.append(Entry(out_name, seg.duration, tag))
    durations = [seg.duration for seg in source.segments]
    if not durations:
        raise HlskitError(f"{ffmpeg_playlist} lists no segment: FFmpeg's output is empty.")
    # RFC 8216 §4.3.3.1: a decimal-integer of at least every rounded EXTINF; never 0 (a one-frame segment).
    target = max(1, *(round_half_up(d) for d in durations))
    # RFC 8216 §7: EXT-X-MAP outside an I-frames-only playlist needs version 6.
    text = media_playlist(entries, target_duration=target, version=6 if init else 3, init=init)
    final = folder / PLAYLIST
    LocalStorage().write_text(str(final), text)
    if ffmpeg_playlist != final:
        ffmpeg_playlist.unlink()
    return Rendition(
        str(final), len(durations), sum(durations), total_bytes, target, tuple(used), init.uri if init else None
    )
