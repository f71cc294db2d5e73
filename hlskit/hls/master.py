"""What a master playlist says about each definition, and which variant comes first.

Plain data: :mod:`hlskit.hls.stitch` fills it from measured figures, :mod:`hlskit.hls.write`
renders it, and :meth:`MasterInfo.to_manifest` is what a package manifest records.
"""

from __future__ import annotations

import posixpath
from dataclasses import asdict, dataclass, field

MASTER = "master.m3u8"
START_BPS = 2_000_000  # Apple HLS authoring spec 1.32: the ~2 Mb/s rung is the default (first) variant
START_DEFINITION = "HD"


@dataclass
class VariantInfo:
    definition: str
    uri: str  # relative to the master
    bandwidth: int
    average_bandwidth: int
    codecs: str
    resolution: str | None
    frame_rate: float | None
    segments: int
    duration: float
    bytes: int
    target_duration: int
    peak_wide: int  # draft/mediastreamvalidator window, for information
    key_uris: list[str] = field(default_factory=list)
    iframe_uri: str | None = None
    iframe_bandwidth: int | None = None
    iframe_average_bandwidth: int | None = None
    iframe_count: int = 0

    def to_manifest(self) -> dict:
        return {
            "definition": self.definition,
            "uri": self.uri,
            "bandwidth": self.bandwidth,
            "average_bandwidth": self.average_bandwidth,
            "codecs": self.codecs,
            "resolution": self.resolution,
            "frame_rate": round(self.frame_rate, 3) if self.frame_rate else None,
            "segments": self.segments,
            "duration": round(self.duration, 6),
            "bytes": self.bytes,
            "iframe": {
                "uri": self.iframe_uri,
                "bandwidth": self.iframe_bandwidth,
                "average_bandwidth": self.iframe_average_bandwidth,
            }
            if self.iframe_uri
            else None,
        }


@dataclass
class MasterInfo:
    """A stitched master, not yet written: its text and the I-frame playlists it refers to."""

    path: str  # where master.m3u8 goes (storage path, or file for stitch_playlists)
    variants: list[VariantInfo]  # in master order: start variant first
    session_key: str | None
    text: str
    iframes: dict[str, str] = field(default_factory=dict)  # storage path -> I-frame playlist text

    def to_dict(self) -> dict:
        return {"path": self.path, "session_key": self.session_key, "variants": [asdict(v) for v in self.variants]}

    def to_manifest(self) -> dict:
        """The manifest's "master" entry (the caller adds ``stitched_at``)."""
        return {
            "uri": posixpath.basename(self.path),
            "session_key": self.session_key,
            "variants": [v.to_manifest() for v in self.variants],
        }


def order_variants(variants: list[VariantInfo]) -> list[VariantInfo]:
    """Start variant first (HD when present, else the average nearest 2 Mb/s), then ascending BANDWIDTH."""
    if not variants:
        return []
    start = next((v for v in variants if v.definition == START_DEFINITION), None)
    if start is None:
        start = min(variants, key=lambda v: (abs(v.average_bandwidth - START_BPS), v.bandwidth))
    rest = sorted((v for v in variants if v is not start), key=lambda v: (v.bandwidth, v.definition))
    return [start] + rest


def session_key(variants: list[VariantInfo], method: str | None) -> tuple[str, str] | None:
    """(METHOD, URI) for EXT-X-SESSION-KEY when every variant uses the same single key
    (RFC 8216 §4.3.4.5: lets players preload it), else None."""
    uris = {tuple(v.key_uris) for v in variants}
    if len(uris) == 1 and len(next(iter(uris))) == 1:
        return (method or "AES-128", next(iter(uris))[0])
    return None
