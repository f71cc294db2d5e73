"""The per-title analysis's FFmpeg runs: cut a sample, probe-encode it, score the probes with VMAF.

Three FFmpeg processes in all, whatever the number of definitions:

1. ``cut_and_probe_fixed``: the sampled chunks are decoded once; one copy is kept losslessly at the
   source's display size (the VMAF reference), the others are scaled to each rung and encoded
   with the fixed ladder's own settings (ABR at the rung's rate under its VBV cap);
2. ``probe_crf``: every rung again from the lossless sample, at given CRF values under the same cap;
3. ``vmaf``: every probe scored against the reference in ONE process (the reference decoded once,
   split to one libvmaf instance per probe), each probe scaled back to the source's display size
   with bicubic interpolation, as ``hlskit quality`` and bench/quality.py measure the package.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..domain.errors import JobError
from ..domain.ladder import Rung
from ..domain.media import MediaInfo
from ..engines.encode import output_rate
from ..engines.h264 import level_for
from .quality import MODEL


@dataclass(frozen=True)
class Probe:
    """One probe encode of the sample: its file, mean rate and, for an ABR probe, x264's final ratefactor."""

    path: Path
    kbps: float
    ratefactor: float | None = None


def _x264(rung: Rung, preset: str, rate: list[str], fps: float, keyframe_every: float) -> list[str]:
    """The real package's x264 settings (hlskit.engines.encode) with ``rate`` (-b:v or -crf)."""
    kbps = rung.definition.video_kbps
    peak = int(kbps * 1.5)
    level = level_for(rung.width, rung.height, fps, peak)
    return ["-c:v", "libx264", "-preset", preset, "-profile:v", "high", "-level:v", level, *rate] + [
        "-maxrate",
        f"{peak}k",
        "-bufsize",
        f"{kbps * 2}k",
        "-g",
        str(max(1, round(fps * keyframe_every))),
        "-keyint_min",
        str(max(1, round(fps * keyframe_every))),
        "-sc_threshold",
        "0",
        "-force_key_frames",
        f"expr:gte(t,n_forced*{keyframe_every:g})",
    ]


def _split_scale(source_label: str, rungs: list[Rung], extra: int = 0) -> str:
    """Split ``source_label`` into ``extra`` untouched copies [k0].. and one scaled copy per rung [v0].."""
    n = len(rungs) + extra
    labels = "".join(f"[k{i}]" for i in range(extra)) + "".join(f"[s{i}]" for i in range(len(rungs)))
    scaled = ";".join(
        f"[s{i}]scale={r.width}:{r.height}:flags=bicubic,setsar=1,format=yuv420p[v{i}]" for i, r in enumerate(rungs)
    )
    return f"{source_label}split={n}{labels};{scaled}"


def _kbps(path: Path, seconds: float) -> float:
    return path.stat().st_size * 8 / 1000 / seconds


def cut_and_probe_fixed(
    ffmpeg: str,
    source: str,
    media: MediaInfo,
    starts: list[float],
    chunk: float,
    rungs: list[Rung],
    preset: str,
    into: Path,
    fixed_crf: int | None = None,
) -> tuple[Path, dict[str, Probe]]:
    """The lossless sample (chunks at ``starts``, ``chunk`` s each) and every rung's fixed-ladder probe.

    The fixed ladder is ABR at each rung's rate, or capped CRF at ``fixed_crf`` when given."""
    rate = output_rate(media.video.frame_rate)
    w, h = media.video.display_width, media.video.display_height
    args = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-v", "info", "-y"]
    for s in starts:
        args += ["-ss", f"{s:.3f}", "-t", f"{chunk:.3f}", "-i", source]
    k = len(starts)
    parts = "".join(
        f"[{i}:v]fps={rate.numerator}/{rate.denominator},scale={w}:{h}:flags=bicubic,setsar=1,"
        f"setpts=PTS-STARTPTS[c{i}];"
        for i in range(k)
    )
    graph = parts + "".join(f"[c{i}]" for i in range(k)) + f"concat=n={k}:v=1:a=0,format=yuv420p[all];"
    graph += _split_scale("[all]", rungs, extra=1)
    sample = into / "sample.mkv"
    args += ["-filter_complex", graph, "-map", "[k0]", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0"]
    args.append(str(sample))
    paths = {}
    for i, r in enumerate(rungs):
        paths[r.name] = into / f"{r.name}-fixed.mp4"
        rate_args = ["-b:v", f"{r.definition.video_kbps}k"] if fixed_crf is None else ["-crf", str(fixed_crf)]
        args += ["-map", f"[v{i}]", *_x264(r, preset, rate_args, float(rate), chunk), str(paths[r.name])]
    log = _run(args, "cut and probe-encode the sample")
    seconds = chunk * k
    # x264 ends each ABR encode with "[libx264 @ ID] final ratefactor: X" and "[libx264 @ ID] kb/s:Y"
    # (the encoders may close in any order, their lines interleaved): the rate tells which rung it was.
    rfs = dict(re.findall(r"\[libx264 @ (\w+)\] final ratefactor: ([\d.]+)", log))
    rates = dict(re.findall(r"\[libx264 @ (\w+)\] kb/s:([\d.]+)", log))
    finals = [(float(rf), float(rates[who])) for who, rf in rfs.items() if who in rates]
    out = {}
    for r in rungs:
        kbps = _kbps(paths[r.name], seconds)
        rf = min(finals, key=lambda f: abs(f[1] - kbps))[0] if finals else None
        rf = float(fixed_crf) if fixed_crf is not None else rf
        out[r.name] = Probe(paths[r.name], kbps, rf)
    return sample, out


def probe_crf(
    ffmpeg: str,
    sample: Path,
    seconds: float,
    media: MediaInfo,
    rungs: list[Rung],
    crfs: dict[str, list[int]],
    preset: str,
    chunk: float,
    into: Path,
) -> dict[tuple[str, int], Probe]:
    """Every rung at each of its CRF values (``crfs[name]``) under its fixed VBV cap, from one decode."""
    rate = float(output_rate(media.video.frame_rate))
    args = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-v", "error", "-y", "-i", str(sample)]
    args += ["-filter_complex", _split_scale("[0:v]", rungs)]
    wanted = [(i, r, c) for i, r in enumerate(rungs) for c in crfs[r.name]]
    # one scaled picture per rung feeds all its CRF outputs: split it once more where needed
    graph_extra, labels = [], {}
    for i, r in enumerate(rungs):
        n = len(crfs[r.name])
        if n > 1:
            graph_extra.append(f"[v{i}]split={n}" + "".join(f"[v{i}_{j}]" for j in range(n)))
            labels.update({(r.name, c): f"[v{i}_{j}]" for j, c in enumerate(crfs[r.name])})
        elif n == 1:
            labels[(r.name, crfs[r.name][0])] = f"[v{i}]"
    if graph_extra:
        args[-1] += ";" + ";".join(graph_extra)
    out = {}
    for _, r, c in wanted:
        path = into / f"{r.name}-crf{c}.mp4"
        args += ["-map", labels[(r.name, c)], *_x264(r, preset, ["-crf", str(c)], rate, chunk), str(path)]
        out[(r.name, c)] = path
    _run(args, "probe-encode the sample at constant quality")
    return {key: Probe(path, _kbps(path, seconds)) for key, path in out.items()}


def vmaf(ffmpeg: str, sample: Path, media: MediaInfo, probes: list[Path], every: int, into: Path) -> list[float]:
    """Mean VMAF of each probe against the sample on every ``every``-th frame, at the source's display size.

    One FFmpeg run for all probes. Only the scored frames and the frame before each (VMAF's motion
    feature compares a frame with its neighbours) are scaled and fed to libvmaf, which then scores
    every 2nd of them: the cost is that of the scored frames, not of the whole sample."""
    w, h = media.video.display_width, media.video.display_height
    n = len(probes)
    args = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-v", "error", "-i", str(sample)]
    for p in probes:
        args += ["-i", str(p)]
    # frame numbers as timestamps: the lossless sample (Matroska, 1 ms ticks) and the MP4 probes round
    # times differently, and libvmaf pairs frames by timestamp
    rate = output_rate(media.video.frame_rate)
    frames = f"setpts=N*{rate.denominator}/({rate.numerator}*TB)"
    if every > 1:  # frames 0, k-1, k, 2k-1, 2k ...: libvmaf's n_subsample=2 scores 0, k, 2k ...
        frames = f"select='eq(mod(n\\,{every})\\,0)+eq(mod(n\\,{every})\\,{every - 1})',{frames}"
    graph = [f"[0:v]{frames},split={n}" + "".join(f"[r{i}]" for i in range(n))]
    logs = [into / f"vmaf-{i}.json" for i in range(n)]
    for i in range(n):
        graph.append(f"[{i + 1}:v]{frames},scale={w}:{h}:flags=bicubic,setsar=1,format=yuv420p[d{i}]")
        graph.append(
            f"[d{i}][r{i}]libvmaf=model=version={MODEL}:n_subsample={2 if every > 1 else 1}:n_threads=2:"
            f"log_fmt=json:log_path={logs[i]}:shortest=1[o{i}]"
        )
    args += ["-filter_complex", ";".join(graph)]
    for i in range(n):
        args += ["-map", f"[o{i}]"]
    _run(args + ["-f", "null", "-"], "score the probes with VMAF")
    return [json.loads(log.read_text())["pooled_metrics"]["vmaf"]["mean"] for log in logs]


def _run(args: list[str], doing: str) -> str:
    """Run FFmpeg; its log (stderr) on success, else JobError naming what failed."""
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise JobError(
            f"the per-title analysis could not {doing} ({last}): use a fixed ladder (--ladder auto).",
            code="PerTitleFail",
        )
    return done.stderr
