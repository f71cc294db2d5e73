"""The records a package manifest holds (:class:`hlskit.domain.manifest.Manifest`): definitions,
downloads, renditions, keys (ids and URIs, never keys) and the stitched master's figures."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .runs import JobState
from .tracks import AUDIO_DIR, SUBTITLES_DIR

T = TypeVar("T")


def from_dict(cls: type[T], data: Any) -> T:
    """``cls`` from a dict, taking only the fields it knows (missing ones keep their defaults)."""
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        raise ValueError(f"{cls.__name__} entry is not an object")
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class DefinitionRecord:
    """One definition's job and what it produced."""

    name: str
    codec: str = "h264"
    width: int = 0
    height: int = 0
    video_kbps: int = 0
    audio_kbps: int = 0
    template_id: str = ""
    job_id: str = ""
    state: str = JobState.SUBMITTED.value
    code: str = ""
    message: str = ""
    playlist: str | None = None  # relative to the master, once the job succeeded
    segments: int = 0
    duration: float = 0.0
    bytes: int = 0
    vmaf: float | None = None  # `hlskit quality` (pipeline/quality.py)
    psnr_y: float | None = None
    ssim: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.state == JobState.SUCCESS.value


@dataclass
class DownloadRecord:
    """One definition's MP4 download job (--mp4)."""

    name: str
    job_id: str = ""
    state: str = JobState.SUBMITTED.value
    uri: str | None = None  # relative to the master, once made
    bytes: int = 0
    duration: float | None = None


@dataclass
class RenditionEntry:
    """An audio or subtitle rendition of the title (EXT-X-MEDIA) and what produced it: an audio
    rendition is a job of its own (encoded once for every definition); subtitles are cut from text."""

    type: str  # "AUDIO" or "SUBTITLES"
    slug: str  # its folder: audio/<slug>/ or subtitles/<slug>/
    name: str
    language: str | None = None
    default: bool = False
    forced: bool = False
    characteristics: str | None = None
    job_id: str = ""  # audio only
    state: str = JobState.SUBMITTED.value
    playlist: str | None = None  # relative to the master, once made
    segments: int = 0
    duration: float = 0.0
    bytes: int = 0
    commentary: bool = False  # audio the source flags a commentary: never AUTOSELECT=YES

    @property
    def folder(self) -> str:
        return f"{AUDIO_DIR if self.type == 'AUDIO' else SUBTITLES_DIR}/{self.slug}"

    @property
    def succeeded(self) -> bool:
        return self.state == JobState.SUCCESS.value


@dataclass
class KeyEntry:
    """A data key by its id and key URI (never the key); ``iv`` where the engine writes explicit IVs."""

    key_id: str
    uri: str = ""
    first_segment: int | None = None
    iv: str | None = None


@dataclass
class Encryption:
    method: str = "NONE"  # "AES-128" or "NONE"
    rotate_every: int | None = None
    clear_lead: int = 0


@dataclass
class VariantRecord:
    """A variant of the master as stitched: measured figures (hlskit.hls.master.VariantInfo)."""

    definition: str
    uri: str = ""
    bandwidth: int = 0
    average_bandwidth: int = 0
    codecs: str = ""
    resolution: str | None = None
    frame_rate: float | None = None
    video_range: str | None = None
    segments: int = 0
    duration: float = 0.0
    bytes: int = 0
    iframe: dict[str, Any] | None = None  # {"uri", "bandwidth", "average_bandwidth"}
    audio_group: str | None = None  # AUDIO="…" when audio is in renditions
    subtitles_group: str | None = None  # SUBTITLES="…"


@dataclass
class RenditionRecord:
    """An alternative audio or subtitle rendition (EXT-X-MEDIA, RFC 8216 §4.3.4.1) with its measured
    figures, as the master names it and the manifest records it (hlskit.hls.master.RenditionInfo).
    ``bandwidth``/``average_bandwidth`` are its own peak and average (RFC 8216 §4.3.4.2 windows);
    a variant's BANDWIDTH adds the largest of its audio group."""

    type: str  # "AUDIO" or "SUBTITLES"
    group: str  # GROUP-ID
    name: str  # NAME: unique in the group, in the rendition's language (§4.3.4.1)
    uri: str = ""  # relative to the master
    language: str | None = None  # RFC 5646 (hlskit.domain.languages.language_tag); None: not written
    default: bool = False  # at most one per group (§4.3.4.1.1)
    autoselect: bool = True  # YES whenever DEFAULT=YES (§4.3.4.1)
    forced: bool = False  # SUBTITLES only
    characteristics: str | None = None  # e.g. transcribes-spoken-dialog,describes-music-and-sound
    channels: str | None = None  # AUDIO: "2", "6", "16/JOC"
    assoc_language: str | None = None
    codecs: str | None = None  # the rendition's own format, e.g. "mp4a.40.2" (None for WebVTT)
    bandwidth: int | None = None
    average_bandwidth: int | None = None
    segments: int = 0
    duration: float = 0.0
    bytes: int = 0


@dataclass
class MasterRecord:
    uri: str = ""
    session_key: str | None = None
    variants: list[VariantRecord] = field(default_factory=list)
    stitched_at: str = ""
    renditions: list[RenditionRecord] = field(default_factory=list)  # EXT-X-MEDIA, in master order

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MasterRecord:
        master = from_dict(cls, data)
        master.variants = [from_dict(VariantRecord, v) for v in data.get("variants") or []]
        master.renditions = [from_dict(RenditionRecord, r) for r in data.get("renditions") or []]
        return master


@dataclass
class Validation:
    must_fix: list[str] = field(default_factory=list)
    should_fix: list[str] = field(default_factory=list)
