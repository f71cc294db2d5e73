"""Encapsulation: package the source's own video without re-encoding (MPS's M3U8-COPY preset).

``--transmux`` makes one definition, SOURCE, from the source's video (copied, so every decoded
frame is the source's) cut into segments at the source's own keyframes; ``--ladder X+source`` adds
it above an encoded ladder when the source's codec, keyframes and the segment format fit, and the
encoded definitions then take their keyframes at the source's, so every variant's segments start
together (Apple HLS authoring spec 6.4). H.264 goes into TS or fMP4; HEVC and AV1 into fMP4
(Apple HLS authoring spec 1.5); anything else is refused before anything is created.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..domain.errors import InputError
from ..domain.formats import FMP4_ONLY
from ..domain.ladder import SOURCE, Definition, Rung, resolve
from ..domain.media import MediaInfo
from ..domain.plan import PackageOptions
from .probe import keyframe_times

COPY_TEMPLATE = "S00000001-100000"  # MPS M3U8-COPY: transmux, no re-encode
TRANSMUX_CODECS = {"h264": "h264", "hevc": "hevc", "av1": "av1", "libdav1d": "av1"}  # FFmpeg decoder → codec
SUFFIX = "+source"
CODEC_NAMES = {"h264": "H.264", "hevc": "HEVC", "av1": "AV1"}
# What players decode, copied as it is (Apple HLS authoring spec 1.2-1.5: H.264 up to High profile,
# HEVC Main and Main 10, 4:2:0): High 10, 4:2:2 and 4:4:4 H.264 is published playable almost nowhere
PLAYABLE_PIXELS = {
    "h264": {"yuv420p", "yuvj420p"},
    "hevc": {"yuv420p", "yuvj420p", "yuv420p10le"},
    "av1": {"yuv420p", "yuv420p10le"},
}


@dataclass(frozen=True)
class SourcePlan:
    """What transmuxing this source gives: its rung, its keyframes, and sentences about it."""

    rung: Rung | None  # None: the source cannot be added (``why`` says so)
    keyframes: tuple[float, ...] = ()
    warnings: list[str] = field(default_factory=list)
    why: str = ""


def split_ladder(option: str) -> tuple[str, bool]:
    """``auto+source`` → ("auto", True): the ladder option and whether the source rung is asked for."""
    text = option.strip()
    if text.lower().endswith(SUFFIX):
        return text[: -len(SUFFIX)].strip() or "auto", True
    return text, False


def source_codec(media: MediaInfo) -> str | None:
    """hlskit's name for the source's video codec when hlskit can carry it copied, else None."""
    return TRANSMUX_CODECS.get(media.video.codec)


def check_transmux_options(options: PackageOptions, asked_ladder: bool) -> None:
    """What a copy cannot do, refused in one sentence."""
    what = "--transmux" if options.transmux else "--ladder …+source"
    if options.transmux and asked_ladder:
        raise InputError("--transmux makes the one SOURCE definition: drop --ladder, or use --ladder auto+source.")
    if options.clip:
        raise InputError(f"{what} copies the source, which cannot start on any frame: drop --clip (or {what}).")
    if options.watermarks:
        raise InputError(f"{what} copies the source's pictures, so it cannot draw a watermark: drop one of them.")


def plan_source(source: str, media: MediaInfo, fmt: str, segment_duration: int, *, required: bool) -> SourcePlan:
    """The SOURCE rung for this source and format. ``required`` (``--transmux``): what does not fit
    is refused; else (``+source``) it is left out with the reason. ``source`` is what PyAV opens
    (an oss:// source's signed URL): sentences name ``media.path`` instead."""
    shown = media.path
    codec = source_codec(media)
    name = media.video.codec.upper()
    if codec is None:
        return _refuse(
            f"{shown}'s video is {name}, which hlskit cannot carry copied (it packages H.264 in TS or fMP4, "
            "HEVC and AV1 in fMP4): drop --transmux/+source to re-encode it",
            required,
        )
    if fmt == "ts" and codec in FMP4_ONLY:
        return _refuse(
            f"{shown}'s video is {codec.upper()}, which HLS carries in fMP4 only (Apple HLS authoring spec 1.5): "
            "use --format fmp4",
            required,
        )
    pixels = media.video.pix_fmt or ""
    if pixels not in PLAYABLE_PIXELS[codec]:
        profile = f" {media.video.profile}" if media.video.profile else ""
        return _refuse(
            f"{shown}'s video is {CODEC_NAMES[codec]}{profile} ({pixels or 'unknown pixel format'}), which few players "
            "decode (Apple HLS authoring spec: H.264 up to High profile, HEVC Main or Main 10, 4:2:0): drop "
            "--transmux/+source to re-encode it",
            required,
        )
    if media.video.rotation:
        return _refuse(
            f"{shown} is displayed rotated {media.video.rotation}° clockwise, which a copy into HLS segments cannot "
            "keep (the rotation is container metadata): drop --transmux/+source to re-encode it upright",
            required,
        )
    if media.video.interlaced:
        return _refuse(
            f"{shown} is interlaced ({media.video.field_order} fields), which a copy keeps and players show combed "
            "on moving edges (Apple HLS authoring spec: interlaced source content MUST be de-interlaced): drop "
            "--transmux/+source to re-encode it (hlskit de-interlaces it)",
            required,
        )
    found = keyframe_times(source, media.video.index)
    if not found or abs(found[0]) > 0.05:
        return _refuse(f"{shown} does not start with a keyframe, so a copy cannot start there: re-encode it", required)
    if any(t < 0 for t in found):
        return _refuse(
            f"{shown} has open GOPs (keyframes that are not IDR pictures), so copied segments could not each "
            "start on a picture a player decodes alone (Apple HLS authoring spec 6.4): drop --transmux/+source "
            "to re-encode it",
            required,
        )
    times = found
    gaps = [(b - a, a) for a, b in zip(times, [*times[1:], media.duration])]
    longest, at = max(gaps)
    warnings = []
    if longest > segment_duration + 0.05:
        sentence = (
            f"the source's keyframes are up to {longest:.2f} s apart (at {at:.2f} s), more than --segment-duration "
            f"{segment_duration} allows, so SOURCE segments last up to {longest:.2f} s"
        )
        if not required:
            return SourcePlan(None, why=f"SOURCE not added: {sentence}; the encoded definitions keep their own grid")
        warnings.append(sentence)
    audio_kbps = round(media.audio.bit_rate / 1000) if media.audio and media.audio.bit_rate else 128
    kbps = round(media.video.bit_rate / 1000) if media.video.bit_rate else 0
    long_edge = max(media.video.display_width, media.video.display_height)
    definition = Definition(SOURCE, long_edge, kbps, audio_kbps, COPY_TEMPLATE)
    rung = resolve(definition, media.video.display_width, media.video.display_height)
    rung = Rung(definition, rung.width, rung.height, codec=codec, transmux=True)
    return SourcePlan(rung, tuple(times), warnings)


def _refuse(sentence: str, required: bool) -> SourcePlan:
    if required:
        raise InputError(sentence + ".")
    return SourcePlan(None, why=f"SOURCE not added: {sentence}")
