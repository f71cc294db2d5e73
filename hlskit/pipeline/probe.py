"""MediaInfo from PyAV: what the source is, before anything is planned.

Display size is the coded size after the sample aspect ratio and the rotation stored in the
metadata (a phone's display matrix), because that is what a viewer sees and what the ladder
must follow. Anything that is not a readable video (text, empty, truncated, audio only) ends
here with one sentence and exit code 2.
"""

from __future__ import annotations

import dataclasses
import math
import struct
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from ..domain.errors import InputError
from ..domain.media import AudioStream, MediaInfo, VideoStream

# ITU-T H.273 transfer characteristics → FFmpeg's names (PyAV reports the number).
TRANSFER_NAMES = {1: "bt709", 6: "smpte170m", 14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084", 18: "arib-std-b67"}
RUNS_ON = 0.5  # seconds another stream must run on past the video before the video's end bounds the title
RAW_VIDEO = {"h264", "hevc", "vvc", "m4v", "mpegvideo", "obu", "cavsvideo"}  # FFmpeg's raw elementary-stream demuxers
PICTURE_CODECS = {"png", "mjpeg", "bmp", "gif", "webp", "tiff", "jpegls"}  # codecs a cover picture comes in


def _rotation(stream: Any, frame: Any | None) -> int:
    """Rotation from the display matrix, as the angle a player turns the picture."""
    angle = None
    if frame is not None:
        rot = getattr(frame, "rotation", None)  # PyAV ≥ 13: from the display-matrix side data
        if rot is not None:
            angle = -float(rot)
    if angle is None:
        tag = stream.metadata.get("rotate")
        angle = float(tag) if tag else 0.0
    return int(round(angle / 90.0)) * 90 % 360


def probe(path: str | Path, *, name: str | None = None) -> MediaInfo:
    """Probe a local file, or an http(s) URL (e.g. a signed OSS URL; ``name`` is shown instead of it)."""
    target = str(path)
    if not target.strip():  # Path("") is the current folder
        raise InputError("no source given (an empty path): give the path or URL of a video file.")
    is_url = "://" in target
    name = name or target
    size = 0
    if not is_url:
        p = Path(target)
        if not p.exists():
            raise InputError(f"{name} does not exist: check the path.")
        if p.is_dir():
            raise InputError(f"{name} is a folder, not a video file: give the path of a video file.")
        size = p.stat().st_size
        if size == 0:
            raise InputError(f"{name} is empty (0 bytes): give a complete video file.")
    try:
        container = av.open(target, metadata_errors="ignore", timeout=30 if is_url else None)
    except av.FFmpegError as exc:
        if isinstance(exc, PermissionError):
            raise InputError(
                f"{name} cannot be read (permission denied): make it readable, or give a copy you can read."
            )
        head = b"" if is_url else Path(target).read_bytes()[:12]
        if head[4:8] == b"ftyp":  # an MP4/MOV start whose index (moov) never got written
            raise InputError(
                f"{name} is an MP4/MOV file whose index is missing: the file is truncated; give a complete file."
            )
        raise InputError(
            f"{name} is not a readable media file ({_reason(exc)}): give a video file such as MP4, MOV or MKV."
        )
    with container:
        if container.format.name == "image2" or container.format.name.endswith("_pipe"):
            if _pictures(container) > 1:  # a raw stream of pictures (MJPEG): frames, but no rate or times
                raise InputError(
                    f"{name} is a raw stream of pictures without timestamps: put it in a container at its frame "
                    f"rate first (ffmpeg -framerate FPS -i {name} -c copy video.mkv) and package that."
                )
            raise InputError(
                f"{name} is a still image, not a video: give a video "
                "file, or make one first (ffmpeg -loop 1 -i IMAGE -t 10 -pix_fmt yuv420p video.mp4)."
            )
        # Cover art is a video stream too: flagged as an attached picture (MP4 covr, MP3 APIC), or a
        # one-picture track of its own in Matroska, which may be listed before the title's video.
        vstreams = [
            s
            for s in container.streams.video
            if s.codec_context is not None and not s.disposition & av.stream.Disposition.attached_pic
        ]
        if not vstreams and not container.streams.audio:
            raise InputError(
                f"{name} holds no audio or video stream: the file is probably truncated; give a complete video file."
            )
        if not vstreams:
            kind = "audio only" if container.streams.audio else "no video stream"
            raise InputError(f"{name} has {kind}: hlskit needs a video; give a file with a video track.")
        vs = max(vstreams, key=_title_rank)  # the first of the best-ranked
        astream = container.streams.audio[0] if container.streams.audio else None
        duration = _duration(container, vs) or (None if is_url else _demuxed_duration(target, vs.index))
        if not duration and container.format.name in RAW_VIDEO:
            raise InputError(
                f"{name} is a raw video stream without timestamps: put it in a container at its frame rate "
                f"first (ffmpeg -framerate FPS -i {name} -c copy video.mp4) and package that."
            )
        if not duration or duration <= 0:
            raise InputError(
                f"{name} has no measurable duration: the file is probably truncated; give a complete file."
            )
        first = _first_frame(container, vs, name)
        video_end, any_end = _check_tail(container, vs, duration, name)
        if not (vs.duration and vs.time_base) and video_end < duration - RUNS_ON:
            duration = video_end  # the container's duration is its longest stream's: the audio runs on

        cc = vs.codec_context
        coded_w, coded_h = cc.width, cc.height
        if not coded_w or not coded_h:
            raise InputError(f"{name}: the video stream has no picture size: the file is damaged; give another copy.")
        sar = vs.sample_aspect_ratio or cc.sample_aspect_ratio or Fraction(1)
        if not sar or sar <= 0:
            sar = Fraction(1)
        disp_w, disp_h = int(round(coded_w * float(sar))), coded_h
        rotation = _rotation(vs, first)
        if rotation in (90, 270):
            disp_w, disp_h = disp_h, disp_w
        # FFmpeg's own guess (av_guess_frame_rate, what its CLI encodes at): the stream's real rate, where
        # the average (frames over duration) drifts on jittered or gapped timestamps (30 fps read as
        # 30.337: frames repeated and dropped) and raw DV's is 60000
        rate = vs.guessed_rate or vs.average_rate or vs.base_rate
        if not rate or rate <= 0 or math.isinf(float(rate)):
            raise InputError(
                f"{name}: the video has no frame rate: remux it (ffmpeg -i in -c copy out.mp4) and try again."
            )
        hdr10 = hdr10_metadata(first)
        video = VideoStream(
            codec=cc.name,
            profile=cc.profile,
            coded_width=coded_w,
            coded_height=coded_h,
            display_width=disp_w,
            display_height=disp_h,
            rotation=rotation,
            frame_rate=f"{rate.numerator}/{rate.denominator}",
            pix_fmt=cc.format.name if cc.format else None,
            color_transfer=TRANSFER_NAMES.get(int(getattr(first, "color_trc", 0) or cc.color_trc or 0)),
            field_order=_field_order(cc, first),
            index=vs.index,
            mastering_display=hdr10.get("mastering_display"),
            content_light=hdr10.get("content_light"),
        )
        audio = None
        if astream is not None:
            ac = astream.codec_context
            audio = AudioStream(
                codec=ac.name,
                profile=ac.profile,
                sample_rate=ac.sample_rate or 0,
                channels=ac.channels or 0,
                bit_rate=astream.bit_rate or ac.bit_rate or None,
            )
        video = dataclasses.replace(video, bit_rate=_video_bit_rate(container, vs, size, duration))
        return MediaInfo(
            path=name if is_url else str(Path(target).resolve()),
            format=container.format.name,
            duration=duration,
            size=size,
            video=video,
            audio=audio,
            video_end=round(video_end, 3) if any_end > video_end + RUNS_ON else None,
        )


def _title_rank(stream: Any) -> tuple[bool, bool, int]:
    """How surely ``stream`` is the title's video: not a picture codec, then flagged default, then
    the larger picture (FFmpeg's own choice ranks the last two so too), so a camera's low-resolution
    preview track listed first is passed over."""
    cc = stream.codec_context
    default = bool(stream.disposition & av.stream.Disposition.default)
    return cc.name not in PICTURE_CODECS, default, (cc.width or 0) * (cc.height or 0)


# AVFieldOrder (libavcodec/defs.h): 1 progressive, 2-5 interlaced (top/bottom field coded and shown first)
FIELD_ORDERS = {1: "progressive", 2: "tt", 3: "bb", 4: "tb", 5: "bt"}


def _field_order(cc: Any, first: Any) -> str | None:
    """How the stream says its pictures are scanned; an unstated order with an interlaced first
    frame counts as top field first (the common broadcast order)."""
    raw = getattr(cc, "field_order", None)
    order = FIELD_ORDERS.get(raw) if isinstance(raw, int) else (str(raw).lower() if raw else None)
    if order in FIELD_ORDERS.values():
        return order
    return "tt" if getattr(first, "interlaced_frame", False) else None


def _video_bit_rate(container: Any, vs: Any, size: int, duration: float) -> int | None:
    """The video stream's rate: as the container states it (MP4 and TS do), else the file's rate
    less its audio streams' stated rates (MKV states none per stream)."""
    stated = vs.bit_rate or (vs.codec_context.bit_rate if vs.codec_context else 0)
    if stated:
        return int(stated)
    total = size * 8 / duration if size and duration else container.bit_rate
    if not total:
        return None
    audio = sum(a.bit_rate or 0 for a in container.streams.audio)
    return int(total - audio) if total > audio else None


def keyframe_times(path: str | Path, stream: int, start: float = 0.0, end: float | None = None) -> list[float]:
    """Presentation times (seconds from the video's first frame) of the keyframes of the video stream
    ``stream`` of ``path`` from ``start`` to ``end``, read from the packets (no decoding): where a copy
    of the video can be cut into segments. A keyframe that is not a clean random access point (an
    H.264 or HEVC picture after which earlier frames still follow: an open GOP's I or CRA picture)
    is returned negated."""
    times = []
    with av.open(str(path), metadata_errors="ignore") as container:
        vs = container.streams[stream]
        base = vs.time_base or Fraction(1, 90000)
        codec = vs.codec_context.name if vs.codec_context else ""
        zero = vs.start_time or 0  # times from the stream's start, as FFmpeg's output counts them
        for packet in container.demux(vs):
            if packet.is_keyframe and packet.pts is not None:
                t = float((packet.pts - zero) * base)
                if t >= start - 1e-6 and (end is None or t < end):
                    times.append(t if _closed(bytes(packet), codec) else -t if t else -1e-9)
    return sorted(times, key=abs)


def _closed(data: bytes, codec: str) -> bool:
    """Whether a keyframe's first picture is an IDR (H.264 NAL type 5; HEVC types 19-20, ITU-T
    H.265 §7.4.2.2), which nothing before it is needed to decode and nothing after it precedes."""
    kind = {"h264": lambda b: b & 0x1F, "hevc": lambda b: (b >> 1) & 0x3F}.get(codec)
    if kind is None:
        return True  # AV1 key frames and intra-only codecs reset the decoder
    for nal in _nal_units(data):
        value = kind(nal[0])
        if codec == "h264" and value in (1, 5):
            return value == 5
        if codec == "hevc" and value < 32:  # the first VCL NAL unit
            return value in (19, 20)
    return True


def _nal_units(data: bytes):
    """NAL units of a packet: length-prefixed (MP4, MKV) or Annex B start codes (TS)."""
    if data[:3] == b"\x00\x00\x01" or data[:4] == b"\x00\x00\x00\x01":
        for part in data.split(b"\x00\x00\x01"):
            part = part.rstrip(b"\x00")
            if part:
                yield part
        return
    at = 0
    while at + 4 < len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        if size <= 0:
            return
        yield data[at + 4 : at + 4 + size]
        at += 4 + size


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[-1].strip() or "unknown format"


def _duration(container: Any, vs: Any) -> float | None:
    if vs.duration and vs.time_base:
        return float(vs.duration * vs.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _demuxed_duration(target: str, index: int) -> float | None:
    """The span of the video's packets, read to the end without decoding: for a container that states
    no duration (Matroska written to a pipe, a raw H.264 stream). None when no packet has a time."""
    first = end = None
    try:
        with av.open(target, metadata_errors="ignore") as container:
            vs = container.streams[index]
            tb = vs.time_base
            for packet in container.demux(vs):
                if packet.pts is None or not packet.size or tb is None:
                    continue
                at = float(packet.pts * tb)
                first = at if first is None else min(first, at)
                end = max(end or at, at + float((packet.duration or 0) * tb))
    except av.FFmpegError:
        return None
    return None if first is None or end is None else end - first


def hdr10_metadata(frame: Any) -> dict[str, str]:
    """The first frame's HDR10 static metadata as VideoStream's fields (FFmpeg's side data structs:
    AVMasteringDisplayMetadata, rationals in R, G, B order; AVContentLightMetadata)."""
    out: dict[str, str] = {}
    side = getattr(frame, "side_data", None) or []
    # iterating the container yields the SideData up to PyAV 18.1.0, their types (the keys) from 18.1.1
    for item in side:
        data = item if hasattr(item, "type") else side[item]
        raw = bytes(data)
        if data.type.name == "MASTERING_DISPLAY_METADATA" and len(raw) >= 88:
            n = struct.unpack_from("<22i", raw)
            ratio = [n[k] / n[k + 1] if n[k + 1] else 0.0 for k in range(0, 20, 2)]
            if n[20] and n[21]:  # has_primaries, has_luminance: x265 needs both
                (rx, ry, gx, gy, bx, by, wx, wy), (low, high) = ratio[:8], ratio[8:]
                xy = [round(v * 50000) for v in (gx, gy, bx, by, rx, ry, wx, wy)]
                out["mastering_display"] = "G({},{})B({},{})R({},{})WP({},{})".format(*xy)
                out["mastering_display"] += f"L({round(high * 10000)},{round(low * 10000)})"
        elif data.type.name == "CONTENT_LIGHT_LEVEL" and len(raw) >= 8:
            out["content_light"] = "{},{}".format(*struct.unpack_from("<2I", raw))
    return out


def _first_frame(container: Any, vs: Any, name: str) -> Any:
    try:
        for frame in container.decode(vs):
            return frame
    except av.FFmpegError as exc:
        raise InputError(
            f"{name}: the first video frame cannot be decoded ({_reason(exc)}): the file is damaged; give another copy."
        )
    raise InputError(f"{name} holds no video frames: the file is probably truncated; give a complete file.")


def _pictures(container: Any) -> int:
    """How many pictures an image demuxer finds, counting to two: one is a still image."""
    count = 0
    try:
        for packet in container.demux(video=0):
            count += 1 if packet.size else 0
            if count > 1:
                break
    except av.FFmpegError:
        pass
    return count


def _check_tail(container: Any, vs: Any, duration: float, name: str) -> tuple[float, float]:
    """Seek close to the end and demux to the end: in a truncated file the demuxer meets packets
    cut short by the end of the file (flagged corrupt), or every stream's packets stop before the
    duration. Returns where the video's own packets end and where the last stream's do (seconds
    from the file's start): a complete file's audio may run on after its video."""
    start = (container.start_time or 0) / av.time_base
    try:
        container.seek(int(max(0.0, duration - 1.0) / vs.time_base), stream=vs, any_frame=False, backward=True)
        video_end = any_end = None
        cut_short = False
        for packet in container.demux():
            cut_short = cut_short or packet.is_corrupt
            tb = packet.stream.time_base
            if packet.pts is None or not packet.size or tb is None:
                continue
            end = float((packet.pts + (packet.duration or 0)) * tb) - start
            any_end = max(any_end or end, end)
            if packet.stream is vs:
                video_end = max(video_end or end, end)
    except av.FFmpegError as exc:
        raise InputError(
            f"{name} cannot be read to the end ({_reason(exc)}): the file is truncated or damaged; give a complete file."
        )
    if cut_short or video_end is None or any_end is None:
        raise InputError(
            f"{name} ends before its stated duration of {duration:.1f} s: the file is truncated; give a complete file."
        )
    if any_end < duration - max(1.0, 0.1 * duration):  # cut between packets, or a header that overstates
        raise InputError(
            f"{name} ends at {any_end:.1f} s, before its stated duration of {duration:.1f} s: the file is truncated "
            "or its header is wrong; give a complete file, or remux it (ffmpeg -i IN -c copy OUT) to rewrite "
            "its header."
        )
    return video_end, any_end
