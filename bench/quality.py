"""Per-title vs the fixed ladder: bits, VMAF and wall time on three kinds of locally generated content.

For each content (near-static with flat areas, animation-like, high motion with grain) the same
source is packaged twice — `--ladder auto` and `--ladder per-title` — and every definition is
scored with `hlskit quality` (libvmaf, every 2nd frame). Wall time of per-title includes its analysis.

    .venv/bin/python bench/quality.py [--seconds 20] [--size 1280x720]

Results go to bench/results/quality.md (merged into bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hlskit.engines.local import ffmpeg_exe  # noqa: E402
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


def package(src: Path, out: Path, home: Path, ladder: str) -> tuple[dict, float]:
    env = {**os.environ, "HLSKIT_HOME": str(home)}
    t = time.perf_counter()
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
    wall = time.perf_counter() - t
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
    return manifest, wall


def rows(manifest: dict) -> dict[str, tuple[int, float]]:
    """definition → (measured average kb/s from the master, VMAF)."""
    avg = {v["definition"]: v["average_bandwidth"] for v in manifest["master"]["variants"]}
    return {d["name"]: (round(avg[d["name"]] / 1000), d["vmaf"]) for d in manifest["definitions"] if "vmaf" in d}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--size", default="1280x720")
    args = ap.parse_args()
    width, height = (int(x) for x in args.size.split("x"))
    ffmpeg = ffmpeg_exe()
    lines = [
        f"### Per-title vs fixed ladder ({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {machine()}. Sources: {args.size}, {args.seconds:g} s, 30 fps, generated locally. "
        "x264 veryfast, clear segments; VMAF (vmaf_v0.6.1) on every 2nd frame at the source size.",
        "Command: `.venv/bin/python bench/quality.py`",
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
        for name, src in sources.items():
            fixed, fixed_wall = package(src, work / "fixed", work / "home", "auto")
            per, per_wall = package(src, work / "per", work / "home", "per-title")
            a, b = rows(fixed), rows(per)
            total_a, total_b = sum(v[0] for v in a.values()), sum(v[0] for v in b.values())
            analysis = (per.get("per_title") or {}).get("seconds")
            lines += [
                f"**{name}**: total {total_a} → {total_b} kb/s ({(1 - total_b / total_a) * 100:.0f}% fewer bits); "
                f"wall time {fixed_wall:.1f} s fixed, {per_wall:.1f} s per-title"
                + (
                    f" (analysis {analysis:.1f} s = {analysis / fixed_wall * 100:.0f}% of the fixed encode)"
                    if analysis
                    else ""
                ),
                "",
                "| definition | fixed kb/s | fixed VMAF | per-title kb/s | per-title VMAF | Δ VMAF |",
                "|---|---:|---:|---:|---:|---:|",
            ]
            for d, (kbps, vmaf) in a.items():
                if d in b:
                    lines.append(f"| {d} | {kbps} | {vmaf:.2f} | {b[d][0]} | {b[d][1]:.2f} | {b[d][1] - vmaf:+.2f} |")
                else:
                    lines.append(f"| {d} | {kbps} | {vmaf:.2f} | dropped | | |")
            lines.append("")
            print("\n".join(lines[-(len(a) + 4) :]), flush=True)
    out = ROOT / "bench" / "results" / "quality.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"recorded in {out}")


if __name__ == "__main__":
    main()
