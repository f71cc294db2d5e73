"""The validator's long reliability runs: the whole corpus, mutations of it, fMP4 mutations, and
hostile sources with the default budgets (20 s per fetch, 120 s per run).

Counts what matters: corpus size, tracebacks (must be 0), hangs (must be 0: every case ends by
its budget), the longest time, the largest memory. The corpus is the hand-written playlists of
tests/data/playlists, real FFmpeg hls-muxer output in every configuration of tests/hls/corpus.py,
and seeded mutations of all of them (lines dropped, duplicated, cut short; attribute values
replaced by 400-digit, negative, empty, fractional, NaN values; bytes that are not UTF-8). Corpus
cases run in this process (as `hlskit validate --json` does); hostile cases run the real CLI in a
child whose peak RSS is measured. fMP4 mutations (tests/hls/fmp4_mutations.py: every box size,
renames, truncations, counts, offsets, timescales, equivalent rewrites of FFmpeg's own fMP4 output)
run from files and over HTTP in a child under RLIMIT_AS, each labelled playable (exit 0) or not
(a MUST finding, exit 1).

Run: .venv/bin/python bench/reliability_validate.py [--mutations 20] [--quick] [--out bench/results/validate.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import imageio_ffmpeg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hlskit.hls.fetch import FETCH_SECONDS, RUN_SECONDS  # noqa: E402
from tests.hls import fmp4_mutations  # noqa: E402
from tests.hls.corpus import files, generate, run_one  # noqa: E402
from tests.hls.fmp4_streams import encode_fmp4  # noqa: E402
from tests.hls.hostile import HostileServer, master_playlist, media_playlist  # noqa: E402

AS_LIMIT = 1536 * 1024 * 1024  # address space of the child that validates the fMP4 mutations

HOSTILE_VALUES = ["9" * 400, "-1", "", "1.5", "nan", "1e400", "0x10", "-0", '"quoted"', "\u00e9\u00e9"]


def mutations(text: bytes, rng: random.Random, n: int) -> list[bytes]:
    lines = text.split(b"\n")
    out = []
    for _ in range(n):
        ls = list(lines)
        op = rng.randrange(6)
        i = rng.randrange(len(ls)) if ls else 0
        if op == 0 and ls:
            del ls[i]
        elif op == 1 and ls:
            ls.insert(i, ls[i])
        elif op == 2:
            ls = ls[: max(1, i)]
        elif op == 3 and ls:
            value = rng.choice(HOSTILE_VALUES).encode()
            if b"=" in ls[i]:
                ls[i] = re.sub(rb'=("[^"]*"|[^,]*)', b"=" + value, ls[i], count=1)
            else:
                ls[i] = re.sub(rb":[^,]*", b":" + value, ls[i], count=1)
        elif op == 4 and ls:
            ls[i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
        else:
            ls.insert(i, rng.choice([b"#EXT-X-BYTERANGE:-5", b"#EXT-X-BYTERANGE:", b"#EXTINF:1e400,", b"/dev/zero"]))
        out.append(b"\n".join(ls))
    return out


def peak_rss_cli(args: list[str], timeout: float) -> dict:
    """`hlskit <args>` in a child: exit code, time, peak RSS (MiB), JSON validity, traceback."""
    waiter = (
        "import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "sys.stdout.write(p.stdout); sys.stderr.write(p.stderr); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(p.returncode)"
    )
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", waiter, sys.executable, "-m", "hlskit", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"hang": True, "seconds": time.monotonic() - started}
    *err, rss = proc.stderr.strip().split("\n")
    try:
        json.loads(proc.stdout)
        valid = True
    except ValueError:
        valid = False
    return {
        "hang": False,
        "seconds": time.monotonic() - started,
        "rss_mib": int(rss) / 1024,
        "exit": proc.returncode,
        "json": valid,
        "traceback": "Traceback" in "\n".join(err),
        "said": next((e for e in err if e.startswith("error:")), ""),
    }


def fmp4_mutation_runs(base: Path, server: HostileServer, run_s: float) -> tuple[list[str], float, float]:
    """Every fMP4 mutation from files and over HTTP: the table rows, the peak RSS and the time."""
    folder = encode_fmp4(imageio_ffmpeg.get_ffmpeg_exe(), base / "fmp4").parent
    mutations = fmp4_mutations.corpus(folder)
    cases = fmp4_mutations.write_cases(folder, mutations)
    files = [str(folder / name) for name, _ in cases]
    urls = [f"{server.url}/fmp4/{name}" for name, _ in cases]
    started = time.monotonic()
    results, rss = fmp4_mutations.validate_in_child(files + urls, budget=run_s, as_limit=AS_LIMIT)
    seconds = time.monotonic() - started
    rows: dict[str, list[int]] = {}  # kind -> [cases, judged right, MUST, passed, exit 2, crashes]
    wrong, slowest = [], (0.0, "")
    for (_, m), location in zip(cases * 2, files + urls):
        kind, code, _musts, took, detail = results[location]
        row = rows.setdefault(m.kind, [0, 0, 0, 0, 0, 0])
        right = kind == "report" and code == (0 if m.playable else 1)
        row[0] += 1
        row[1] += right
        row[2] += kind == "report" and code == 1
        row[3] += kind == "report" and code == 0
        row[4] += kind == "error"
        row[5] += kind == "crash"
        if not right:
            wrong.append(f"{m.name} ({'HTTP' if location.startswith('http') else 'file'}): {kind} {code} {detail}")
        slowest = max(slowest, (took, m.name))
    lines = [
        "| fMP4 mutation kind | cases (files + HTTP) | judged as labelled | MUST (exit 1) | passed (exit 0) | exit 2 | tracebacks |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, r in sorted(rows.items(), key=lambda kv: -kv[1][0]):
        lines.append(f"| {kind} | {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} |")
    total = [sum(r[i] for r in rows.values()) for i in range(6)]
    lines.append(
        f"| **all {len(mutations)} mutations, twice** | {total[0]} | **{total[1]}** | {total[2]} | {total[3]} | {total[4]} | **{total[5]}** |"
    )
    lines += [
        "",
        f"fMP4 mutations: {seconds:.1f} s in all, slowest case {slowest[0]:.2f} s ({slowest[1]}); peak RSS of the "
        f"validating child {rss:.0f} MiB (RLIMIT_AS {AS_LIMIT // 2**20} MiB).",
    ]
    lines += [f"- misjudged: {w}" for w in wrong[:20]]
    (base / "evil.m4s").write_bytes(fmp4_mutations.million_sample_segment())
    (base / "init.mp4").write_bytes((folder / "init.mp4").read_bytes())
    (base / "evil.m3u8").write_text(fmp4_mutations.repeated_playlist("evil.m4s", 200))
    return lines, rss, seconds


def hostile_cases(base: Path, server: HostileServer, quick: bool) -> dict[str, str]:
    """name -> location (files written under base, served by ``server``)."""
    u = server.url
    (base / "drip-seg.m3u8").write_text(media_playlist([f"{u}/drip/a.ts"]))
    (base / "endless-seg.m3u8").write_text(media_playlist([f"{u}/endless/a.ts"]))
    kinds = ["drip", "hang", "driphead"] * (2 if quick else 8)
    (base / "hostile-master.m3u8").write_text(master_playlist([f"{u}/{k}/v{i}.m3u8" for i, k in enumerate(kinds)]))
    os.mkfifo(base / "fifo.m3u8")
    os.mkfifo(base / "fifo.ts")
    (base / "fifo-seg.m3u8").write_text(media_playlist(["fifo.ts", "/dev/zero"]))
    (base / "huge.m3u8").write_text(media_playlist([f"s{i}.ts" for i in range(200_000)], duration=1.0))
    (base / "over-cap.m3u8").write_text("#EXTM3U\n" + "#EXTINF:1,\nsegment-name-padding.ts\n" * 700_000)
    return {
        f"dripping playlist body (1 byte / {server.drip:g} s)": f"{u}/drip/index.m3u8",
        "dripping status line": f"{u}/driphead/index.m3u8",
        "dripping segment": f"{u}/drip-seg.m3u8",
        "hanging server": f"{u}/hang/index.m3u8",
        "endless playlist body": f"{u}/endless/index.m3u8",
        "endless segment body": f"{u}/endless-seg.m3u8",
        f"master of {len(kinds)} hostile variants": f"{u}/hostile-master.m3u8",
        "FIFO playlist": str(base / "fifo.m3u8"),
        "FIFO and /dev/zero segments": str(base / "fifo-seg.m3u8"),
        "200,000-segment playlist": str(base / "huge.m3u8"),
        "24 MB playlist (over the 16 MiB cap)": str(base / "over-cap.m3u8"),
        "host that does not resolve": "http://no-such-host.invalid/master.m3u8",
        "fMP4: a 116-byte segment whose trun declares 1,048,575 samples, listed 200 times": str(base / "evil.m3u8"),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mutations", type=int, default=20, help="mutations per corpus playlist")
    ap.add_argument("--quick", action="store_true", help="drip 2 s, budgets 4 s / 20 s (a smoke run)")
    ap.add_argument("--out", default="bench/results/validate.md")
    args = ap.parse_args()
    fetch_s, run_s, drip = (4.0, 20.0, 2.0) if args.quick else (FETCH_SECONDS, RUN_SECONDS, FETCH_SECONDS - 1)
    base = Path(tempfile.mkdtemp(prefix="hlskit-reliability-"))
    server = HostileServer(base, drip=drip)
    try:
        # --- corpus -----------------------------------------------------------------------------
        corpus: list[Path] = []
        for p in files() + [p for p in files()[0].parent.iterdir() if p.suffix != ".m3u8"]:
            data = re.sub(rb"https?://(?:media\.|priv\.|keys\.)?example\.com", server.url.encode(), p.read_bytes())
            (base / p.name).write_bytes(data)
            if p.suffix == ".m3u8":
                corpus.append(base / p.name)
        corpus += generate(imageio_ffmpeg.get_ffmpeg_exe(), base / "ffmpeg")
        rng = random.Random(11)
        mutated = []
        for p in list(corpus):
            for j, data in enumerate(mutations(p.read_bytes(), rng, args.mutations)):
                m = p.with_name(f"{p.stem}.mut{j:03d}.m3u8")
                m.write_bytes(data)
                mutated.append(m)
        cases = corpus + mutated
        kinds = {"report": 0, "error": 0, "crash": 0}
        crashes, slowest, invalid_json = [], (0.0, ""), 0
        started = time.monotonic()
        for p in cases:
            out = run_one(str(p), fetch_timeout=fetch_s, time_budget=run_s)
            kinds[out.kind] += 1
            if out.kind == "crash":
                crashes.append(f"{p.name}: {out.detail}")
            else:
                try:
                    json.loads(out.json_text)
                except ValueError:
                    invalid_json += 1
            slowest = max(slowest, (out.seconds, p.name))
        corpus_seconds = time.monotonic() - started
        # --- fMP4 mutations, files and HTTP, in a child under a memory ceiling --------------------
        fmp4_lines, _, _ = fmp4_mutation_runs(base, server, run_s)
        print("\n".join(fmp4_lines), flush=True)
        # --- hostile sources, real CLI ------------------------------------------------------------
        hostile = {}
        for name, location in hostile_cases(base, server, args.quick).items():
            flags = ["--json", "--fetch-timeout", str(fetch_s), "--time-budget", str(run_s)]
            hostile[name] = peak_rss_cli(["validate", location, *flags], timeout=run_s + 60)
            print(name, hostile[name], flush=True)
    finally:
        server.close()
        shutil.rmtree(base, ignore_errors=True)

    hangs = sum(1 for r in hostile.values() if r["hang"])
    tracebacks = len(crashes) + sum(1 for r in hostile.values() if r.get("traceback"))
    bad_json = invalid_json + sum(1 for r in hostile.values() if not r["hang"] and not r["json"])
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in ln),
        platform.processor(),
    )
    lines = [
        "## Validator reliability (bench/reliability_validate.py)",
        "",
        f"Machine: {os.cpu_count()} cores (`nproc` {len(os.sched_getaffinity(0))}), {cpu}; "
        f"Python {platform.python_version()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. "
        f"Budgets: {fetch_s:g} s per fetch, {run_s:g} s per run{' (--quick)' if args.quick else ' (defaults)'}; "
        f"dripping servers send one byte every {drip:g} s.",
        "",
        "| corpus | count |",
        "|---|---|",
        f"| playlists (hand-written {len(files())}, FFmpeg configurations {len(corpus) - len(files())}) | {len(corpus)} |",
        f"| seeded mutations ({args.mutations} per playlist) | {len(mutated)} |",
        f"| cases in all | {len(cases)} |",
        f"| reports (exit 0/1) / one-sentence errors (exit 2) | {kinds['report']} / {kinds['error']} |",
        f"| **tracebacks** | **{tracebacks}** |",
        f"| **invalid JSON** | **{bad_json}** |",
        f"| **hangs** | **{hangs}** |",
        f"| corpus time in all / slowest case | {corpus_seconds:.1f} s / {slowest[0]:.2f} s ({slowest[1]}) |",
        "",
        *fmp4_lines,
        "",
        "| hostile source (real CLI, `--json`) | exit | time | peak RSS | valid JSON | traceback | what it said |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in hostile.items():
        if r["hang"]:
            lines.append(f"| {name} | HANG | > {r['seconds']:.0f} s | | | | |")
        else:
            said = r["said"].replace("|", "\\|")[:110] or "(a report)"
            lines.append(
                f"| {name} | {r['exit']} | {r['seconds']:.1f} s | {r['rss_mib']:.0f} MiB | "
                f"{'yes' if r['json'] else 'NO'} | {'YES' if r['traceback'] else 'no'} | {said} |"
            )
    done = [r for r in hostile.values() if not r["hang"]]
    lines += [
        "",
        f"Max time {max(r['seconds'] for r in done):.1f} s (budget {run_s:g} s + process start); "
        f"max peak RSS {max(r['rss_mib'] for r in done):.0f} MiB.",
    ]
    if crashes:
        lines += ["", "Crashes:", *[f"- {c}" for c in crashes[:20]]]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
