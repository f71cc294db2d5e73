"""HDR sources: tone-mapped to BT.709 for H.264, kept as HDR in HEVC and AV1.

H.264 definitions are 8-bit High profile, an SDR format. For them an HDR source (PQ, SMPTE ST
2084, or HLG, ARIB STD-B67 — ITU-T H.273 transfer characteristics 16 and 18) is tone-mapped to
SDR with zscale (linearise, BT.2020 → BT.709 primaries) and ``tonemap=hable``, and the output is
tagged BT.709 primaries, transfer and matrix (H.273 values 1/1/1), so no player treats SDR pixels
as PQ. This needs FFmpeg built with zimg (zscale); without it hlskit refuses HDR sources rather
than producing washed-out video labelled HDR.

HEVC (Main 10) and AV1 definitions keep the source's HDR: 10-bit 4:2:0, BT.2020 primaries and
matrix, the source's transfer, tagged as such, so the master declares them VIDEO-RANGE=PQ or HLG
beside the SDR H.264 ones (Apple HLS authoring spec 9.16), and each player picks what its display
shows.
"""

from __future__ import annotations

import functools
import re
import subprocess

from ..domain.media import MediaInfo, VideoStream

HDR_TRANSFERS = {"smpte2084": "PQ", "arib-std-b67": "HLG"}
BT709_TAGS = ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"]


def hdr_kind(media: MediaInfo | None) -> str | None:
    """ "PQ" or "HLG" for an HDR source, else None."""
    if media is None:
        return None
    return HDR_TRANSFERS.get(media.video.color_transfer or "")


HDR_CODECS = ("hevc", "av1")


def keeps_hdr(rung) -> bool:
    """Whether this rung's codec carries HDR (10-bit, PQ/HLG); H.264 rungs are made SDR."""
    return rung.codec in HDR_CODECS


def hdr_tags(args: list[str], video: VideoStream, codec: str) -> list[str]:
    """A HEVC or AV1 rung's encoder options ``args`` keeping the source's HDR: BT.2020 primaries and
    matrix, its transfer, and its HDR10 static metadata (mastering display, content light level),
    which displays tone-map by; without them a player assumes a 1000 or 4000 cd/m² master."""
    tags = ["-color_primaries", "bt2020", "-color_trc", video.color_transfer or "", "-colorspace", "bt2020nc"]
    if codec == "hevc":
        static = ["hdr10=1"] if video.mastering_display or video.content_light else []
        static += [f"master-display={video.mastering_display}"] if video.mastering_display else []
        static += [f"max-cll={video.content_light}"] if video.content_light else []
        return _with_params(args, "-x265-params", static) + tags + ["-profile:v", "main10"]
    static = [f"mastering-display={_in_units(video.mastering_display)}"] if video.mastering_display else []
    static += [f"content-light={video.content_light}"] if video.content_light else []
    return _with_params(args, "-svtav1-params", static) + tags


def _in_units(display: str) -> str:
    """x265's mastering display notation (0.00002 and 0.0001 cd/m² steps) in SVT-AV1's: CIE xy
    coordinates and cd/m² themselves."""

    def scaled(m: re.Match[str]) -> str:
        step = 10000 if m[1] == "L" else 50000
        return f"{m[1]}({int(m[2]) / step:.4f},{int(m[3]) / step:.4f})"

    return re.sub(r"(G|B|R|WP|L)\((\d+),(\d+)\)", scaled, display)


def _with_params(args: list[str], option: str, more: list[str]) -> list[str]:
    """``args`` with ``more`` key=value entries added to the value of ``option`` (one -x265-params: a
    second would replace the first)."""
    if not more:
        return args
    at = args.index(option) + 1
    return [*args[:at], ":".join([args[at], *more]), *args[at + 1 :]]


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


def hdr_note(media: MediaInfo, rungs: list) -> str:
    kind = f"HDR ({hdr_kind(media)}, {media.video.pix_fmt})"
    kept = [r for r in rungs if keeps_hdr(r)]
    if not kept:
        return f"the source is {kind}: it was tone-mapped to SDR BT.709 8-bit, as every definition is H.264 SDR"
    said = f"the source is {kind}: the HEVC/AV1 definitions keep it (10-bit, VIDEO-RANGE declared)"
    return said + (" and the H.264 ones were tone-mapped to SDR BT.709 8-bit" if len(kept) < len(rungs) else "")
