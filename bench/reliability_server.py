"""Server reliability: the attack list of tests/server/attacks.py and the download access cases of
tests/reliability/download_access.py against `hlskit serve` and gunicorn in subprocesses, then a
load on the key route with a valid token.

    .venv/bin/python bench/reliability_server.py [--duration 60] [--connections 32] [--downloads-only]

Builds a small encrypted package (FFmpeg, 320x180..640x360, 4 s) in a temporary folder, starts
each server on 127.0.0.1 with its own log, sends every attack over a raw socket, checks the
exact refusal, that no key byte came back, and that /healthz still answers; then replays a
revoked key. Then runs wrk (keep-alive connections, like players) against gunicorn as
docs/serving.md deploys it (2 workers, gthread, 4 threads) and counts non-2xx answers and
socket errors. Writes the counts and figures to bench/results/server.md, and the download access
counts to bench/results/downloads.md (``--downloads-only``: that part alone, no attacks, no load).
Speed is measured, never asserted; the machine is shared, so the figures are indicative.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: import the project and its test helpers

from hlskit.domain.settings import Settings  # noqa: E402
from hlskit.keys.tokens import token_secret  # noqa: E402
from hlskit.stores.keys import KeyStore  # noqa: E402
from tests.reliability import download_access  # noqa: E402
from tests.server import attacks  # noqa: E402
from tests.server.serverpkg import build_package  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "server.md"
DOWNLOADS = ROOT / "bench" / "results" / "downloads.md"
CONTENT_ID = "talk"
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.time() + 60
    while not attacks.healthy(port):
        if proc.poll() is not None or time.time() > deadline:
            raise SystemExit(f"server did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.2)


def _start(kind: str, env: dict, port: int, log: Path) -> subprocess.Popen:
    if kind == "hlskit serve":
        cmd = [sys.executable, "-m", "hlskit", "serve", env["HLSKIT_MEDIA_ROOT"], "--port", str(port)]
    else:
        cmd = [str(BIN / "gunicorn"), "-w", "2", "-k", "gthread", "--threads", "4", "-b", f"127.0.0.1:{port}"]
        cmd.append("hlskit.server:create_app()")
    with open(log, "w") as sink:
        proc = subprocess.Popen(cmd, env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)
    _wait_healthy(port, proc, log)
    return proc


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_attacks(kind: str, target: attacks.Target, log: Path) -> dict:
    outcomes = []
    unhealthy = 0
    for attack in attacks.ATTACKS:
        outcomes.append(attacks.run_attack(target, attack, "gunicorn" if kind == "gunicorn" else "werkzeug"))
        unhealthy += not attacks.healthy(target.port)
    outcomes.append(attacks.revocation_replay(target))
    unhealthy += not attacks.healthy(target.port)
    text = log.read_text(errors="replace")
    failed = [o for o in outcomes if not o.refused]
    return {
        "server": kind,
        "tried": len(outcomes),
        "refused": len(outcomes) - len(failed),
        "failed": failed,
        "5xx": sum(1 for o in outcomes if o.status and o.status >= 500),
        "unhealthy": unhealthy,
        "tracebacks": text.count("Traceback"),
        "key_leaks": sum(1 for o in outcomes if "KEY BYTES" in o.detail),
    }


def run_downloads(kind: str, port: int, secret: bytes, out: Path, home: Path, store: KeyStore, log: Path) -> dict:
    """The download access cases a server over ``out`` can answer (its root is the parent of the
    packages), then `hlskit keys revoke` after a served download, then the test page's token."""
    base = f"http://127.0.0.1:{port}"
    checks = [
        (c.name, lambda c=c: download_access.check(c, lambda root: base, secret))
        for c in download_access.CASES
        if c.root == "parent"
    ]
    cid = "dl-cli-" + kind.replace(" ", "-")
    checks.append(("keys revoke after a served download", lambda: download_access.check_revoke_via_cli(base, secret, out, home, store, cid)))  # fmt: skip
    checks.append(("the test page's token", lambda: download_access.check_dev_page_token(base, store, "dl-std")))
    failed = []
    for name, check in checks:
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - a bench counts failures instead of stopping
            failed.append(f"{name}: {str(exc)[:300]}")
    text = log.read_text(errors="replace")
    return {"server": kind, "tried": len(checks), "failed": failed, "tracebacks": text.count("Traceback")}


def downloads_report(results: list[dict]) -> str:
    lines = [
        "## Download access (bench/reliability_server.py)",
        "",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {machine()}.",
        "",
        "Clear MP4 downloads (issue 25): the cases of tests/reliability/download_access.py a server whose "
        "media root is the parent of the packages answers — the token rule, the same file through a site "
        "folder, a run folder, symlinks and capitals, a downloads folder no package claims, revoked and "
        "unknown keys, a clear package — then `hlskit keys revoke` after a served download and the token "
        "the test page mints in development mode. Each is one GET with its exact status and JSON code, "
        "nosniff, and the MP4 bytes only when granted.",
        "",
        "| server | cases | as expected | tracebacks in log |",
        "|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| {r['server']} | {r['tried']} | {r['tried'] - len(r['failed'])} | {r['tracebacks']} |")
    for r in results:
        lines += [f"- {r['server']}: **{f}**" for f in r["failed"]]
    return "\n".join(lines + [""])


def run_load(url: str, duration: int, connections: int) -> dict:
    wrk = shutil.which("wrk")
    if not wrk:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    cmd = [wrk, "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s", url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    def grab(pattern: str, default: str = "0") -> str:
        match = re.search(pattern, out)
        return match.group(1) if match else default

    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "requests": int(grab(r"(\d+) requests in")),
        "rps": float(grab(r"Requests/sec:\s+([\d.]+)")),
        "p50": grab(r"50%\s+(\S+)", "?"),
        "p99": grab(r"99%\s+(\S+)", "?"),
        "non2xx": int(grab(r"Non-2xx or 3xx responses: (\d+)")),
        "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0,
        "raw": out,
    }


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    return f"{os.cpu_count()} cores (`nproc`), {cpu}, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def report(results: list[dict], load: dict, args, wrk_version: str) -> str:
    lines = [
        "## Server reliability (bench/reliability_server.py)",
        "",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {machine()}; {wrk_version}. The machine is shared with "
        "other engineers' work, so the speed figures are indicative only.",
        "",
        f"Attacks: the {attacks.COUNT} cases of tests/server/attacks.py (token forms and carriers, revocation "
        "replay, path forms, methods, ranges, oversize requests, CORS origins), one raw-socket request each, "
        'with /healthz checked after every one. "As expected" is the exact status the list names: a refusal, '
        "or for a Range in another unit and a multi-range request the whole segment with 200 (RFC 9110 §14.2).",
        "",
        "| server | attacks tried | refused as expected | 5xx | key bytes leaked | unhealthy after | tracebacks in log |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['server']} | {r['tried']} | {r['refused']} | {r['5xx']} | {r['key_leaks']} | {r['unhealthy']} | {r['tracebacks']} |"
        )
    for r in results:
        for o in r["failed"]:
            lines.append(f"- {r['server']}: **{o.name}**: got {o.status}, expected {o.expected} ({o.detail})")
    lines += [
        "",
        f"Load: wrk, {args.connections} keep-alive connections, 2 threads, {args.duration} s, "
        "`GET /keys/<content-id>/<key-id>?token=T` with a valid token, against gunicorn "
        "(`-w 2 -k gthread --threads 4`, as docs/serving.md deploys it, audit log on, written to a file).",
        "",
        "| requests | requests/s | p50 | p99 | non-2xx | socket errors |",
        "|---|---|---|---|---|---|",
        f"| {load['requests']} | {load['rps']:.0f} | {load['p50']} | {load['p99']} | {load['non2xx']} | {load['socket_errors']} |",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (default 60)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--downloads-only", action="store_true", help="only the download access cases")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="hlskit-reliability-"))
    try:
        home, out = base / "home", base / "out"
        out.mkdir()
        settings = Settings(home=home, media_root=out)
        store = KeyStore.open(settings.store_config())
        secret = token_secret(settings.token_config())  # created here once, read by both servers
        print("building the test package ...", flush=True)
        package = build_package(out, base / "clear", store, "http://127.0.0.1:8000/keys", CONTENT_ID)
        attacks.prepare(out, CONTENT_ID)
        download_access.build(out, store)
        env = {k: v for k, v in os.environ.items() if not k.startswith("HLSKIT_")}
        env |= {
            "HLSKIT_HOME": str(home),
            "HLSKIT_MEDIA_ROOT": str(out),
            "HLSKIT_ALLOWED_ORIGINS": f"self,{attacks.PLAYER}",
            "HLSKIT_CONFIG": str(base / "none.toml"),
        }
        (base / "none.toml").write_text("")
        results, downloads = [], []
        load = None
        for kind in ("hlskit serve", "gunicorn"):
            port = _free_port()
            log = base / f"{kind.replace(' ', '-')}.log"
            proc = _start(kind, env, port, log)
            try:
                print(f"{kind}: download access ...", flush=True)
                downloads.append(run_downloads(kind, port, secret, out, home, store, log))
                d = downloads[-1]
                print(f"  as expected {d['tried'] - len(d['failed'])}/{d['tried']}, tracebacks {d['tracebacks']}")
                if args.downloads_only:
                    continue
                target = attacks.Target(port, CONTENT_ID, package.keys, secret, out, store.revoke, store.create)
                print(f"{kind}: {attacks.COUNT} attacks ...", flush=True)
                results.append(run_attacks(kind, target, log))
                r = results[-1]
                print(f"  refused {r['refused']}/{r['tried']}, 5xx {r['5xx']}, tracebacks {r['tracebacks']}")
                if kind == "gunicorn":
                    url = f"http://127.0.0.1:{port}{target.key_path()}?token={target.token(ttl=3600)}"
                    print(f"load: {args.duration} s at {args.connections} connections ...", flush=True)
                    load = run_load(url, args.duration, args.connections)
                    print(load["raw"])
            finally:
                _stop(proc)
        DOWNLOADS.parent.mkdir(parents=True, exist_ok=True)
        DOWNLOADS.write_text(downloads_report(downloads))
        print(downloads_report(downloads))
        if args.downloads_only:
            return
        wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("[")[0].strip()
        text = report(results, load, args, wrk_version or "wrk")
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text)
        print(text)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
