"""Encode the sample's ladder two ways and compare: one decode (hlskit's way) vs one process per definition.

Both ways use exactly the same FFmpeg arguments per definition (hlskit.engines.local.build_encode);
the only difference is whether one process decodes the source once and splits it, or N processes
each decode it. Wall time and CPU time (user+sys of the FFmpeg children) are recorded in
bench/RESULTS.md together with the machine.

    .venv/bin/python bench/package.py [--source samples/sample.mp4] [--preset veryfast] [--runs 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from hlskit.config import load_settings
from hlskit.domain.keys import KeySchedule
from hlskit.domain.ladder import choose_ladder
from hlskit.domain.plan import PackagePlan
from hlskit.engines.local import build_encode, ffmpeg_exe
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", default=str(ROOT / "samples" / "sample.mp4"))
    ap.add_argument("--preset", default="veryfast")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    media = probe(args.source)
    rungs = choose_ladder(media.video.display_width, media.video.display_height)
    ffmpeg = ffmpeg_exe(load_settings())
    rows = {"one decode (1 process)": [], f"one process per definition ({len(rungs)})": []}
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            out, text = Path(tmp) / "out", Path(tmp) / "text"
            text.mkdir()
            plan = PackagePlan(
                content_id="bench",
                run_id="bench",
                source=args.source,
                media=media,
                rungs=rungs,
                jobs={},
                segment_duration=6,
                key_url="http://x/keys",
                schedule=KeySchedule(),
                keys=[],
                staging=str(out),
                out=str(out),
            )
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
