"""Turn FFmpeg's clear HLS output into a definition's (or audio rendition's) final segments and
media playlist; cut a subtitle rendition into WebVTT segments beside them.

FFmpeg writes clear TS or fMP4 segments into staging; each finished segment is then encrypted by
its data key (:mod:`hlskit.keys.protect`), renamed like MPS's (``index-00001.ts``) and listed in
the VOD media playlist that :func:`hlskit.hls.write.media_playlist` renders, with one EXT-X-KEY
before the first segment each key covers. A :class:`SegmentProtector` does the encrypting while
FFmpeg still encodes, so that only the last segments are left when it stops.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..domain.errors import HlskitError
from ..domain.keys import DataKey, KeySchedule
from ..domain.names import INIT, MEDIA_PLAYLIST, segment_name
from ..domain.outputs import DefinitionOutput
from ..hls.playlist import MediaPlaylist, parse, round_half_up
from ..hls.vttsegments import media_start, segment_cues, subtitle_playlist
from ..hls.webvtt import parse_webvtt
from ..hls.write import Entry, media_playlist
from ..keys.protect import KeyMaker, encrypt, key_tag, segment_key
from ..storage import LocalStorage
from .encoders import ffmpeg_segment_name


@dataclass(frozen=True)
class Protected:
    """One segment already encrypted: FFmpeg's clear name, the final name, its key, its size."""

    clear: str
    name: str
    key: DataKey | None
    size: int


class SegmentProtector:
    """Encrypts one output folder's segments while FFmpeg is still writing the folder.

    FFmpeg's HLS muxer writes a VOD playlist only when it ends, but it closes segment n before it
    opens segment n + 1, so a segment is whole once the next one exists; :meth:`catch_up` encrypts
    each such segment into its final name and removes the clear one (unless ``keep_clear``: the MP4
    downloads remux the clear segments later). The first clear segment stays until the finish,
    where the subtitles read its first timestamp. Nothing is published from here: the folder is in
    staging, and a failed or cancelled run removes it whole.
    """

    def __init__(self, folder: Path, fmt: str, schedule: KeySchedule, key_for: KeyMaker, keep_clear: bool = False):
        self.folder, self.fmt, self.schedule, self.key_for = folder, fmt, schedule, key_for
        self.keep_clear = keep_clear
        self.done: list[Protected] = []

    def catch_up(self) -> None:
        """Encrypt every segment FFmpeg has finished since the last call."""
        while (self.folder / ffmpeg_segment_name(len(self.done) + 1, self.fmt)).exists():
            i = len(self.done)
            clear = self.folder / ffmpeg_segment_name(i, self.fmt)
            self.done.append(_protect(clear, i, self.schedule, self.key_for))
            if i > 0 and not self.keep_clear:
                clear.unlink()

    def reset(self) -> None:
        """Forget the segments encrypted so far (their FFmpeg run failed and another one follows)."""
        for seg in self.done:
            (self.folder / seg.name).unlink(missing_ok=True)
        self.done = []

    def taken(self) -> frozenset[str]:
        """FFmpeg's names of the segments encrypted so far, whose clear files may be gone."""
        return frozenset(seg.clear for seg in self.done)


def _protect(clear: Path, index: int, schedule: KeySchedule, key_for: KeyMaker) -> Protected:
    """Write segment ``index`` (FFmpeg's ``clear`` file) encrypted by its data key, or clear, under its final name."""
    key = segment_key(schedule, index, key_for)
    data = encrypt(clear.read_bytes(), key)
    name = segment_name(index, clear.suffix or ".ts")
    (clear.parent / name).write_bytes(data)
    return Protected(clear.name, name, key, len(data))


def finish_segments(
    ffmpeg_playlist: Path,
    schedule: KeySchedule,
    key_for: KeyMaker,
    key_url: str,
    done: list[Protected] | None = None,
) -> DefinitionOutput:
    """Encrypt (or keep clear) every segment listed in ``ffmpeg_playlist`` that is not in ``done``
    (a :class:`SegmentProtector`'s work), write the media playlist beside it and remove FFmpeg's.
    ``key_for(i)`` returns the data key of schedule index i."""
    folder = ffmpeg_playlist.parent
    done = done or []
    source = parse(ffmpeg_playlist.read_text(encoding="utf-8"), ffmpeg_playlist.as_posix())
    if not isinstance(source, MediaPlaylist):
        raise HlskitError(f"{ffmpeg_playlist} is not a media playlist: FFmpeg's HLS output was expected.")
    if not source.segments:
        raise HlskitError(f"{ffmpeg_playlist} lists no segment: FFmpeg's output is empty.")
    init = None
    if source.segments[0].map is not None:
        # FFmpeg names it relative to its playlist (init_<n>.mp4 when one output has several variants).
        # It stays clear (hlskit.keys.protect says why), its MAP before the first EXT-X-KEY.
        ffmpeg_init = folder / Path(source.segments[0].map.uri).name
        if ffmpeg_init.name != INIT:
            ffmpeg_init.replace(folder / INIT)
        init = Entry(INIT, 0.0)
    entries: list[Entry] = []
    used: list[str] = []
    total = 0
    for i, seg in enumerate(source.segments):
        early = i < len(done) and done[i].clear == seg.raw_uri
        made = done[i] if early else _protect(folder / seg.raw_uri, i, schedule, key_for)
        if made.key is not None and (not used or used[-1] != made.key.key_id):
            used.append(made.key.key_id)
        total += made.size
        entries.append(Entry(made.name, seg.duration, key_tag(made.key, key_url)))
    for seg, entry in zip(source.segments, entries):  # once all are written: FFmpeg's clear copies
        if seg.raw_uri != entry.uri:
            (folder / seg.raw_uri).unlink(missing_ok=True)
    durations = [seg.duration for seg in source.segments]
    # RFC 8216 §4.3.3.1: a decimal-integer of at least every rounded EXTINF; never 0 (a one-frame segment).
    target = max(1, *(round_half_up(d) for d in durations))
    # RFC 8216 §7: EXT-X-MAP outside an I-frames-only playlist needs version 6.
    text = media_playlist(entries, target_duration=target, version=6 if init else 3, init=init)
    final = folder / MEDIA_PLAYLIST
    LocalStorage().write_text(str(final), text)
    if ffmpeg_playlist != final:
        ffmpeg_playlist.unlink()
    return DefinitionOutput(
        str(final), len(durations), sum(durations), total, target, tuple(used), init.uri if init else None
    )


def clear_media_start(ffmpeg_playlist: Path) -> int:
    """MPEGTS (90 kHz) of the first frame of FFmpeg's clear output, read before it is encrypted:
    the X-TIMESTAMP-MAP every subtitle segment carries (hlskit.hls.vttsegments.media_start)."""
    source = parse(ffmpeg_playlist.read_text(encoding="utf-8"), ffmpeg_playlist.as_posix())
    if not isinstance(source, MediaPlaylist) or not source.segments:
        raise ValueError(f"{ffmpeg_playlist} lists no segment")
    first = source.segments[0]
    init = (ffmpeg_playlist.parent / Path(first.map.uri).name).read_bytes() if first.map else None
    return media_start((ffmpeg_playlist.parent / first.raw_uri).read_bytes(), init)


def write_subtitles(folder: Path, webvtt: str, durations: list[float], mpegts: int) -> DefinitionOutput:
    """One WebVTT segment per video segment (``durations``) and the subtitle media playlist, clear:
    subtitles carry no picture or sound worth a key (RFC 8216 §3.5: WebVTT segments)."""
    cut = segment_cues(parse_webvtt(webvtt, str(folder)), durations, mpegts=mpegts)
    folder.mkdir(parents=True, exist_ok=True)
    names = [segment_name(i, ".vtt") for i in range(len(cut.texts))]
    storage = LocalStorage()
    for name, text in zip(names, cut.texts):
        storage.write_text(str(folder / name), text)
    target = max(1, *(round_half_up(d) for d in durations))
    storage.write_text(str(folder / MEDIA_PLAYLIST), subtitle_playlist(durations, names, target=target))
    size = sum(len(text.encode("utf-8")) for text in cut.texts)
    return DefinitionOutput(str(folder / MEDIA_PLAYLIST), len(names), sum(durations), size, target, ())
