"""The Celery engine measured (issue 23): one worker against two, each pinned to its own core.

1. A 60 s 1280x720 title (the sample recipe, 30 fps: LD, SD, HD at x264 veryfast) packaged with
   `hlskit package --engine celery --chunk-seconds 8`, by one worker (`taskset -c 0`) and by two
   (`taskset -c 0` and `-c 1`), alternately, ``--rounds`` times each: wall time of the whole
   `hlskit package` (plan, chunks, audio, sprite, assembly, encryption, stitch, validation).
2. The same ladder made in one process by the local engine on one core (`taskset -c 0`): its
   wall time, bytes, and VMAF of each definition (libvmaf through `pipeline.quality`) against the
   chunked package's.
3. Overheads from the job store's chunk rows: the gap between a worker ending one chunk and
   starting the next (broker, task and store round trips), the extra encode time of cutting the
   title (chunks' worker-seconds against the one-process encode), and the finishing time after
   the last chunk.
4. A 1080p title (FHD ladder) on one pinned worker: seconds of encode per second of title, per
   chunk and for the sprite and audio tasks; with the figures above, a projection of the wall
   time of a 2-hour 1080p title on 1, 8 and 32 workers.

The machine is shared: the load average before and after each run is recorded, and the two
modes alternate so both see the same neighbours. Results: bench/results/distributed.md.

    .venv/bin/python bench/distributed.py [--seconds 60] [--rounds 2] [--no-vmaf]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hlskit.domain.chunks import AUDIO, THUMBNAILS, VIDEO  # noqa: E402
from hlskit.domain.plan import PackageOptions  # noqa: E402
from hlskit.domain.settings import Settings  # noqa: E402
from hlskit.engines import get_engine  # noqa: E402
from hlskit.engines.encode import ffmpeg_exe  # noqa: E402
from hlskit.engines.sample import make_sample  # noqa: E402
from hlskit.engines.thumbnails import layout_for  # noqa: E402
from hlskit.hls.crypto import encrypt_segment  # noqa: E402
from hlskit.pipeline.plan import plan_package  # noqa: E402
from hlskit.pipeline.probe import probe  # noqa: E402
from hlskit.pipeline.quality import measure_quality  # noqa: E402
from hlskit.stores.jobs import JobStore  # noqa: E402
from tests.celery.cluster import Redis, Workers  # noqa: E402

HLSKIT = [sys.executable, "-m", "hlskit"]
RESULTS = ROOT / "bench" / "results" / "distributed.md"


def machine() -> str:
    cpu = next(
        (
            l.split(":", 1)[1].strip()
            for l in Path("/proc/cpuinfo").read_text().splitlines()
            if l.startswith("model name")
        ),
        "unknown CPU",
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


class Bench:
    def __init__(self, base: Path, seconds: int):
        self.base = base
        self.redis = Redis(base)
        self.redis.start()
        self.home, self.out = base / "home", base / "out"
        self.out.mkdir()
        self.env = {
            **os.environ,
            "HLSKIT_HOME": str(self.home),
            "HLSKIT_BROKER_URL": self.redis.url,
            "HLSKIT_CELERY_VISIBILITY_TIMEOUT": "900",
            "HLSKIT_CONFIG": "",
        }
        self.workers = Workers(base, self.env)
        self.seconds = seconds
        self.runs = 0

    def pinned(self, count: int) -> None:
        """``count`` workers, worker i on core i."""
        self.workers.stop_all()
        self.workers.procs.clear()
        names = [f"b{i}" for i in range(count)]
        for i, name in enumerate(names):
            self.workers.start(name, prefix=["taskset", "-c", str(i)])
        self.workers.wait_ready(names)

    def package(self, source: Path, extra: list[str], prefix: list[str] | None = None) -> dict:
        self.runs += 1
        content = f"run{self.runs}"
        before = load()
        started = time.perf_counter()
        done = subprocess.run(
            [*(prefix or []), *HLSKIT, "package", str(source), "--out", str(self.out), "--content-id", content]
            + ["--no-encrypt", *extra],
            env=self.env,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"package failed: {done.stderr}")
        manifest = json.loads((self.out / content / "hlskit.json").read_text())
        return {
            "content": content,
            "wall": wall,
            "load": f"{before} → {load()}",
            "manifest": manifest,
            "end": time.time(),
        }

    def chunks(self, run_id: str) -> list:
        return JobStore(self.home / "jobs.db").chunks.of_run(run_id)


def gaps(chunks: list) -> list[float]:
    """Per worker: the time between ending one chunk and starting the next."""
    out: list[float] = []
    for worker in {c.worker for c in chunks}:
        mine = sorted((c for c in chunks if c.worker == worker), key=lambda c: c.started_at)
        out += [b.started_at - a.finished_at for a, b in zip(mine, mine[1:]) if b.started_at >= a.finished_at]
    return out


def busy(chunks: list, kind: str) -> float:
    return sum(c.finished_at - c.started_at for c in chunks if c.kind == kind)


def one_process_encode(source: Path, folder: Path) -> float:
    """Seconds the local engine's one FFmpeg process (every definition and the audio rendition)
    takes on one core, nothing else: what the chunks' encode time compares with."""
    settings = Settings(home=folder / "home")
    engine = get_engine("local", settings)
    plan = plan_package(
        str(source), str(folder / "out"), settings, PackageOptions(audio_renditions=True), "bench", engine
    )
    for name in [r.name for r in plan.rungs] + [a.folder for a in plan.audio]:
        (Path(plan.staging) / name).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    subprocess.run(["taskset", "-c", "0", *engine.command(plan)], check=True, capture_output=True)
    return time.perf_counter() - started


def aes_rate(package: Path, scratch: Path) -> float:
    """Bytes per second the following host reads, encrypts (AES-128-CBC, as finish_segments) and writes."""
    scratch.mkdir()
    files = [p for p in package.rglob("*") if p.suffix in (".ts", ".m4s")]
    started = time.perf_counter()
    total = 0
    for i, path in enumerate(files):
        data = path.read_bytes()
        (scratch / f"{i}.bin").write_bytes(encrypt_segment(data, b"k" * 16, b"i" * 16))
        total += len(data)
    return total / (time.perf_counter() - started)


def vmaf(bench: Bench, content: str, source: Path) -> dict[str, float]:
    report = measure_quality(
        str(bench.out / content / "master.m3u8"),
        str(source),
        probe(source),
        ffmpeg=ffmpeg_exe(),
        keys=None,
        subsample=2,
    )
    return {q.definition: q.vmaf for q in report.definitions}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--chunk-seconds", type=int, default=8)
    parser.add_argument("--fhd-seconds", type=int, default=16)
    parser.add_argument("--no-vmaf", action="store_true")
    args = parser.parse_args()
    lines = ["# Distributed encoding: the Celery engine (bench/distributed.py, issue 23)", ""]
    lines += [f"Machine: {machine()}; load average (1/5/15 min) at start {load()}.", ""]
    with tempfile.TemporaryDirectory(prefix="hlskit-dist-") as tmp:
        base = Path(tmp)
        source = make_sample(base / "hd.mp4", 1280, 720, args.seconds, 30)
        bench = Bench(base, args.seconds)
        try:
            celery = ["--engine", "celery", "--chunk-seconds", str(args.chunk_seconds)]
            results: dict[int, list[dict]] = {1: [], 2: []}
            for _ in range(args.rounds):
                for count in (1, 2):
                    bench.pinned(count)
                    run = bench.package(source, celery)
                    run["chunks"] = bench.chunks(run["manifest"]["run_id"])
                    results[count].append(run)
                    print(f"{count} worker(s): {run['wall']:.1f} s (load {run['load']})", flush=True)
            bench.workers.stop_all()
            # The same package made in one process: audio as a rendition too, so the bytes compare.
            local = bench.package(source, ["--engine", "local", "--audio-renditions"], prefix=["taskset", "-c", "0"])
            local["encode"] = one_process_encode(source, base / "encode")
            print(f"local, one core: {local['wall']:.1f} s (its FFmpeg alone {local['encode']:.1f} s)", flush=True)
            local["aes"] = aes_rate(bench.out / local["content"], base / "aes")
            # 1080p: encode speed of the FHD ladder per chunk, and of the sprite and audio tasks.
            fhd_source = make_sample(base / "fhd.mp4", 1920, 1080, args.fhd_seconds, 30)
            bench.pinned(1)
            fhd = bench.package(fhd_source, celery)
            fhd["chunks"] = bench.chunks(fhd["manifest"]["run_id"])
            bench.workers.stop_all()
            print(f"1080p {args.fhd_seconds} s, one worker: {fhd['wall']:.1f} s", flush=True)
            scores = {}
            if not args.no_vmaf:
                scores = {
                    "chunked": vmaf(bench, results[2][0]["content"], source),
                    "local": vmaf(bench, local["content"], source),
                }
            lines += report(args, results, local, fhd, scores)
        finally:
            bench.workers.stop_all()
            bench.redis.kill()
    lines += ["", f"Load average at the end: {load()}."]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def report(args, results: dict[int, list[dict]], local: dict, fhd: dict, scores: dict) -> list[str]:
    one = statistics.median(r["wall"] for r in results[1])
    two = statistics.median(r["wall"] for r in results[2])
    out = ["## One worker against two, each on its own core", ""]
    out += [
        f"{args.seconds} s 1280x720 30 fps title, LD/SD/HD at x264 veryfast, `--chunk-seconds {args.chunk_seconds}`, clear.",
        "",
    ]
    out += ["| run | workers | wall (s) | load before → after |", "|---|---:|---:|---|"]
    for i in range(args.rounds):
        for count in (1, 2):
            r = results[count][i]
            out.append(f"| {i + 1} | {count} | {r['wall']:.1f} | {r['load']} |")
    out += ["", f"Median: one worker {one:.1f} s, two workers {two:.1f} s: **ratio {two / one:.2f}** (aim ≤ 0.60).", ""]
    out.append(
        f"The same package in one process (local engine, `--audio-renditions`, `taskset -c 0`): {local['wall']:.1f} s, "
        f"of which its one FFmpeg process {local['encode']:.1f} s."
    )

    def sizes_of(manifest: dict) -> dict[str, int]:
        made = {d["name"]: d["bytes"] for d in manifest["definitions"]}
        made.update({f"audio/{r['slug']}": r["bytes"] for r in manifest["renditions"] if r["type"] == "AUDIO"})
        return made

    sizes, chunked = sizes_of(local["manifest"]), sizes_of(results[2][0]["manifest"])
    total_local, total_chunked = sum(sizes.values()), sum(chunked.values())
    out += ["", "## The chunked package against one process", ""]
    out.append(
        f"All bytes: one process {total_local:,}, chunked {total_chunked:,} ({(total_chunked - total_local) / total_local * 100:+.1f}%)."
    )
    out.append("")
    out += [
        "| definition | bytes, one process | bytes, chunked | Δ bytes | VMAF, one process | VMAF, chunked | Δ VMAF |"
    ]
    out += ["|---|---:|---:|---:|---:|---:|---:|"]
    for name in sizes:
        delta = (chunked[name] - sizes[name]) / sizes[name] * 100
        v_local, v_chunked = scores.get("local", {}).get(name), scores.get("chunked", {}).get(name)
        vm = f"| {v_local:.2f} | {v_chunked:.2f} | {v_chunked - v_local:+.2f} |" if v_local is not None else "| | | |"
        out.append(f"| {name} | {sizes[name]:,} | {chunked[name]:,} | {delta:+.1f}% {vm}")
    out += ["", "VMAF: libvmaf vmaf_v0.6.1, every 2nd frame, at the source's size (`pipeline/quality.py`).", ""]
    # Overheads, from the one-worker runs (no waiting for a free worker) and the two-worker runs.
    chunks1 = [c for r in results[1] for c in r["chunks"]]
    n_video = sum(1 for c in results[1][0]["chunks"] if c.kind == VIDEO)
    per_run_video = statistics.median(busy(r["chunks"], VIDEO) for r in results[1])
    dispatch = gaps(chunks1)
    finish = statistics.median(r["end"] - max(c.finished_at for c in r["chunks"]) for r in results[1] + results[2])
    sprite = statistics.median(busy(r["chunks"], THUMBNAILS) for r in results[1])
    audio = statistics.median(busy(r["chunks"], AUDIO) for r in results[1])
    out += ["## Overheads", ""]
    out.append(
        f"- Dispatch (a worker ending a chunk → starting the next: broker, task, store): median {statistics.median(dispatch) * 1000:.0f} ms, max {max(dispatch) * 1000:.0f} ms over {len(dispatch)} hand-overs."
    )
    out.append(
        f"- Encoding cut into {n_video} chunks: {per_run_video:.1f} worker-seconds of video chunks and {audio:.1f} s of audio "
        f"task against {local['encode']:.1f} s for the one FFmpeg process that makes both: "
        f"{(per_run_video + audio - local['encode']) / n_video:+.2f} s per chunk (each chunk starts FFmpeg, seeks, warms x264 "
        f"up). The sprite rows took {sprite:.1f} worker-seconds (the local engine makes its sprite after the encode)."
    )
    out.append(
        f"- Finishing on the following host after the last chunk (assembly, stitch, validation, publish): median {finish:.1f} s for {args.seconds} s of title."
    )
    out += projection(args, fhd, statistics.median(dispatch), finish, chunked, local["aes"])
    return out


def projection(args, fhd: dict, dispatch: float, finish: float, hd_sizes: dict, aes: float) -> list[str]:
    """Wall time of a 2-hour 1080p title from the 1080p run's costs per second of title. Finishing:
    the 720p runs' finishing time less their encryption is a fixed cost; encryption scales with
    the bytes at the measured rate; stitch and validation of 7,200 segments take 2.2 s
    (bench/stitch.py)."""
    chunks = fhd["chunks"]
    per_second = busy(chunks, VIDEO) / args.fhd_seconds  # worker-seconds of chunk encoding per title-second
    sprite = busy(chunks, THUMBNAILS) / args.fhd_seconds  # all rows together
    audio = busy(chunks, AUDIO) / args.fhd_seconds
    title, chunk = 7200, 30  # the default chunk_seconds
    fixed = max(0.0, finish - sum(hd_sizes.values()) / aes)
    fhd_bytes = sum(d["bytes"] for d in fhd["manifest"]["definitions"]) + sum(
        r["bytes"] for r in fhd["manifest"]["renditions"] if r["type"] == "AUDIO"
    )
    finishing = fixed + fhd_bytes / args.fhd_seconds * title / aes + 2.2
    n = title // chunk
    layout = layout_for(title, 1920, 1080)
    out = ["", "## Projection: a 2-hour 1080p title", ""]
    out += [
        f"From a {args.fhd_seconds} s 1920x1080 30 fps title (LD/SD/HD/FHD at veryfast) on one pinned worker: "
        f"{per_second:.2f} worker-seconds of chunk encoding per second of title, the sprite {sprite:.3f} s/s "
        f"(in {layout.rows} row tasks for 2 hours) and the audio rendition {audio:.3f} s/s (one task); dispatch "
        f"{dispatch * 1000:.0f} ms per task. Finishing on the following host: {fixed:.1f} s fixed (the 720p runs' "
        f"finishing less their encryption) + {fhd_bytes / args.fhd_seconds * title / 1e9:.1f} GB encrypted at "
        f"{aes / 1e6:.0f} MB/s + 2.2 s stitch and validation (bench/stitch.py). Default chunks of "
        f"{chunk} s: {n} video tasks.",
        "",
        "| workers | video tasks per worker | encoding (min) | longest single task (min) | finishing (min) | wall (min) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for workers in (1, 8, 32):
        per_worker = math.ceil(n / workers)
        side = title * (sprite + audio) + (layout.rows + 1) * dispatch  # the sprite rows and the audio task
        encode = per_worker * (chunk * per_second + dispatch) + side / workers
        longest = max(title * audio, title * sprite / layout.rows, chunk * per_second)
        wall = max(encode, longest) + finishing
        out.append(
            f"| {workers} | {per_worker} | {encode / 60:.1f} | {longest / 60:.1f} | {finishing / 60:.1f} | {wall / 60:.1f} |"
        )
    out += [
        "",
        "Encoding assumes every task keeps a worker busy until the last round (the sprite rows and the audio "
        "rendition go first in the queue and share the workers), chunks of equal cost, and a worker of one "
        "core like these (a real host runs one worker using all its cores: divide by its speed-up). Finishing "
        "(assembly, encryption, stitch and validation on one host) does not shrink with more workers.",
    ]
    return out


if __name__ == "__main__":
    main()
