"""What an engine's jobs wrote, as plain values: the manifest records them with measured figures."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DefinitionOutput:
    """One definition's media playlist and what it holds."""

    playlist: str  # path of its media playlist (names.MEDIA_PLAYLIST) in staging
    segments: int
    duration: float  # seconds, the sum of EXTINF
    bytes: int
    target_duration: int
    key_ids: tuple[str, ...]  # the data keys its segments use, in order
    init: str | None = None  # fMP4: the initialization section's file name (EXT-X-MAP)


@dataclass(frozen=True)
class DownloadOutput:
    """One definition's progressive MP4 download (``--mp4``)."""

    bytes: int
    uri: str | None = None  # relative to the master, when not the usual downloads/<definition>.mp4
    duration: float | None = None  # seconds, when the engine measured it
