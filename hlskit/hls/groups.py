"""Alternative renditions in a master: measure each, and name its group on every variant.

An audio rendition is measured as a variant is (segment sizes → peak and average by the RFC 8216
§4.3.4.2 window, CODECS from its first segment); a subtitle rendition by its sizes and durations.
Then every variant names the groups (``AUDIO=``, ``SUBTITLES=``), its CODECS lists the audio
group's codec, and its BANDWIDTH and AVERAGE-BANDWIDTH add the largest audio rendition of the
group: RFC 8216 §4.3.4.2 asks for the peak of everything a player may fetch together.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, replace

from ..domain.errors import InputError
from .master import RenditionInfo, VariantInfo
from .measure import measure
from .playlist import MediaPlaylist, parse
from .source import Source, in_parallel, require

AUDIO, SUBTITLES = "AUDIO", "SUBTITLES"


@dataclass(frozen=True)
class RenditionSource:
    """A rendition to stitch: what the master says about it, and where its media playlist is."""

    type: str  # AUDIO or SUBTITLES
    group: str
    name: str
    playlist: str  # path in the storage
    language: str | None = None
    default: bool = False
    autoselect: bool = True
    forced: bool = False
    characteristics: str | None = None
    channels: str | None = None


def measure_subtitles(source: Source, spec: RenditionSource, master_dir: str) -> RenditionInfo:
    """A WebVTT rendition's figures: its segments' sizes and durations (no CODECS to read)."""
    pl = parse(require(source, spec.playlist), spec.playlist)
    if not isinstance(pl, MediaPlaylist) or not pl.segments or not pl.target_duration:
        raise InputError(f"{spec.playlist} ({spec.name}) is not a finished subtitle playlist: re-run the package.")
    try:
        sizes = in_parallel(source.size, [s.uri for s in pl.segments], threads=source.remote)
    except OSError:
        raise InputError(f"a segment of {spec.playlist} ({spec.name}) is missing: re-run the package.") from None
    figures = measure(sizes, [s.duration_us for s in pl.segments], pl.target_duration)
    return _info(
        spec, master_dir, None, figures.peak, figures.average, figures.segments, figures.duration, figures.bytes
    )


def audio_info(spec: RenditionSource, master_dir: str, measured: VariantInfo) -> RenditionInfo:
    """An audio rendition's figures, from its playlist measured as a variant is."""
    m = measured
    return _info(spec, master_dir, m.codecs, m.bandwidth, m.average_bandwidth, m.segments, m.duration, m.bytes)


def _info(
    spec: RenditionSource,
    master_dir: str,
    codecs: str | None,
    bandwidth: int,
    average: int,
    segments: int,
    duration: float,
    size: int,
) -> RenditionInfo:
    return RenditionInfo(
        spec.type,
        spec.group,
        spec.name,
        posixpath.relpath(spec.playlist, master_dir or "."),
        language=spec.language,
        default=spec.default,
        autoselect=spec.autoselect,
        forced=spec.forced,
        characteristics=spec.characteristics,
        channels=spec.channels,
        codecs=codecs,
        bandwidth=bandwidth,
        average_bandwidth=average,
        segments=segments,
        duration=duration,
        bytes=size,
    )


def with_groups(variants: list[VariantInfo], renditions: list[RenditionInfo]) -> list[VariantInfo]:
    """Each variant naming the groups, its CODECS with the audio group's codec, its bandwidths
    with the largest audio rendition added (RFC 8216 §4.3.4.2)."""
    audio = [r for r in renditions if r.type == AUDIO]
    subtitles = [r for r in renditions if r.type == SUBTITLES]
    if not audio and not subtitles:
        return variants
    out = []
    for v in variants:
        codecs, peak, average = v.codecs, v.bandwidth, v.average_bandwidth
        if audio:
            extra = [c for c in dict.fromkeys(r.codecs for r in audio if r.codecs) if c not in codecs.split(",")]
            codecs = ",".join([codecs, *extra]) if codecs else ",".join(extra)
            peak += max(r.bandwidth or 0 for r in audio)
            average += max(r.average_bandwidth or 0 for r in audio)
        out.append(
            replace(
                v,
                codecs=codecs,
                bandwidth=peak,
                average_bandwidth=average,
                audio_group=audio[0].group if audio else None,
                subtitles_group=subtitles[0].group if subtitles else None,
            )
        )
    return out
