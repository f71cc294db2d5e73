"""Transmux against a one-definition encode of the same 1080p source, side by side in one run.

``hlskit package --transmux`` (the source's video copied, encrypted, stitched, validated) and
``hlskit package --ladder FHD`` (one definition encoded at the source's size), alternated A/B
``--runs`` times on the sample (``hlskit sample``, 30 s 1080p); wall and CPU time of the whole
command (children included). Results go to bench/results/transmux.md.

    .venv/bin/python bench/transmux.py [--source samples/sample.mp4] [--runs 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from the checkout

from bench.package import machine  # noqa: E402


def run(args: list[str], home: Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "hlskit", *args],
        capture_output=True,
        text=True,
        env={"HLSKIT_HOME": str(home), "PATH": "/usr/bin:/bin"},
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"hlskit {' '.join(args)} failed: {done.stderr.strip()}")
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", default=str(ROOT / "samples" / "sample.mp4"))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    source = Path(args.source)
    if not source.is_file():
        subprocess.run([sys.executable, "-m", "hlskit", "sample", str(source)], check=True)
    kinds = {"transmux": ["--transmux"], "encode FHD": ["--ladder", "FHD"]}
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory(prefix="hlskit-bench-transmux-") as tmp:
        for i in range(args.runs):
            for kind, flags in kinds.items():  # A/B alternated: the machine's load hits both alike
                out = Path(tmp) / f"{i}-{kind.replace(' ', '-')}"
                times[kind].append(
                    run(["package", str(source), "--out", str(out), "--content-id", "b", *flags], Path(tmp) / "home")
                )
                print(
                    f"run {i + 1} {kind}: {times[kind][-1][0]:.2f} s wall, {times[kind][-1][1]:.2f} s CPU", flush=True
                )
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in times.items()}
    t, e = med["transmux"], med["encode FHD"]
    lines = [
        "# Transmux against a one-definition encode (issue 22)",
        "",
        f"`.venv/bin/python bench/transmux.py --runs {args.runs}` on `{source.name}` — {machine()}.",
        "",
        "| package | wall (median) | CPU (median) | runs (wall) |",
        "|---|---|---|---|",
    ]
    for kind, (wall, cpu) in med.items():
        lines.append(f"| {kind} | {wall:.2f} s | {cpu:.2f} s | {', '.join(f'{w:.2f}' for w, _ in times[kind])} |")
    lines += [
        "",
        f"Transmux takes {t[0] / e[0]:.1%} of the encode's wall time and {t[1] / e[1]:.1%} of its CPU "
        "(aim: under 5%). Both include probing, keys, encryption, stitching and validation.",
        "",
    ]
    out = ROOT / "bench" / "results" / "transmux.md"
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
