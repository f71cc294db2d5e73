"""The FFmpeg command of the local engine: one decode of the source, split into every definition.

All definitions of one source run in ONE FFmpeg process that decodes the source once, splits
the picture and scales/encodes each definition from it (one process per definition would decode
the source N times; bench/package.py measures both). Keyframes are forced on a fixed grid that
divides the segment duration, with scene-cut keyframes off, so every definition cuts its
segments at the same times (:func:`hlskit.engines.encoders.video_args`).
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
from imageio_ffmpeg._definitions import FNAME_PER_PLATFORM, get_platform

from ..domain.configs import FFmpegConfig
from ..domain.errors import ConfigError
from ..domain.ladder import Rung
from ..domain.options import watermark_text
from ..domain.plan import PackagePlan, Watermark
from ..domain.tracks import AudioRendition
from .colour import BT709_TAGS, HDR_TRANSFERS, hdr_kind, hdr_tags, keeps_hdr, tone_map_chain
from .encoders import hls_args, video_args
from .thumbnails import Layout, thumb_filter

FFMPEG_PLAYLIST = "ffmpeg.m3u8"  # FFmpeg's own playlist in staging, replaced by the definition's


def ffmpeg_exe(config: FFmpegConfig | None = None) -> str:
    """The FFmpeg binary: the configured one, else the one shipped by the imageio-ffmpeg wheel."""
    path = config.path if config else None
    if path:
        if not shutil.which(path) and not Path(path).is_file():
            raise ConfigError(
                f"FFmpeg binary {path} was not found: fix the ffmpeg setting or unset it to use the bundled one."
            )
        return path
    return _bundled()


def _bundled() -> str:
    """The wheel's FFmpeg: the file imageio-ffmpeg's own lookup tries first, taken without running it.

    ``imageio_ffmpeg.get_ffmpeg_exe`` proves that binary by running ``ffmpeg -version`` once per
    process: an FFmpeg start-up (50-90 ms) on every hlskit command. ``IMAGEIO_FFMPEG_EXE``, a
    missing wheel binary or another platform's still go through imageio-ffmpeg."""
    name = FNAME_PER_PLATFORM.get(get_platform(), "")
    exe = Path(imageio_ffmpeg.__file__).parent / "binaries" / name
    if name and not os.environ.get("IMAGEIO_FFMPEG_EXE") and exe.is_file() and os.access(exe, os.X_OK):
        return str(exe)
    return imageio_ffmpeg.get_ffmpeg_exe()


def gop_seconds(segment_duration: int) -> int:
    """The keyframe interval: 2 s when it divides the segment duration (Apple's advice), else 1 s."""
    return 2 if segment_duration % 2 == 0 else 1


def output_rate(frame_rate: str) -> Fraction:
    """Keep the source frame rate, capped at 60 fps as MPS does."""
    rate = Fraction(frame_rate)
    return rate if rate <= 60 else Fraction(60)


def _audio_rate(plan: PackagePlan) -> int:
    src = plan.media.audio.sample_rate if plan.media and plan.media.audio else 48000
    return src if src in (44100, 48000) else 48000


def _size(value: float, full: int) -> int:
    """MPS convention: a value below 1 is a fraction of the output size, otherwise pixels."""
    return int(round(value * full)) if 0 < value < 1 else int(round(value))


def _place(wm: Watermark, out_w: int, out_h: int, mark_w: str, mark_h: str) -> tuple[str, str]:
    dx, dy = _size(wm.dx, out_w), _size(wm.dy, out_h)
    x = f"{dx}" if wm.refer_pos.endswith("Left") else f"{out_w}-{mark_w}-{dx}"
    y = f"{dy}" if wm.refer_pos.startswith("Top") else f"{out_h}-{mark_h}-{dy}"
    return x, y


def _font_file() -> str | None:
    for candidate in (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/System/Library/Fonts/Supplemental/Arial.ttf",
        "C:/Windows/Fonts/arial.ttf",
    ):
        if Path(candidate).is_file():
            return candidate
    return None


def _escape_filter_path(path: str) -> str:
    return path.replace("\\", "/").replace(":", "\\:").replace("'", "\\'")


def _split_graph(head: str, keep: list[bool], transfer: str, thumbs: bool = False) -> list[str]:
    """The filter graph's first part: one decode split into ``[s<i>]`` per rung (and ``[thumbs]``
    for the seek-bar sprite). Rungs that keep HDR take the source's pixels; the others (and the
    sprite) are tone-mapped to SDR once, before their split."""
    sdr = [f"s{i}" for i, k in enumerate(keep) if not k] + (["thumbs"] if thumbs else [])
    kept = [f"s{i}" for i, k in enumerate(keep) if k]

    def split(into: list[str]) -> str:
        return f"split={len(into)}" + "".join(f"[{label}]" for label in into)

    tone = f"{tone_map_chain(transfer)}," if transfer in HDR_TRANSFERS else ""
    if not kept:
        return [f"{head},{tone}{split(sdr)}"]
    if not sdr:
        return [f"{head},{split(kept)}"]
    return [f"{head},split=2[sdr][hdr]", f"[sdr]{tone}{split(sdr)}", f"[hdr]{split(kept)}"]


@dataclass(frozen=True)
class SpriteOutput:
    """The seek-bar sprite's tiles made in the encoding run (one decode): the MJPEG stream they go
    to (engines.thumbnails lays them out after the run), and their layout."""

    path: Path
    layout: Layout


@dataclass
class Encode:
    """One FFmpeg invocation: its arguments and what it produces (definitions, audio renditions)."""

    args: list[str]
    rungs: list[Rung]
    audio: list[AudioRendition] = field(default_factory=list)


def for_stream(args: list[str], kind: str, index: int) -> list[str]:
    """Encoder options (``-opt value`` pairs) for one output stream: every ``-opt`` (or ``-opt:v``)
    becomes ``-opt:v:N``, so several encoders share one output (FFmpeg's stream specifiers)."""
    assert len(args) % 2 == 0, "options come in -name value pairs"
    out = []
    for option, value in zip(args[::2], args[1::2]):
        out += [f"{option.split(':', 1)[0]}:{kind}:{index}", value]
    return out


def snap_first_frame(rate: Fraction) -> str:
    """The filter that moves a first picture less than a frame after the output's start (the sound's:
    FFmpeg's own TS files start their video 21 ms late) to the start. On the constant frame rate grid
    it fell in the second slot: the first picture was shown twice and the title grew by a frame (a
    40 ms last segment). A later picture keeps its time, the first one held until it is due."""
    frame = f"{rate.denominator}/{rate.numerator}"
    return f"setpts='PTS-if(gte(STARTPTS,0)*lt(STARTPTS*TB,{frame}),STARTPTS,0)'"


def output_seconds(plan: PackagePlan) -> float:
    """Seconds the encode lasts: the clip, or the source's video from the clip's start (audio running on
    past the video is not read)."""
    assert plan.media is not None
    start = plan.clip.seek if plan.clip else 0.0
    length = (plan.media.video_end or plan.media.duration) - start
    return min(plan.clip.duration, length) if plan.clip and plan.clip.duration else length


def _inputs(plan: PackagePlan, audio: list[AudioRendition]) -> tuple[list[str], dict[str, int]]:
    """Input options (the source clipped, watermark images, extra audio files) and each file's index."""
    clip = ["-ss", f"{plan.clip.seek:.3f}"] if plan.clip else []
    if plan.clip and plan.clip.duration:
        clip += ["-t", f"{plan.clip.duration:.3f}"]
    elif plan.media and plan.media.video_end:  # audio running on past the video: read no further
        clip += ["-t", f"{plan.media.video_end - (plan.clip.seek if plan.clip else 0.0):.3f}"]
    args = [*clip, "-i", plan.source]
    for wm in plan.watermarks:
        if wm.kind == "image":
            args += ["-i", wm.image]
    index = {plan.source: 0}
    count = 1 + sum(1 for wm in plan.watermarks if wm.kind == "image")
    for r in audio:
        if r.input not in index:
            # An added audio file is cut like the source (it was checked to last as long).
            args += [*clip, "-i", r.input]
            index[r.input] = count
            count += 1
    return args, index


def build_encode(
    plan: PackagePlan,
    rungs: list[Rung],
    ffmpeg: str,
    preset: str,
    outdir: Path,
    textdir: Path,
    *,
    rate_control: str = "abr",
    crf: int = 23,
    create: bool = True,
    audio: list[AudioRendition] | None = None,
    sprite: SpriteOutput | None = None,
    stop_at_clip: bool = False,
) -> Encode:
    """The FFmpeg command that encodes ``rungs`` and the ``audio`` renditions from one decode of the source.

    Every definition and rendition is a variant stream of ONE HLS output (``-var_stream_map``),
    written to ``outdir/<name>/``: one output has one timeline, so every definition and every
    audio rendition starts at the same presentation time whatever each encoder's reordering delay
    (separate outputs would each shift their own timestamps, and audio renditions would drift from
    the picture by the video's B-frame delay). Each rung is encoded with its codec
    (:func:`hlskit.engines.encoders.video_args`); with no audio renditions in the plan, each rung
    also carries the source's first audio stream at its definition's rate (muxed). ``rate_control``
    "abr" aims at each definition's rate (-b:v); "capped-crf" keeps quality constant (-crf).

    Text watermarks are read by drawtext from files in ``textdir`` (kept out of the package).
    ``create=False`` (``--dry-run``) builds the same command without making folders or text files.
    ``sprite``: the seek-bar sprite as one more output of the same decode (no second decode).
    ``stop_at_clip``: every stream ends at the clip's end on the output clock (the local engine; the
    Celery engine's chunks start on a video frame and are cut to whole frames by their own spans).
    """
    media = plan.media
    assert media is not None
    audio = plan.audio if audio is None else audio
    rate = output_rate(media.video.frame_rate)
    fps = float(rate)
    gop = gop_seconds(plan.segment_duration)
    gop_frames = max(1, round(fps * gop))
    args = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats", "-progress", "pipe:1"]
    inputs, index = _inputs(plan, audio)
    args += inputs
    images = [wm for wm in plan.watermarks if wm.kind == "image"]

    copied = [r for r in rungs if r.transmux]  # the source's own video (pipeline.transmux): no decode for it
    encoded = [r for r in rungs if not r.transmux]
    n = len(encoded)
    hdr = hdr_kind(media) is not None
    keep = [hdr and keeps_hdr(rung) for rung in encoded]  # HEVC/AV1 rungs keep HDR (engines.colour)
    graph: list[str] = []
    if encoded:
        # An interlaced source is deinterlaced first (bwdif: one picture per frame, field order as
        # the stream states it), or every definition shows combing on moving edges.
        deinterlace = "bwdif=mode=send_frame:parity=auto:deint=all," if media.video.interlaced else ""
        head = f"[0:{media.video.index}]{deinterlace}{snap_first_frame(rate)},fps={rate.numerator}/{rate.denominator}"
        graph = _split_graph(head, keep, media.video.color_transfer or "", thumbs=sprite is not None)
        if sprite is not None:
            graph.append(f"[thumbs]{thumb_filter(sprite.layout)}[sprite]")
    for j in range(len(images) if encoded else 0):
        graph.append(f"[{j + 1}:v]format=rgba,split={n}" + "".join(f"[m{j}_{i}]" for i in range(n)))
    for i, rung in enumerate(encoded):
        chain = f"[s{i}]scale={rung.width}:{rung.height}:flags=bicubic,setsar=1"
        label = f"b{i}"
        graph.append(chain + f"[{label}]")
        for j, wm in enumerate(images):
            mark_w = max(2, _size(wm.width, rung.width))
            graph.append(f"[m{j}_{i}]scale={mark_w}:-1[mk{j}_{i}]")
            x, y = _place(wm, rung.width, rung.height, "w", "h")  # overlay's w/h: the mark's size
            graph.append(f"[{label}][mk{j}_{i}]overlay=x={x}:y={y}:format=auto[{label}w{j}]")
            label = f"{label}w{j}"
        for k, wm in enumerate(w for w in plan.watermarks if w.kind == "text"):
            textfile = textdir / f"text-{i}-{k}.txt"
            if create:
                textfile.write_text(watermark_text(wm, rung.name))
            size = _size(wm.width if wm.width else 0.05, rung.height)
            x, y = _place(wm, rung.width, rung.height, "tw", "th")
            font = _font_file()
            fontopt = f"fontfile='{_escape_filter_path(font)}':" if font else ""
            # expansion=none: the text is shown as written (drawtext would read "100% free" as a
            # %{...} sequence and fail, and drop every backslash)
            graph.append(
                f"[{label}]drawtext={fontopt}textfile='{_escape_filter_path(str(textfile))}':expansion=none:"
                f"fontsize={size}:fontcolor=white@0.85:borderw={max(1, size // 16)}:bordercolor=black@0.6:"
                f"x={x}:y={y}[{label}t{k}]"
            )
            label = f"{label}t{k}"
        # Overlays may leave alpha: the encoders need 4:2:0, 10-bit where HDR is kept.
        graph.append(f"[{label}]format={'yuv420p10le' if keep[i] else 'yuv420p'}[v{i}]")
    if graph:
        args += ["-filter_complex", ";".join(graph)]

    muxed = not plan.audio and media.audio is not None  # no renditions: each definition carries the audio
    streams: list[str] = []  # -var_stream_map entries
    sample_rate = str(_audio_rate(plan))
    keyframes, grid_frames = _keyframes(plan, fps, gop_frames)
    ordered = encoded + copied  # output video streams v:0… in this order
    for i, rung in enumerate(ordered):
        if rung.transmux:
            args += ["-map", f"0:{media.video.index}", *for_stream(["-c:v", "copy"], "v", i)]
        else:
            args += ["-map", f"[v{i}]"]
            codec = video_args(
                rung,
                fps=fps,
                preset=preset,
                rate_control=rate_control,
                crf=crf,
                gop=gop,
                gop_frames=grid_frames,
                keyframes=keyframes,
            )
            if keep[i]:
                codec = hdr_tags(codec, media.video, rung.codec)
            elif hdr:  # the pixels are SDR BT.709 now: say so in the VUI (ITU-T H.273 code points 1/1/1)
                codec += BT709_TAGS
            args += for_stream(codec, "v", i)
        streams.append(f"v:{i},a:{i},name:{rung.name}" if muxed else f"v:{i},name:{rung.name}")
    # A copied source keeps its own AAC too; any other audio is encoded (AAC is what HLS players read).
    keeps_audio = media.audio is not None and media.audio.codec == "aac"
    audio_streams = [("0:a:0", r.definition.audio_kbps, r.transmux and keeps_audio) for r in ordered] if muxed else []
    for r in audio:
        streams.append(f"a:{len(audio_streams)},name:{r.folder}")
        audio_streams.append((f"{index[r.input]}:a:{r.stream}", r.kbps, False))
    # aresample=async fills gaps in the source's audio (and a late start) with silence by the
    # timestamps, so the audio after a gap stays where it belongs instead of moving up: from 20 ms
    # (its default, 100 ms, left an 86 ms gap's sound early for the rest of the title); apad runs
    # audio that ends early on in silence to the video's end (fMP4 segments without it break the
    # track, players stall at its end), and atrim ends longer audio there (an --audio file 3 s long
    # beside 2 s of video ran on for a second the playlists did not cover)
    seconds = f"{output_seconds(plan):.3f}"
    fill = f"aresample=async=1:min_hard_comp=0.02:first_pts=0,apad=whole_dur={seconds},atrim=end={seconds}"
    for k, (source, kbps, copy) in enumerate(audio_streams):
        args += ["-map", source]
        encoder = ["-c:a", "aac", "-b:a", f"{kbps}k", "-ac", "2", "-ar", sample_rate, "-filter:a", fill]
        # a TS source's AAC is ADTS framed; fMP4 holds raw AAC with its AudioSpecificConfig (ISO/IEC
        # 14496-3 §1.6): the filter moves it there (and passes MP4's AAC through unchanged)
        copy_audio = ["-c:a", "copy"] + (["-bsf:a", "aac_adtstoasc"] if plan.format == "fmp4" else [])
        args += for_stream(copy_audio if copy else encoder, "a", k)
    if create:
        for name in [r.name for r in ordered] + [r.folder for r in audio]:
            (outdir / name).mkdir(parents=True, exist_ok=True)
    if stop_at_clip and plan.clip and plan.clip.duration:
        # the input's -t counts from each stream's own first frame: a video starting after the clip's
        # start ran on past the clip's end by that lead; an output -t ends every stream on one clock
        args += ["-t", seconds]
    args += hls_args(plan.format, outdir, plan.segment_duration, FFMPEG_PLAYLIST, streams)
    if sprite is not None and encoded:  # a second output of the one decode: the tiles as they come
        args += ["-map", "[sprite]", "-c:v", "mjpeg", "-q:v", "2", "-f", "mjpeg", str(sprite.path)]
    return Encode(args, ordered, list(audio))


def _keyframes(plan: PackagePlan, fps: float, gop_frames: int) -> tuple[str | None, int]:
    """Where encoded definitions put their keyframes: every GOP (None), or, beside a copied source,
    at the source's own keyframe times (so every variant's segments start together), with a GOP as
    long as the source's longest gap."""
    if not plan.keyframes or not any(r.transmux for r in plan.rungs):
        return None, gop_frames
    times = plan.keyframes
    longest = max((b - a for a, b in zip(times, times[1:])), default=float(plan.segment_duration))
    return ",".join(f"{t:.3f}" for t in times), max(1, math.ceil(longest * fps) + 1)
