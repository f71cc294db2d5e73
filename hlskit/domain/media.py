"""What a source is: its container, duration and streams, as the probe found them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any


@dataclass(frozen=True)
class VideoStream:
    codec: str
    profile: str | None
    coded_width: int
    coded_height: int
    display_width: int
    display_height: int
    rotation: int  # degrees, clockwise as displayed: 0, 90, 180 or 270
    frame_rate: str  # exact rational, e.g. "30000/1001"
    pix_fmt: str | None
    # ITU-T H.273 transfer characteristics as FFmpeg names them: smpte2084 (PQ) and arib-std-b67 (HLG) are HDR.
    color_transfer: str | None = None
    bit_rate: int | None = None  # bits/s as the container states it, else estimated from the file size
    field_order: str | None = None  # "progressive", or interlaced "tt", "bb", "tb", "bt" (top/bottom field first)
    # The stream's index in its file (FFmpeg's 0:N): a cover picture may be listed before the title's video.
    index: int = 0
    # HDR10 static metadata, in x265's and SVT-AV1's notation: the mastering display (SMPTE ST 2086)
    # "G(x,y)B(x,y)R(x,y)WP(x,y)L(max,min)" (0.00002 and 0.0001 cd/m² units) and "MaxCLL,MaxFALL"
    # (CTA-861.3), when the source states them
    mastering_display: str | None = None
    content_light: str | None = None

    @property
    def interlaced(self) -> bool:
        return self.field_order in ("tt", "bb", "tb", "bt")

    @property
    def fps(self) -> float:
        return float(Fraction(self.frame_rate))


@dataclass(frozen=True)
class AudioStream:
    codec: str
    profile: str | None
    sample_rate: int
    channels: int
    bit_rate: int | None = None  # bits/s, when the container states it


@dataclass(frozen=True)
class MediaInfo:
    path: str
    format: str
    duration: float
    size: int
    video: VideoStream
    audio: AudioStream | None
    # seconds from the file's start where the video ends, when another stream runs on past it: the
    # engines read the source no further (a package's segments then hold no audio past its playlists)
    video_end: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
