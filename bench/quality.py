"""Per-title vs the fixed ladder: bits, VMAF and wall time on three kinds of locally generated content.

For each content (near-static with flat areas, animation-like, high motion with grain) the same
source is packaged twice — `--ladder auto` and `--ladder per-title` — and every definition is
scored with `hlskit quality` (libvmaf, every 2nd frame). Wall time of per-title includes its analysis,
which is also compared with the fixed package's whole wall time (the issue's < 30% aim).

    .venv/bin/python bench/quality.py [--seconds 20] [--size 1280x720] [--append]

Results go to bench/results/quality.md (merged into bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hlskit.engines.encode import ffmpeg_exe  # noqa: E402
from hlskit.engines.sample import make_sample  # noqa: E402

HLSKIT = [sys.executable, "-m", "hlskit"]


def contents(size: str, seconds: float, still: Path) -> dict[str, str]:
    """lavfi graphs for the easy and the medium content; the hard one is hlskit's own sample.

    The easy one is a lecture slide: a flat background, a still detailed picture (one frame of the
    sample, ``still``) and a title that changes every 5 s — near-static, with flat areas."""
    slides = ",".join(
        f"drawtext=text='Slide {i + 1}':fontsize=64:x=80:y=80:fontcolor=white:enable='between(t,{i * 5},{i * 5 + 5})'"
        for i in range(int(seconds // 5) + 1)
    )
    return {
        "near-static, flat": f"color=c=0x2a4d69:s={size}:r=30:d={seconds}[bg];movie={still},scale=iw*0.55:-2,"
        f"loop=-1:1:0,setpts=N/30/TB[pic];[bg][pic]overlay=x=W-w-40:y=(H-h)/2:shortest=1,{slides}",
        "animation-like": f"testsrc2=s={size}:r=30:d={seconds}",
    }


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _cpu() -> float:
    """CPU seconds (user + system) of the finished child processes and theirs (FFmpeg included)."""
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def package(src: Path, out: Path, home: Path, ladder: str) -> tuple[dict, float, float]:
    """The manifest after packaging and scoring, the packaging's wall time and its CPU time."""
    env = {**os.environ, "HLSKIT_HOME": str(home)}
    t, cpu = time.perf_counter(), _cpu()
    done = subprocess.run(
        [
            *HLSKIT,
            "package",
            str(src),
            "--out",
            str(out),
            "--content-id",
            ladder.split(":")[0],
            "--ladder",
            ladder,
            "--no-encrypt",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    wall, cpu = time.perf_counter() - t, _cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"packaging {src.name} with {ladder} failed: {done.stderr.strip()}")
    scored = subprocess.run(
        [*HLSKIT, "quality", str(out / ladder.split(":")[0]), "--subsample", "2", "--json"],
        env=env,
        capture_output=True,
        text=True,
    )
    if scored.returncode != 0:
        raise SystemExit(f"scoring {src.name} failed: {scored.stderr.strip()}")
    manifest = json.loads((out / ladder.split(":")[0] / "hlskit.json").read_text())
    return manifest, wall, cpu


def rows(manifest: dict) -> dict[str, tuple[int, float]]:
    """definition → (measured average kb/s from the master, VMAF)."""
    avg = {v["definition"]: v["average_bandwidth"] for v in manifest["master"]["variants"]}
    return {d["name"]: (round(avg[d["name"]] / 1000), d["vmaf"]) for d in manifest["definitions"] if "vmaf" in d}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--append", action="store_true", help="add this run to the results instead of replacing them")
    args = ap.parse_args()
    width, height = (int(x) for x in args.size.split("x"))
    ffmpeg = ffmpeg_exe()
    load_start = f"{os.getloadavg()[0]:.1f}"
    lines = [
        f"### Per-title vs fixed ladder ({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {machine()}. Sources: {args.size}, {args.seconds:g} s, 30 fps, generated locally. "
        "x264 veryfast, clear segments; VMAF (vmaf_v0.6.1) on every 2nd frame at the source size. "
        "Fixed: `--ladder auto` (ABR at each definition's rate); per-title: `--ladder per-title`. "
        "kb/s: AVERAGE-BANDWIDTH measured from the segments (video + audio).",
        f"Command: `.venv/bin/python bench/quality.py --seconds {args.seconds:g}`",
        "",
    ]
    with tempfile.TemporaryDirectory(prefix="hlskit-bench-quality-") as tmp:
        work = Path(tmp)
        sources = {}
        grain = make_sample(work / "grain.mp4", width, height, args.seconds, 30)
        still = work / "still.png"
        subprocess.run([ffmpeg, "-v", "error", "-ss", "3", "-i", str(grain), "-frames:v", "1", str(still)], check=True)
        for name, graph in contents(args.size, args.seconds, still).items():
            path = work / f"{name.split()[0].strip(',')}.mp4"
            subprocess.run(
                [
                    ffmpeg,
                    "-v",
                    "error",
                    "-f",
                    "lavfi",
                    "-i",
                    graph,
                    "-c:v",
                    "libx264",
                    "-crf",
                    "12",
                    "-preset",
                    "veryfast",
                    "-pix_fmt",
                    "yuv420p",
                    str(path),
                ],
                check=True,
            )
            sources[name] = path
        sources["high motion with grain"] = grain
        verdicts = []
        for name, src in sources.items():
            fixed, fixed_wall, fixed_cpu = package(src, work / "fixed", work / "home", "auto")
            per, per_wall, per_cpu = package(src, work / "per", work / "home", "per-title")
            a, b = rows(fixed), rows(per)
            total_a, total_b = sum(v[0] for v in a.values()), sum(v[0] for v in b.values())
            analysis = (per.get("per_title") or {}).get("seconds") or 0.0
            chosen = {c["definition"]: c for c in (per.get("per_title") or {}).get("rungs", [])}
            saving = 1 - total_b / total_a
            worst = min((b[d][1] - a[d][1] for d in a if d in b), default=0.0)
            # CPU time does not depend on what else the machine runs: the analysis's share is about
            # the per-title package's CPU time less the fixed one's (the encodes cost about the same)
            cpu_share = (per_cpu - fixed_cpu) / fixed_cpu
            verdicts.append((name, saving, worst, analysis / fixed_wall, cpu_share))
            lines += [
                f"**{name}**: total {total_a} → {total_b} kb/s ({saving * 100:.0f}% fewer bits), "
                f"worst Δ VMAF {worst:+.2f}; wall time {fixed_wall:.1f} s fixed, {per_wall:.1f} s per-title "
                f"(analysis {analysis:.1f} s = {analysis / fixed_wall * 100:.0f}% of the fixed package's wall time); "
                f"CPU time {fixed_cpu:.1f} s fixed, {per_cpu:.1f} s per-title (+{cpu_share * 100:.0f}%)",
                "",
                "| definition | fixed kb/s | fixed VMAF | per-title CRF / cap kb/s | per-title kb/s | per-title VMAF | Δ VMAF |",
                "|---|---:|---:|---:|---:|---:|---:|",
            ]
            for d, (kbps, vmaf) in a.items():
                c = chosen.get(d, {})
                how = f"{c['crf']} / {c['chosen_kbps']}" if c.get("crf") is not None else "ABR (fixed)"
                if d in b:
                    lines.append(
                        f"| {d} | {kbps} | {vmaf:.2f} | {how} | {b[d][0]} | {b[d][1]:.2f} | {b[d][1] - vmaf:+.2f} |"
                    )
                else:
                    lines.append(f"| {d} | {kbps} | {vmaf:.2f} | dropped | | | |")
            lines.append("")
            print("\n".join(lines[-(len(a) + 5) :]), flush=True)
        (easy, e_save, e_worst, *_), *_, (hard, _, h_worst, *_) = verdicts
        cost, cpu_cost = max(v[3] for v in verdicts), max(v[4] for v in verdicts)
        lines += [
            "Aims of issue 15 on this run:",
            "",
            f"- {easy}: {e_save * 100:.0f}% fewer bits (aim ≥ 25%), worst Δ VMAF {e_worst:+.2f} (aim ≥ -1): "
            + ("met" if e_save >= 0.25 and e_worst >= -1 else "NOT met"),
            f"- {hard}: worst Δ VMAF {h_worst:+.2f} (aim ≥ -1): " + ("met" if h_worst >= -1 else "NOT met"),
            f"- analysis: at most {cost * 100:.0f}% of the fixed package's wall time, and the per-title package "
            f"used at most {cpu_cost * 100:.0f}% more CPU time than the fixed one (aim < 30%): "
            + ("met" if max(cost, cpu_cost) < 0.30 else "NOT met"),
            f"- load average (1 min) at the start and the end: {load_start} and {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} cores (a shared machine: wall times vary with it)",
            "",
        ]
    out = ROOT / "bench" / "results" / "quality.md"
    out.parent.mkdir(exist_ok=True)
    before = out.read_text() + "\n" if args.append and out.is_file() else ""
    out.write_text(before + "\n".join(lines) + "\n")
    print(f"recorded in {out}")


if __name__ == "__main__":
    main()
