"""The playlist model: media and master playlists as plain dataclasses (RFC 8216 §4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass(frozen=True)
class Problem:
    """A fault the parser saw: the id of the rule it breaks and what exactly is wrong. Severity and
    the spec text come from the one rule catalogue, :data:`hlskit.hls.validate.rules.RULES`."""

    rule: str
    message: str


@dataclass(frozen=True)
class Key:
    method: str
    uri: str | None = None  # absolute (resolved against the playlist)
    iv: bytes | None = None  # explicit IV, or None: the IV is the media sequence number
    keyformat: str = "identity"
    raw_uri: str | None = None

    @property
    def encrypted(self) -> bool:
        return self.method != "NONE"


@dataclass(frozen=True)
class ByteRange:
    length: int
    offset: int


class Map(NamedTuple):
    """An EXT-X-MAP: the Media Initialization Section of the segments after it (RFC 8216 §4.3.2.5).

    ``key`` is the EXT-X-KEY in effect at the MAP tag (a KEY applies to the MAPs after it, §4.3.2.4):
    the init section is decrypted with it and its explicit IV, which §4.3.2.5 makes REQUIRED."""

    uri: str  # resolved against the playlist
    byterange: ByteRange | None = None
    key: Key | None = None
    raw_uri: str = ""

    @property
    def cipher(self) -> Key | None:
        """The EXT-X-KEY that encrypts this, None when it is clear (no key, or METHOD=NONE)."""
        return self.key if self.key is not None and self.key.encrypted else None

    @property
    def encrypted(self) -> bool:
        return self.cipher is not None


@dataclass(slots=True)  # slots: a 16 MiB playlist can list a few hundred thousand segments
class Segment:
    uri: str  # resolved against the playlist
    raw_uri: str
    duration: float
    duration_us: int  # EXTINF in whole microseconds: exact arithmetic for the peak rule
    msn: int
    key: Key | None = None
    byterange: ByteRange | None = None
    map: Map | None = None  # fMP4: the init section (map[0] is its URI)
    discontinuity: bool = False

    @property
    def iv(self) -> bytes:
        """The AES-128 IV: explicit, else the media sequence number, big-endian (RFC 8216 §5.2)."""
        if self.key and self.key.iv is not None:
            return self.key.iv
        return self.msn.to_bytes(16, "big")

    @property
    def cipher(self) -> Key | None:
        """The EXT-X-KEY that encrypts this, None when it is clear (no key, or METHOD=NONE)."""
        return self.key if self.key is not None and self.key.encrypted else None

    @property
    def encrypted(self) -> bool:
        return self.cipher is not None


@dataclass
class MediaPlaylist:
    uri: str
    version: int | None = None
    target_duration: int | None = None
    media_sequence: int = 0
    playlist_type: str | None = None
    endlist: bool = False
    independent: bool = False
    iframes_only: bool = False
    segments: list[Segment] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    features: set[str] = field(default_factory=set)  # what the version table cares about

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.segments)

    @property
    def keys(self) -> list[Key]:
        seen: dict[Key, None] = {}
        for s in self.segments:
            if s.cipher is not None:
                seen.setdefault(s.cipher)
        return list(seen)


@dataclass
class Variant:
    attrs: dict[str, str]  # values without quotes
    uri: str  # resolved
    raw_uri: str

    def int(self, name: str) -> int | None:
        """A decimal-integer attribute (RFC 8216 §4.2: digits only, 0 to 2^64-1), else None."""
        text = self.attrs.get(name, "")
        if not (text.isascii() and text.isdigit()) or len(text) > 20 or int(text) > 2**64 - 1:
            return None
        return int(text)


RENDITION_TYPES = ("AUDIO", "VIDEO", "SUBTITLES", "CLOSED-CAPTIONS")  # EXT-X-MEDIA TYPE (RFC 8216 §4.3.4.1)


@dataclass(frozen=True)
class Rendition:
    """An EXT-X-MEDIA tag (RFC 8216 §4.3.4.1): one alternative rendition in a group. Absent
    enumerated attributes take their defaults (NO); ``attrs`` keeps every attribute as written."""

    type: str  # AUDIO | VIDEO | SUBTITLES | CLOSED-CAPTIONS, as written ("" when missing)
    group_id: str
    name: str
    uri: str | None = None  # resolved against the master
    raw_uri: str | None = None
    language: str | None = None
    assoc_language: str | None = None
    default: bool = False
    autoselect: bool = False
    forced: bool = False
    instream_id: str | None = None
    characteristics: str | None = None
    channels: str | None = None
    attrs: dict[str, str] = field(default_factory=dict, compare=False)
    line: int = field(default=0, compare=False)  # line of the tag in the master

    @classmethod
    def from_attrs(cls, attrs: dict[str, str], uri: str | None, line: int = 0) -> Rendition:
        """The tag's attributes (values unquoted) with its URI resolved; nothing is checked here
        (hlskit.hls.validate.renditions does that)."""
        return cls(
            attrs.get("TYPE", ""),
            attrs.get("GROUP-ID", ""),
            attrs.get("NAME", ""),
            uri,
            attrs.get("URI"),
            attrs.get("LANGUAGE"),
            attrs.get("ASSOC-LANGUAGE"),
            attrs.get("DEFAULT") == "YES",
            attrs.get("AUTOSELECT") == "YES",
            attrs.get("FORCED") == "YES",
            attrs.get("INSTREAM-ID"),
            attrs.get("CHARACTERISTICS"),
            attrs.get("CHANNELS"),
            attrs,
            line,
        )


@dataclass
class MasterPlaylist:
    uri: str
    version: int | None = None
    independent: bool = False
    variants: list[Variant] = field(default_factory=list)
    iframe_variants: list[Variant] = field(default_factory=list)
    media: list[Rendition] = field(default_factory=list)
    session_keys: list[dict[str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    features: set[str] = field(default_factory=set)
