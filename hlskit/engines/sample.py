"""Generate a sample source: 1080p30 with real motion and fine detail, stereo AAC.

Plain colour bars compress to almost nothing, so every definition would look the same size.
This mixes FFmpeg's moving test pattern with a cellular automaton (sharp, ever-changing
detail) and light temporal grain, so bit rates really differ between definitions.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ..domain.configs import FFmpegConfig
from ..domain.errors import InputError, JobError
from .encode import ffmpeg_exe
from .process import popen_tied


def sample_args(
    ffmpeg: str,
    out: str,
    width: int = 1920,
    height: int = 1080,
    seconds: float = 30,
    fps: int = 30,
    audio: bool = True,
    preset: str = "veryfast",
) -> list[str]:
    cw, ch = max(2, width // 4), max(2, height // 4)
    video = (
        f"testsrc2=s={width}x{height}:r={fps},format=yuv420p[t];"
        f"cellauto=s={cw}x{ch}:r={fps}:rule=110:random_fill_ratio=0.5,"
        f"scale={width}:{height}:flags=neighbor,format=yuv420p[c];"
        f"[t][c]blend=all_mode=average,noise=alls=4:allf=t[v]"
    )
    args = [
        ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=s=16x16:r={fps}",
    ]  # placeholder input 0 keeps indexes simple
    graph = video
    if audio:
        args += [
            "-f",
            "lavfi",
            "-i",
            "sine=f=440:sample_rate=48000",
            "-f",
            "lavfi",
            "-i",
            "sine=f=660:sample_rate=48000:beep_factor=4",
        ]
        graph += ";[1:a][2:a]amerge=inputs=2[a]"
    args += ["-filter_complex", graph, "-map", "[v]"]
    if audio:
        args += ["-map", "[a]", "-c:a", "aac", "-b:a", "160k"]
    args += [
        "-t",
        f"{seconds}",
        "-c:v",
        "libx264",
        "-preset",
        preset,
        "-crf",
        "20",
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
        out,
    ]
    return args


def make_sample(
    out: str | Path,
    width: int = 1920,
    height: int = 1080,
    seconds: float = 30,
    fps: int = 30,
    audio: bool = True,
    ffmpeg: FFmpegConfig | None = None,
) -> Path:
    out = Path(out)
    if not (16 <= width <= 7680 and 16 <= height <= 4320 and 0 < seconds <= 3600 and 1 <= fps <= 120):
        raise InputError(
            f"sample {width}x{height}, {seconds:g} s, {fps} fps is out of range: use 16x16 to 7680x4320, "
            "a duration above 0 and up to 3600 s, and 1 to 120 fps."
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.partial{out.suffix}")
    args = sample_args(ffmpeg_exe(ffmpeg), str(tmp), width, height, seconds, fps, audio)
    try:
        with popen_tied(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace") as proc:
            _, stderr = proc.communicate()
    except BaseException:  # Ctrl-C, SIGTERM: no half-written sample is left
        tmp.unlink(missing_ok=True)
        raise
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        last = (stderr.strip().splitlines() or ["no message"])[-1]
        raise JobError(f"FFmpeg could not make the sample ({last}): check the --size and the free disk space.")
    os.replace(tmp, out)
    return out
