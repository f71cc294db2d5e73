"""The per-title analysis's FFmpeg runs: cut a warm sample, probe-encode it, score the probes with VMAF.

The sample is a few chunks of the title, each a short *lead* and a *measured* part, kept
losslessly at the source's display size (the VMAF reference). Every probe encode forces a
keyframe at the start of each lead and of each measured part: the lead warms x264's rate control
up, so the measured part's keyframe is coded as the title's are, not as a first frame. (x264's
CRF sets a frame's quantiser from the complexity of the frames before it: pipeline.pertitle's doc
says what a cold keyframe and leads of different lengths measured.) Only the measured parts count: their rate is read from the
probe's MP4 sample table and, for a part shorter than a keyframe interval, extrapolated to a
whole one (the keyframe plus the mean of the other frames times the rest of the interval).

FFmpeg runs: ``cut`` (the sample, with the first probes from the same decode), ``probe_crf`` for
more CRF values, and ``vmaf`` for all probes of a round in one process (the reference decoded
once, split to one libvmaf instance per probe, each probe scaled back to the source's display
size with bicubic interpolation, as ``hlskit quality`` and bench/quality.py measure the package).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..domain.errors import JobError
from ..domain.ladder import Rung
from ..domain.media import MediaInfo
from ..engines.encode import output_rate
from ..engines.h264 import level_for
from ..hls.bmff import Fields, boxes, child
from .quality import MODEL

# The sample and its probes carry no colour tags: FFmpeg would otherwise convert between the tags
# the probes of the first run inherit from the source and the ones a raw sample lost, scoring
# pixels that were never encoded (a slide tagged full-range "GBR": PSNR 31 dB between two probes
# of the same picture)
UNTAGGED = "setparams=range=unknown:color_primaries=unknown:color_trc=unknown:colorspace=unknown"
RAW_SAMPLE_BYTES = 512 << 20  # a sample up to this size is kept as raw frames (720p: 370 frames)


@dataclass(frozen=True)
class Layout:
    """Where the sample's chunks lie: ``chunks`` chunks of ``lead`` + ``measured`` frames each, back to back."""

    fps: Fraction
    gop: int  # frames in one keyframe interval of the real encode
    lead: int
    measured: int
    chunks: int

    @property
    def frames(self) -> int:
        return self.chunks * (self.lead + self.measured)

    def measured_starts(self) -> list[int]:
        return [k * (self.lead + self.measured) + self.lead for k in range(self.chunks)]

    def keyframes(self) -> list[int]:
        """The frames every probe starts a GOP at: each lead's first and each measured part's first (then every GOP)."""
        out = []
        for start in self.measured_starts():
            out += [start - self.lead] if self.lead else []
            out += list(range(start, start + self.measured, self.gop))
        return out

    def scored(self, per_chunk: int) -> list[int]:
        """About ``per_chunk`` frames of each measured part, an odd stride apart (x264's B-frames come in
        groups: an even stride can land on one frame type only)."""
        stride = max(3, self.measured // max(1, per_chunk))
        stride -= 0 if stride % 2 else 1
        offsets = list(range(stride // 2, self.measured, stride))[:per_chunk]
        return [s + o for s in self.measured_starts() for o in offsets]


@dataclass(frozen=True)
class Probe:
    """One probe encode of the sample: its file and the mean rate of its measured parts (kb/s)."""

    path: Path
    kbps: float


def _x264(rung: Rung, preset: str, crf: int, layout: Layout, threads: int) -> list[str]:
    """The real package's x264 settings (hlskit.engines.encoders) at ``crf``, with the sample's keyframes."""
    kbps = rung.definition.video_kbps
    peak = int(kbps * 1.5)
    fps = float(layout.fps)
    # half a frame early: FFmpeg forces a keyframe on the first frame at or after each time
    times = ",".join(f"{max(0.0, (f - 0.5) / fps):.4f}" for f in layout.keyframes())
    return [
        "-c:v",
        "libx264",
        "-threads",
        str(threads),
        "-preset",
        preset,
        "-profile:v",
        "high",
        "-level:v",
        level_for(rung.width, rung.height, fps, peak),
    ] + [
        "-crf",
        str(crf),
        "-maxrate",
        f"{peak}k",
        "-bufsize",
        f"{kbps * 2}k",
        "-g",
        str(layout.gop),
        "-keyint_min",
        str(layout.gop),
        "-sc_threshold",
        "0",
        "-force_key_frames",
        times,
    ]


def _outputs(
    source_label: str, rungs: list[Rung], crfs: dict[str, list[int]], layout: Layout, preset: str, into: Path
) -> tuple[str, list[str], dict[tuple[str, int], Path]]:
    """The filter graph scaling ``source_label`` to every rung with CRF values, each probe's output arguments
    and files."""
    parts: list[str] = []
    args: list[str] = []
    paths: dict[tuple[str, int], Path] = {}
    used = [r for r in rungs if crfs.get(r.name)]
    # the probes of a run encode side by side, one thread each while there are as many as cores: x264's
    # frame threads cost 20% more CPU on a short sample for the same bits (a 720p probe: 1.20 + 0.31 s
    # of CPU against 1.20 + 0.06); a run of fewer probes (stage 2's, often one) shares the cores out
    # rather than leave them idle
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    threads = max(1, min(4, cores // sum(len(crfs[r.name]) for r in used)))
    parts.append(f"{source_label}split={len(used)}" + "".join(f"[s{i}]" for i in range(len(used))))
    for i, r in enumerate(used):
        n = len(crfs[r.name])
        parts.append(f"[s{i}]scale={r.width}:{r.height}:flags=bicubic,setsar=1,format=yuv420p,split={n}")
        parts[-1] += "".join(f"[v{i}_{j}]" for j in range(n))
        for j, c in enumerate(crfs[r.name]):
            paths[(r.name, c)] = into / f"{r.name}-crf{c}.mp4"
            args += ["-map", f"[v{i}_{j}]", *_x264(r, preset, c, layout, threads), str(paths[(r.name, c)])]
    return ";".join(parts), args, paths


def cut(
    ffmpeg: str,
    source: str,
    media: MediaInfo,
    starts: list[float],
    layout: Layout,
    rungs: list[Rung],
    crfs: dict[str, list[int]],
    preset: str,
    into: Path,
) -> tuple[Path, dict[tuple[str, int], Probe]]:
    """The lossless sample (a chunk whose measured part starts at each of ``starts``, in seconds of the source)
    and, from the same decode, the first probes: each rung at its ``crfs``."""
    rate = layout.fps
    w, h = media.video.display_width, media.video.display_height
    n = layout.lead + layout.measured
    args = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-v", "error", "-y"]
    for s in starts:
        args += [
            "-ss",
            f"{max(0.0, s - float(layout.lead / rate)):.4f}",
            "-t",
            f"{float((n + 1) / rate):.4f}",
            "-i",
            source,
        ]
    chunks = "".join(
        f"[{i}:{media.video.index}]{UNTAGGED},fps={rate.numerator}/{rate.denominator},scale={w}:{h}:flags=bicubic,setsar=1,"
        f"trim=end_frame={n},setpts=PTS-STARTPTS[c{i}];"
        for i in range(len(starts))
    )
    # frame numbers as timestamps: the keyframe times and VMAF's pairing then agree frame for frame
    graph = chunks + "".join(f"[c{i}]" for i in range(len(starts)))
    graph += f"concat=n={len(starts)}:v=1:a=0,format=yuv420p,setpts=N*{rate.denominator}/({rate.numerator}*TB),split=2[keep][all];"
    probes, outputs, paths = _outputs("[all]", rungs, crfs, layout, preset, into)
    # Raw frames cost nothing to decode, and every later run decodes the sample again (a lossless
    # H.264 sample took 6.7 ms a 720p frame to decode, a fifth of the analysis); too big a sample
    # for a temporary folder stays lossless H.264.
    raw = layout.frames * w * h * 3 // 2 <= RAW_SAMPLE_BYTES
    sample = into / ("sample.nut" if raw else "sample.mkv")
    keep = ["-c:v", "rawvideo"] if raw else ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "0"]
    args += ["-filter_complex", graph + probes, "-map", "[keep]", *keep]
    _run([*args, str(sample), *outputs], "cut and probe-encode the sample")
    return sample, {k: Probe(p, gop_kbps(p, layout)) for k, p in paths.items()}


def probe_crf(
    ffmpeg: str,
    sample: Path,
    layout: Layout,
    rungs: list[Rung],
    crfs: dict[str, list[int]],
    preset: str,
    into: Path,
) -> dict[tuple[str, int], Probe]:
    """Every rung at each of its CRF values (``crfs[name]``) under its fixed VBV cap, from one decode of the sample."""
    if not any(crfs.values()):
        return {}
    graph, outputs, paths = _outputs("[0:v]", rungs, crfs, layout, preset, into)
    args = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-v", "error", "-y", "-i", str(sample)]
    _run([*args, "-filter_complex", graph, *outputs], "probe-encode the sample at constant quality")
    return {k: Probe(p, gop_kbps(p, layout)) for k, p in paths.items()}


def frame_sizes(path: Path) -> tuple[list[int], list[int]]:
    """The byte size of every frame of an MP4's first track (decoding order) and the indexes of its keyframes
    (ISO/IEC 14496-12 §8.7.3 stsz, §8.6.2 stss)."""
    data = path.read_bytes()
    box = next((b for b in boxes(data, whole=len(data)) if b.type == b"moov"), None)
    if box is None:
        raise ValueError(f"{path.name} has no moov box")
    for kind in (b"trak", b"mdia", b"minf", b"stbl"):
        found = child(data, box, kind)
        if found is None:
            raise ValueError(f"{path.name} has no {kind.decode()} box")
        box = found
    stsz, stss = child(data, box, b"stsz"), child(data, box, b"stss")
    if stsz is None:
        raise ValueError(f"{path.name} has no stsz box")
    f = Fields(data, stsz, 4)
    size, count = f.u(4), f.u(4)
    sizes = [size] * count if size else [f.u(4) for _ in range(count)]
    if stss is None:  # every frame is a keyframe
        return sizes, list(range(count))
    f = Fields(data, stss, 4)
    return sizes, [f.u(4) - 1 for _ in range(f.u(4))]


def gop_kbps(path: Path, layout: Layout) -> float:
    """The mean rate of the probe's measured parts (kb/s), each extrapolated to a whole keyframe interval."""
    try:
        sizes, keys = frame_sizes(path)
    except ValueError:  # an MP4 without a track: FFmpeg got no frame to encode
        sizes, keys = [], []
    if len(sizes) < layout.frames:  # the source ended early, or a seek landed past its frames
        raise JobError(
            f"the per-title analysis read {len(sizes)} of its sample's {layout.frames} frames from the source: "
            "use a fixed ladder (--ladder auto).",
            code="PerTitleFail",
        )
    missing = [s for s in layout.measured_starts() if s not in keys]
    if missing:  # the forced keyframe went elsewhere: the part's rate would mix two GOPs
        raise JobError(
            f"the per-title analysis found no keyframe at frame {missing[0]} of {path.name}: "
            "use a fixed ladder (--ladder auto).",
            code="PerTitleFail",
        )
    return measured_kbps(sizes, layout)


def measured_kbps(sizes: list[int], layout: Layout) -> float:
    """The mean rate (kb/s) of the measured parts of a probe whose frames are ``sizes`` bytes (decoding order;
    a closed GOP's frames are the same ones in either order). A part shorter than a keyframe interval
    counts its keyframe once and its other frames' mean for the rest of the interval."""
    bits = 0.0
    for start in layout.measured_starts():
        part = sizes[start : start + layout.measured]
        if len(part) >= layout.gop:
            bits += sum(part) * 8 * layout.gop / len(part)
        else:
            rest = part[1:]
            bits += (part[0] + (sum(rest) / len(rest) if rest else 0.0) * (layout.gop - 1)) * 8
    return bits / 1000 / (layout.chunks * layout.gop / float(layout.fps))


def vmaf(ffmpeg: str, sample: Path, media: MediaInfo, probes: list[Path], scored: list[int], into: Path) -> list[float]:
    """Mean VMAF of each probe against the sample on the ``scored`` frames, at the source's display size.

    One FFmpeg run for all probes. Only the scored frames and the frames on either side of each (VMAF's
    motion feature compares a frame with both) are scaled and fed to libvmaf, which scores every 3rd
    of them."""
    if not probes:
        return []
    w, h = media.video.display_width, media.video.display_height
    n = len(probes)
    args = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-v", "error", "-i", str(sample)]
    for p in probes:
        args += ["-i", str(p)]
    # each scored frame between its two neighbours: libvmaf's n_subsample=3 scores every 3rd frame of the
    # stream, and its motion2 is the smaller of the motion to the frame before and to the frame after
    # (VMAF's integer_motion). A neighbour that is not the real one misreads it: the stream's first frame
    # has none before it and reads 0 (a grainy title's probes lost 4 VMAF on 8 frames, more at higher
    # quality), and a successor 14 frames on read a third of the true motion on the grainy sample
    # (-16 VMAF). Three frames lead in, the first scored and left out of the mean (a sample too short
    # for them: the first scored frame is the one left out); the sample's last frame has no successor,
    # as in a whole-stream run.
    wanted = sorted(set(scored))
    wanted = [f for k, f in enumerate(wanted) if k == 0 or f - wanted[k - 1] >= 3]
    lead_in = [wanted[0] - 3, wanted[0] - 2, wanted[0] - 1] if wanted[0] >= 3 else []
    stream = lead_in + [wanted[0], wanted[0] + 1] + [g for f in wanted[1:] for g in (f - 1, f, f + 1)]
    select = "+".join(f"eq(n\\,{f})" for f in stream)
    rate = output_rate(media.video.frame_rate)
    # renumbered frames as timestamps: libvmaf pairs the reference's and each probe's frames by timestamp
    frames = f"select='{select}',setpts=N*{rate.denominator}/({rate.numerator}*TB)"
    graph = [f"[0:v]{frames},split={n}" + "".join(f"[r{i}]" for i in range(n))]
    logs = [into / f"vmaf-{p.stem}.json" for p in probes]
    for i in range(n):
        graph.append(f"[{i + 1}:v]{frames},scale={w}:{h}:flags=bicubic,setsar=1,format=yuv420p[d{i}]")
        graph.append(
            f"[d{i}][r{i}]libvmaf=model=version={MODEL}:n_subsample=3:n_threads=2:"
            f"log_fmt=json:log_path={logs[i]}:shortest=1[o{i}]"
        )
    args += ["-filter_complex", ";".join(graph)]
    for i in range(n):
        args += ["-map", f"[o{i}]"]
    _run(args + ["-f", "null", "-"], "score the probes with VMAF")
    out = []
    for log in logs:
        frames_scored = json.loads(log.read_text())["frames"]
        frames_scored = frames_scored[1:] if len(frames_scored) > 1 else frames_scored
        out.append(sum(f["metrics"]["vmaf"] for f in frames_scored) / len(frames_scored))
    return out


def _run(args: list[str], doing: str) -> None:
    """Run FFmpeg; JobError naming what failed when it fails."""
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise JobError(
            f"the per-title analysis could not {doing} ({last}): use a fixed ladder (--ladder auto).",
            code="PerTitleFail",
        )
