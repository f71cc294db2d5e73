"""HDR sources on an SDR ladder: tone-map to BT.709 and tag the output as such.

Every definition is 8-bit H.264 High profile, an SDR format. An HDR source (PQ, SMPTE ST 2084, or
HLG, ARIB STD-B67 — ITU-T H.273 transfer characteristics 16 and 18) is therefore tone-mapped to
SDR with zscale (linearise, BT.2020 → BT.709 primaries) and ``tonemap=hable``, and the output is
tagged BT.709 primaries, transfer and matrix (H.273 values 1/1/1), so no player treats SDR pixels
as PQ. This needs FFmpeg built with zimg (zscale); without it hlskit refuses HDR sources rather
than producing washed-out video labelled HDR.
"""

from __future__ import annotations

import functools
import subprocess

from ..domain.media import MediaInfo

HDR_TRANSFERS = {"smpte2084": "PQ", "arib-std-b67": "HLG"}
BT709_TAGS = ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"]


def hdr_kind(media: MediaInfo | None) -> str | None:
    """ "PQ" or "HLG" for an HDR source, else None."""
    if media is None:
        return None
    return HDR_TRANSFERS.get(media.video.color_transfer or "")


def tone_map_chain(transfer: str) -> str:
    """Filters from HDR (BT.2020, PQ/HLG) to SDR BT.709 limited range, 4:2:0 8-bit."""
    return (
        f"zscale=tin={transfer}:pin=bt2020:min=bt2020nc:t=linear:npl=100,format=gbrpf32le,"
        "zscale=p=bt709,tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p"
    )


@functools.lru_cache(maxsize=8)
def can_tone_map(ffmpeg: str) -> bool:
    """Whether this FFmpeg has the zscale and tonemap filters."""
    try:
        out = subprocess.run(
            [ffmpeg, "-hide_banner", "-filters"], capture_output=True, text=True, timeout=30
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return False
    return "zscale" in out and "tonemap" in out


def hdr_note(media: MediaInfo) -> str:
    kind = hdr_kind(media)
    return (
        f"the source is HDR ({kind}, {media.video.pix_fmt}): it was tone-mapped to SDR BT.709 8-bit, "
        "as every definition is H.264 SDR"
    )
