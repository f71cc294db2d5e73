"""What the caller asks for (:class:`PackageOptions`) and what the planner decided (:class:`PackagePlan`).

A plan is everything decided before anything runs: the source, the ladder, the keys and where
output goes. An engine turns the plan's jobs (one per definition) into per-definition media
playlists under ``plan.staging``; finishing (stitch, validate, publish) happens after, in
:mod:`hlskit.pipeline`, the same way for every engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .keys import DataKey, KeySchedule
from .ladder import Rung
from .media import MediaInfo
from .names import MEDIA_PLAYLIST
from .runs import Job
from .tracks import AudioRendition, SubtitleRendition


@dataclass(frozen=True)
class Watermark:
    """MPS-style placement: ReferPos corner, offsets and width as pixels (≥ 1) or fractions (< 1)."""

    kind: str  # "image" or "text"
    refer_pos: str = "TopRight"
    dx: float = 0.0
    dy: float = 0.0
    width: float = 0.12  # image: width of the mark; text: font size as a fraction of output height
    image: str = ""  # path (local engine) or oss:// URI (mts engine)
    text: str = ""  # may contain {definition}


@dataclass(frozen=True)
class Clip:
    """MPS Clip.TimeSpan: start (Seek) and duration, in seconds."""

    seek: float
    duration: float | None = None


@dataclass
class PackageOptions:
    """The caller's choices for one package; None means "the setting's default"."""

    ladder: str = "auto"
    segment_duration: int | None = None
    key_url: str | None = None
    encrypt: bool = True
    rotate_every: int | None = None
    clear_lead: int = 0
    watermarks: list[Watermark] = field(default_factory=list)
    clip: Clip | None = None
    content_id: str | None = None
    notify: list[str] = field(default_factory=list)
    engine: str | None = None
    start_definition: str | None = None  # the master's first variant: a definition name or "lowest"
    given_key: bytes | None = field(default=None, repr=False)  # --key-file: stored wrapped, never logged
    given_iv: bytes | None = None  # --iv (default: random); not secret, playlists carry it
    format: str | None = None  # "ts" or "fmp4"; None: chosen from the codecs (hlskit.domain.formats)
    codecs: tuple[str, ...] = ("h264",)  # one rung per definition per codec
    mp4: bool = False  # also a progressive MP4 per definition (a job of its own, as MPS)
    audio: list[str] = field(default_factory=list)  # --audio FILE:LANG[:NAME]: more audio renditions
    subtitles: list[str] = field(default_factory=list)  # --subtitles FILE:LANG[:NAME]
    subtitle_encoding: str | None = None  # the subtitle files' text encoding (default: UTF-8, BOM honoured)
    default_audio: str | None = None  # the language whose audio rendition is DEFAULT=YES
    audio_renditions: bool = False  # audio in renditions even for a single-audio source
    transmux: bool = False  # one SOURCE definition: the source's own video, copied (MPS M3U8-COPY)


@dataclass
class PackagePlan:
    content_id: str
    run_id: str
    source: str  # local path, or oss://bucket/key for the mts engine
    media: MediaInfo | None  # None when the engine probes remotely
    rungs: list[Rung]
    jobs: dict[str, Job]  # definition name → job
    segment_duration: int
    key_url: str
    schedule: KeySchedule
    keys: list[DataKey]  # keys[i] encrypts the segments whose schedule index is i
    staging: str  # where the engine writes: <staging>/<definition>/index.m3u8
    out: str  # the package's location once published (holds master.m3u8)
    watermarks: list[Watermark] = field(default_factory=list)
    clip: Clip | None = None
    user_data: dict = field(default_factory=dict)
    # Creates and stores the next data key; set by the planner, absent for clear packages.
    make_key: Callable[[], DataKey] | None = field(default=None, repr=False)
    per_title: dict[str, Any] | None = None  # the per-title analysis (pipeline/pertitle.py), when asked for
    start_definition: str = "lowest"  # the master's first variant (hlskit.hls.master.order_variants)
    format: str = "ts"  # segment format: "ts" or "fmp4" (hlskit.domain.formats)
    mp4_jobs: dict[str, Job] = field(default_factory=dict)  # rung name → its MP4 download job (--mp4)
    # Audio renditions (empty: audio muxed into each definition) and their jobs, by slug; subtitles.
    audio: list[AudioRendition] = field(default_factory=list)
    audio_jobs: dict[str, Job] = field(default_factory=dict)
    subtitles: list[SubtitleRendition] = field(default_factory=list)
    # With a SOURCE (transmuxed) definition beside encoded ones: the source's keyframe times, where
    # every encoded definition takes its keyframes too, so all segments start together.
    keyframes: tuple[float, ...] = ()
    notes: list[str] = field(default_factory=list)  # planning decisions a user should see (rates capped…)

    def key(self, index: int) -> DataKey:
        """The data key for schedule index ``index``, created on first use (rotation adds keys)."""
        while len(self.keys) <= index:
            if self.make_key is None:
                raise RuntimeError("this plan has no key maker: it was planned without encryption")
            self.keys.append(self.make_key())
        return self.keys[index]

    def all_jobs(self) -> list[Job]:
        """Every job of the run: one per definition, the audio renditions, then the MP4 downloads."""
        return [*self.jobs.values(), *self.audio_jobs.values(), *self.mp4_jobs.values()]

    def playlist_path(self, definition: str) -> str:
        return f"{self.staging}/{definition}/{MEDIA_PLAYLIST}"


# (definition or "*", percent 0..100[, speed]): the local engine adds FFmpeg's speed (x real time)
# as a third argument, None when FFmpeg has not measured it yet; other callers pass two.
ProgressCallback = Callable[..., None]
