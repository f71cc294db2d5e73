"""What a master playlist says about each definition, and which variant comes first.

Plain data: :mod:`hlskit.hls.stitch` fills it from measured figures, :mod:`hlskit.hls.write`
renders it, and :meth:`MasterInfo.record` is what a package manifest records.
"""

from __future__ import annotations

import dataclasses
import posixpath
from dataclasses import asdict, dataclass, field

from ..domain.manifest_records import MasterRecord, RenditionRecord, VariantRecord

# The first variant is where players without a bandwidth estimate start: stock hls.js takes it
# (when no level fits its 500 kb/s default estimate), and a slow first fragment is a slow first
# frame. Measured (bench/players.py: 1080p, 700 kb/s, another origin): HD first, stock hls.js
# spends the slow phase on one 1.5 MB HD fragment (first frame 8-10 s); LD first, 3.1 s with 4 s
# segments, then it climbs when the network frees. Shaka and VHS choose by their own estimates,
# whatever the order (bench/results/fast-start.md). "lowest" trades the first seconds' picture on a
# fast network for a fast start on a slow one; a name starts there instead.
LOWEST = "lowest"
START_DEFINITION = LOWEST


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
    video_range: str | None = None  # "SDR", "PQ", "HLG" from the media; None: it does not say
    audio_group: str | None = None  # AUDIO="..." (RFC 8216 §4.3.4.2): its GROUP-ID; None: muxed audio or none
    subtitles_group: str | None = None  # SUBTITLES="..."
    closed_captions: bool = False  # CEA-608/708 found in the first segment (ATSC A/53 "GA94" SEI)

    def record(self) -> VariantRecord:
        """What a package manifest records of this variant."""
        return VariantRecord(
            definition=self.definition,
            uri=self.uri,
            bandwidth=self.bandwidth,
            average_bandwidth=self.average_bandwidth,
            codecs=self.codecs,
            resolution=self.resolution,
            frame_rate=round(self.frame_rate, 3) if self.frame_rate else None,
            video_range=self.video_range,
            segments=self.segments,
            duration=round(self.duration, 6),
            bytes=self.bytes,
            iframe={
                "uri": self.iframe_uri,
                "bandwidth": self.iframe_bandwidth,
                "average_bandwidth": self.iframe_average_bandwidth,
            }
            if self.iframe_uri
            else None,
            audio_group=self.audio_group,
            subtitles_group=self.subtitles_group,
        )


# CHARACTERISTICS values (RFC 8216 §4.3.4.1: Uniform Type Identifiers; these are Apple's).
TRANSCRIBES_DIALOG = "public.accessibility.transcribes-spoken-dialog"
DESCRIBES_SOUND = "public.accessibility.describes-music-and-sound"
DESCRIBES_VIDEO = "public.accessibility.describes-video"


# One alternative rendition (EXT-X-MEDIA, RFC 8216 §4.3.4.1) with its measured figures: what the
# master says about it (write.media_tag renders it) is what the manifest records, one dataclass.
RenditionInfo = RenditionRecord


def characteristics(kind: str, *, hearing_impaired: bool = False, visual_impaired: bool = False) -> str | None:
    """CHARACTERISTICS for a rendition whose source says it is for the deaf and hard of hearing
    (subtitles that also describe sounds: SDH) or an audio description of the video."""
    if kind == "SUBTITLES" and hearing_impaired:
        return f"{TRANSCRIBES_DIALOG},{DESCRIBES_SOUND}"
    if kind == "AUDIO" and visual_impaired:
        return DESCRIBES_VIDEO
    return None


def unique_names(names: list[str]) -> list[str]:
    """NAMEs made distinct within a group (RFC 8216 §4.3.4.1.1): a repeated name gets " 2", " 3"..."""
    taken: set[str] = set()
    out = []
    for name in names:
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            candidate = f"{name} {n}"
        taken.add(candidate)
        out.append(candidate)
    return out


def unquotable(value: str) -> bool:
    """Whether ``value`` holds what a playlist's quoted-string cannot carry: a double quote or a line
    break (RFC 8216 §4.2), or any other control character (§4.1: none in a playlist but line ends)."""
    return any(c == '"' or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in value)


def quotable(text: str) -> str:
    """Free text (a source stream's title) as a quoted-string carries it: double quotes become
    single ones, control characters and line breaks spaces."""
    cleaned = "".join("'" if c == '"' else " " if unquotable(c) else c for c in text)
    return " ".join(cleaned.split())


def quoted_string(value: str, what: str) -> str:
    """``value`` as an RFC 8216 §4.2 quoted-string; ValueError when it holds what a quoted-string
    cannot carry (:func:`unquotable`)."""
    if unquotable(value):
        raise ValueError(f"{what} {value!r} holds a double quote or a control character (RFC 8216 §4.1, §4.2)")
    return f'"{value}"'


@dataclass
class MasterInfo:
    """A stitched master, not yet written: its text and the I-frame playlists it refers to."""

    path: str  # where master.m3u8 goes (storage path, or file for stitch_playlists)
    variants: list[VariantInfo]  # in master order: start variant first
    session_key: str | None
    text: str
    iframes: dict[str, str] = field(default_factory=dict)  # storage path -> I-frame playlist text
    renditions: list[RenditionInfo] = field(default_factory=list)  # EXT-X-MEDIA, in master order

    def to_dict(self) -> dict:
        out = {"path": self.path, "session_key": self.session_key, "variants": [asdict(v) for v in self.variants]}
        if self.renditions:
            out["renditions"] = [asdict(r) for r in self.renditions]
        return out

    def record(self, stitched_at: str = "") -> MasterRecord:
        """The manifest's "master" entry."""
        return MasterRecord(
            posixpath.basename(self.path),
            self.session_key,
            [v.record() for v in self.variants],
            stitched_at,
            [dataclasses.replace(r, duration=round(r.duration, 6)) for r in self.renditions],
        )


def order_variants(variants: list[VariantInfo], start: str = START_DEFINITION) -> list[VariantInfo]:
    """Start variant first, then ascending BANDWIDTH. Players without an estimate start on the
    first variant (hls.js API docs, ``startLevel``: "first level appearing in manifest will be
    used"). ``start``: a definition name or ``"lowest"``; a name the package lacks falls back to
    the lowest, the fast start."""
    if not variants:
        return []
    ascending = sorted(variants, key=lambda v: (v.bandwidth, v.definition))
    # "lowest" means the lowest variant every player decodes: H.264 when the package has it, since
    # a player starts on the first variant before it knows which codecs it can play.
    universal = [v for v in ascending if v.codecs.startswith("avc1")] or ascending
    first = next((v for v in ascending if v.definition == start), universal[0])
    return [first] + [v for v in ascending if v is not first]


def session_key(variants: list[VariantInfo], method: str | None) -> tuple[str, str] | None:
    """(METHOD, URI) for EXT-X-SESSION-KEY when every variant uses the same single key
    (RFC 8216 §4.3.4.5: lets players preload it), else None."""
    uris = {tuple(v.key_uris) for v in variants}
    if len(uris) == 1 and len(next(iter(uris))) == 1:
        return (method or "AES-128", next(iter(uris))[0])
    return None
