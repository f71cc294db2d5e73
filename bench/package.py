"""Encode the sample's ladder and compare, side by side in one run:

1. one decode (hlskit's way) vs one process per definition, with exactly the same FFmpeg
   arguments per definition (hlskit.engines.encode.build_encode): the only difference is whether
   one process decodes the source once and splits it, or N processes each decode it;
2. (``--formats``) the same H.264 ladder muxed as TS and as fMP4 (the same x264 settings, so the
   same pictures), and HEVC and AV1 ladders at the same definitions (their rates lowered by
   hlskit.domain.formats.RATE_FACTOR): wall and CPU time, and the bytes each needs.

Wall time and CPU time (user+sys of the FFmpeg children) are recorded in bench/RESULTS.md
together with the machine.

    .venv/bin/python bench/package.py [--source samples/sample.mp4] [--preset veryfast] [--runs 1] [--formats]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hlskit.config import load_settings
from hlskit.domain.formats import codec_rungs
from hlskit.domain.keys import KeySchedule
from hlskit.domain.ladder import choose_ladder
from hlskit.domain.plan import PackagePlan
from hlskit.engines.encode import build_encode, ffmpeg_exe
from hlskit.pipeline.probe import probe

ROOT = Path(__file__).resolve().parents[1]


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(commands: list[list[str]]) -> tuple[float, float]:
    cpu0, t0 = children_cpu(), time.perf_counter()
    for args in commands:
        subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - t0, children_cpu() - cpu0


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.system()} {platform.release()}"


def bench_plan(source: str, media, rungs, out: Path, fmt: str = "ts") -> PackagePlan:
    """A clear plan with 6 s segments writing into ``out``: all build_encode needs."""
    return PackagePlan(
        content_id="bench",
        run_id="bench",
        source=source,
        media=media,
        rungs=rungs,
        jobs={},
        segment_duration=6,
        key_url="http://x/keys",
        schedule=KeySchedule(),
        keys=[],
        staging=str(out),
        out=str(out),
        format=fmt,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", default=str(ROOT / "samples" / "sample.mp4"))
    ap.add_argument("--preset", default="veryfast")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--no-record", action="store_true")
    ap.add_argument("--formats", action="store_true", help="also compare ts/fmp4 and h264/hevc/av1")
    ap.add_argument("--expert", action="store_true", help="only compare hlskit package with the expert FFmpeg command")
    args = ap.parse_args()
    if not Path(args.source).is_file():
        raise SystemExit(f"{args.source} does not exist: run `make sample` (or pass --source FILE).")
    if args.expert:
        lines = compare_expert(args)
        print("\n".join(lines))
        if not args.no_record:
            record(lines)
        return
    media = probe(args.source)
    rungs = choose_ladder(media.video.display_width, media.video.display_height)
    ffmpeg = ffmpeg_exe(load_settings())
    rows = {"one decode (1 process)": [], f"one process per definition ({len(rungs)})": []}
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            out, text = Path(tmp) / "out", Path(tmp) / "text"
            text.mkdir()
            plan = bench_plan(args.source, media, rungs, out)
            ways = ([rungs], [[r] for r in rungs])  # one process for all, or one per definition
            for name, groups in zip(rows, ways):
                shutil.rmtree(out, ignore_errors=True)  # build_encode creates the output folders
                commands = [build_encode(plan, group, ffmpeg, args.preset, out, text).args for group in groups]
                rows[name].append(timed(commands))
    summary = {name: (min(w for w, _ in runs), min(c for _, c in runs)) for name, runs in rows.items()}
    (wall1, cpu1), (walln, cpun) = summary.values()
    lines = [
        f"### Packaging: one decode vs one process per definition ({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {machine()}. Source: {Path(args.source).name}, {media.video.display_width}x"
        f"{media.video.display_height} {media.video.fps:g} fps, {media.duration:.0f} s; ladder "
        f"{', '.join(r.name for r in rungs)}; x264 preset {args.preset}; best of {args.runs} run(s).",
        "Command: `.venv/bin/python bench/package.py`",
        "",
        "| way | wall time (s) | CPU time (s) |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {w:.1f} | {c:.1f} |" for name, (w, c) in summary.items()]
    lines += [
        "",
        f"Ratio (per-definition / one decode): wall {walln / wall1:.2f}x, CPU {cpun / cpu1:.2f}x. "
        f"The encoder work is identical; the difference is {len(rungs) - 1} extra decodes of the source "
        "(and per-process start-up).",
        "",
    ]
    print("\n".join(lines))
    if not args.no_record:
        record(lines)
    if args.formats:
        lines = compare_formats(args, media, rungs, ffmpeg)
        print("\n".join(lines))
        if not args.no_record:
            record(lines)


def folder_bytes(folder: Path) -> int:
    """Bytes of the segments and init sections (what players download), not of the playlists."""
    return sum(f.stat().st_size for f in folder.rglob("*") if f.suffix in (".ts", ".m4s", ".mp4"))


def compare_formats(args, media, rungs, ffmpeg: str) -> list[str]:
    """The same ladder as H.264 in TS and in fMP4, then as HEVC and AV1 in fMP4: time and bytes."""
    cases = [("H.264, TS", "ts", "h264"), ("H.264, fMP4", "fmp4", "h264")]
    cases += [("HEVC, fMP4", "fmp4", "hevc"), ("AV1, fMP4", "fmp4", "av1")]
    rows = []
    for label, fmt, codec in cases:
        best = None
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                out, text = Path(tmp) / "out", Path(tmp) / "text"
                text.mkdir()
                ladder = codec_rungs(rungs, (codec,))
                plan = bench_plan(args.source, media, ladder, out, fmt)
                wall, cpu = timed([build_encode(plan, ladder, ffmpeg, args.preset, out, text).args])
                size = folder_bytes(out)
            best = (wall, cpu, size) if best is None or wall < best[0] else best
        rows.append((label, [r.definition.video_kbps for r in ladder], *best))
    base_wall, base_cpu, base_bytes = rows[0][2:]
    lines = [
        f"### Formats and codecs: TS vs fMP4, H.264 vs HEVC vs AV1 ({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {machine()}. Source: {Path(args.source).name}, {media.video.display_width}x"
        f"{media.video.display_height} {media.video.fps:g} fps, {media.duration:.0f} s; ladder "
        f"{', '.join(r.name for r in rungs)}; one FFmpeg process for the ladder; x264/x265 preset {args.preset}, "
        f"SVT-AV1 its matching preset (hlskit.engines.encoders); 6 s segments; best of {args.runs} run(s).",
        "Command: `.venv/bin/python bench/package.py --formats`",
        "",
        "| ladder | video kb/s per rung | wall (s) | CPU (s) | bytes (MB) | bytes vs H.264 TS |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for label, rates, wall, cpu, size in rows:
        lines.append(
            f"| {label} | {'/'.join(map(str, rates))} | {wall:.1f} ({wall / base_wall:.2f}x) | "
            f"{cpu:.1f} ({cpu / base_cpu:.2f}x) | {size / 1e6:.2f} | {size / base_bytes - 1:+.1%} |"
        )
    lines += [
        "",
        "TS and fMP4 rows use the same x264 settings: their byte difference is the container "
        "(TS packet and PES headers vs moof/mdat). HEVC and AV1 rows aim at lower rates by design; "
        "their bytes follow those aims, and `hlskit quality` measures what each looks like.",
        "",
    ]
    return lines


def expert_command(source: str, out: Path) -> list[str]:
    """The expert's single FFmpeg command: hlskit's own (``--dry-run``: the same filter graph and
    encoder arguments, one HLS output with -var_stream_map), with FFmpeg's HLS muxer encrypting
    (-hls_key_info_file) and writing the master (-master_pl_name); no previews, no validation."""
    done = subprocess.run(
        [sys.executable, "-m", "hlskit", "package", source, "--out", str(out / "plan"), "--dry-run", "--json"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "HLSKIT_HOME": str(out / "home")},
    )
    args = json.loads(done.stdout)["ffmpeg"]
    args = [a for i, a in enumerate(args) if a != "-progress" and args[i - 1] != "-progress"]
    staging = json.loads(done.stdout)["staging"]
    args = [a.replace(staging, str(out / "expert")) for a in args]
    (out / "key.bin").write_bytes(os.urandom(16))
    (out / "keyinfo").write_text(f"http://127.0.0.1:8000/keys/e/k1\n{out / 'key.bin'}\n{os.urandom(16).hex()}\n")
    return args[:-1] + ["-hls_key_info_file", str(out / "keyinfo"), "-master_pl_name", "master.m3u8", args[-1]]


def compare_expert(args) -> list[str]:
    """hlskit package (probe, keys, one FFmpeg run with the sprite, encryption, stitch, validate,
    publish) against the expert command, alternated A/B ``--runs`` times in one run."""
    runs: dict[str, list[tuple[float, float]]] = {"hlskit package": [], "expert FFmpeg command": []}
    for i in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            expert = expert_command(args.source, base)
            hlskit = [sys.executable, "-m", "hlskit", "package", args.source, "--out", str(base / "out")]
            hlskit += ["--content-id", "e", "--preset", args.preset]
            env = {**os.environ, "HLSKIT_HOME": str(base / "home")}
            for name, command in (("hlskit package", hlskit), ("expert FFmpeg command", expert))[
                :: 1 if i % 2 == 0 else -1
            ]:
                cpu0, t0 = children_cpu(), time.perf_counter()
                subprocess.run(command, check=True, capture_output=True, env=env)
                runs[name].append((time.perf_counter() - t0, children_cpu() - cpu0))
                print(f"run {i + 1} {name}: {runs[name][-1][0]:.2f} s wall, {runs[name][-1][1]:.2f} s CPU", flush=True)
    (hw, hc), (ew, ec) = ((min(w for w, _ in r), min(c for _, c in r)) for r in runs.values())
    lines = [
        f"### Packaging against the expert FFmpeg command ({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {machine()}. Source: {Path(args.source).name}; default ladder, 4 s segments, encrypted; "
        f"x264 preset {args.preset}; A/B alternated, {args.runs} run(s) each, best shown.",
        "Command: `.venv/bin/python bench/package.py --expert --runs 3`. The expert command is hlskit's own "
        "`--dry-run` FFmpeg command with FFmpeg's HLS muxer encrypting (-hls_key_info_file) and writing the "
        "master (-master_pl_name): no seek-bar previews, no validation, no key store.",
        "",
        "| way | wall (s) | CPU (s) | every run (wall / CPU) |",
        "|---|---:|---:|---|",
    ]
    for name, r in runs.items():
        lines.append(
            f"| {name} | {min(w for w, _ in r):.1f} | {min(c for _, c in r):.1f} | "
            + ", ".join(f"{w:.1f} / {c:.1f}" for w, c in r)
            + " |"
        )
    lines += ["", f"hlskit / expert: wall {hw / ew:.2f}x, CPU {hc / ec:.2f}x (aim: at most 1.0x).", ""]
    return lines


def record(lines: list[str]) -> None:
    """Replace this benchmark's section in bench/RESULTS.md, keeping the others."""
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmark results\n\n"
    head = lines[0].split(" (")[0]
    kept, skip = [], False
    for line in text.splitlines():
        if line.startswith("### "):
            skip = line.startswith(head)
        if not skip:
            kept.append(line)
    path.write_text("\n".join(kept).rstrip() + "\n\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
