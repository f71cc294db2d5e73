"""FFmpeg encoder and HLS muxer arguments for one rung: H.264 (libx264), HEVC (libx265), AV1 (SVT-AV1).

Every codec gets the same keyframe grid (a closed GOP of ``gop`` seconds, keyframes forced at
multiples of it, scene-cut keyframes off), so segments of every rung, whatever its codec, start at
the same times and one master can list them together (Apple HLS authoring spec 6.4: IDR-aligned
variants). The rate follows the rung: its own CRF (per-title), else the run's rate control,
capped by a VBV of 1.5x/2x the rung's rate where the encoder allows it.
"""

from __future__ import annotations

from pathlib import Path

from ..domain.errors import InputError
from ..domain.ladder import Rung
from ..domain.names import INIT, SEGMENT_SUFFIX
from .h264 import level_for

X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
RATE_CONTROLS = ("abr", "capped-crf")
# x265 takes x264's preset names. SVT-AV1 numbers its presets (0 slowest .. 13 fastest); these pair
# each x264 preset with the SVT-AV1 preset of a similar place on its own speed scale.
SVT_AV1_PRESET = dict(zip(X264_PRESETS, (12, 11, 10, 9, 8, 7, 6, 5, 4)))


def check_rate_control(preset: str, rate_control: str, crf: int) -> None:
    """x264's preset names and CRF range (0-51 for 8-bit H.264), refused in one sentence."""
    if preset not in X264_PRESETS:
        raise InputError(f"--preset must be one of {', '.join(X264_PRESETS)}, got {preset!r}: pick one of them.")
    if rate_control not in RATE_CONTROLS:
        raise InputError(f"--rate-control must be abr or capped-crf, got {rate_control!r}: pick one of them.")
    if isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= 51:
        raise InputError(f"--crf must be a whole number from 0 to 51 (lower is better quality), got {crf!r}.")


def maxrate_kbps(rung: Rung) -> int:
    """The VBV peak rate: 1.5x the rung's rate, what bounds the BANDWIDTH the master declares."""
    return int(rung.definition.video_kbps * 1.5)


def _crf(rung: Rung, rate_control: str, crf: int) -> int | None:
    """A rung's own CRF (per-title) wins; else the run's, in capped-CRF mode; None means ABR."""
    if rung.crf is not None:
        return rung.crf
    return crf if rate_control == "capped-crf" else None


def video_args(
    rung: Rung,
    *,
    fps: float,
    preset: str,
    rate_control: str,
    crf: int,
    gop: int,
    gop_frames: int,
    keyframes: str | None = None,
) -> list[str]:
    """``-c:v`` and everything the rung's codec needs, for an output stream of ``fps`` frames/s.
    ``keyframes``: the times to force keyframes at (the copied source's, ``-force_key_frames``
    syntax) instead of every ``gop`` seconds; ``gop_frames`` is then the longest gap between them."""
    kbps, peak = rung.definition.video_kbps, maxrate_kbps(rung)
    quality = _crf(rung, rate_control, crf)
    forced = keyframes or f"expr:gte(t,n_forced*{gop})"
    grid = ["-g", str(gop_frames), "-keyint_min", str(gop_frames), "-force_key_frames", forced]
    vbv = ["-maxrate", f"{peak}k", "-bufsize", f"{kbps * 2}k"]
    rate = ["-crf", str(quality)] if quality is not None else ["-b:v", f"{kbps}k"]
    if rung.codec == "hevc":
        # hvc1: parameter sets only in the sample entry, the form Apple requires (HLS authoring spec 1.5);
        # -forced-idr makes the forced keyframes IDR rather than CRA pictures.
        x265 = f"scenecut=0:open-gop=0:keyint={gop_frames}:min-keyint={gop_frames}:log-level=error"
        return ["-c:v", "libx265", "-tag:v", "hvc1", "-preset", preset, *rate, *vbv, *grid, "-forced-idr", "1"] + [
            "-x265-params",
            x265,
        ]
    if rung.codec == "av1":
        # SVT-AV1 caps the rate (max bit rate) only in CRF mode; its VBR mode aims at the average.
        capped = vbv[:2] if quality is not None else []
        svt = ["-svtav1-params", "scd=0:enable-overlays=0"]
        return ["-c:v", "libsvtav1", "-preset", str(SVT_AV1_PRESET[preset]), *rate, *capped, *grid, *svt]
    level = level_for(rung.width, rung.height, fps, peak)
    return ["-c:v", "libx264", "-preset", preset, "-profile:v", "high", "-level:v", level, *rate, *vbv, *grid] + [
        "-sc_threshold",
        "0",
    ]


SEGMENT_STEM = "seg-"  # FFmpeg's clear segments in staging: seg-00000.ts, seg-00001.ts …


def ffmpeg_segment_name(index: int, fmt: str) -> str:
    """The name FFmpeg gives its ``index``-th (0-based) clear segment of format ``fmt``."""
    return f"{SEGMENT_STEM}{index:05d}{SEGMENT_SUFFIX[fmt]}"


def hls_args(fmt: str, outdir: Path, segment_duration: int, playlist: str, streams: list[str]) -> list[str]:
    """FFmpeg's HLS muxer writing clear ``fmt`` segments (TS or fMP4 with its init section) of each
    variant stream of ``streams`` (``-var_stream_map`` entries) into ``outdir/<its name>/``."""
    args = ["-f", "hls", "-hls_time", str(segment_duration), "-hls_playlist_type", "vod", "-hls_list_size", "0"]
    if fmt == "fmp4":
        args += ["-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", INIT]
    else:
        args += ["-hls_segment_type", "mpegts"]
    segments = outdir / "%v" / f"{SEGMENT_STEM}%05d{SEGMENT_SUFFIX[fmt]}"
    args += ["-hls_segment_filename", str(segments), "-var_stream_map", " ".join(streams)]
    return args + [str(outdir / "%v" / playlist)]
