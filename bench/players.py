"""Time to first frame and the climb after a slow start, in players hlskit does not control.

Stock hls.js, Shaka Player and video.js/VHS (the npm releases pinned in player/package.json,
served from this machine; no CDN) each play an hlskit package with their DEFAULT settings, from a
page on another origin (a second server on another 127.0.0.1 port), in headless Chromium. The
network is held at 700 kb/s through Chrome's own emulation (CDP Network.emulateNetworkConditions)
from the moment the player starts, then released; the page's own clock (performance.now()) times:

- first frame: from the call that starts the player to the first video frame presented
  (HTMLVideoElement.requestVideoFrameCallback);
- fragments to the top definition: media segments requested after the release before the first
  one of the top definition (0 = the first one after the release already was), read from the
  page's Resource Timing entries, the same way for every player.

Each master order (which variant comes first) is measured by rewriting the package's master
with the same variants in another order, so one encode serves every order.

Packaging candidates side by side: ``--packages LABEL=DIR,...`` plays packages already made with
``hlskit package ... --key-url /keys`` (DIR is out/<content-id>; HLSKIT_HOME or ``--home`` is the
home holding their keys; LABEL without commas), each as packaged (order ``master``), runs
interleaved (run 1 of every candidate and player, then run 2, ...) so a change in the machine's
load falls on all of them. ``--video-size`` sets the <video> element (VHS never picks a rendition
larger than it); ``--release-kbps`` releases to a rate instead of no limit.
Bytes and requests per session are the sizes on disk of the segment files the player requested
(cross-origin Resource Timing reports no sizes without Timing-Allow-Origin).

    .venv/bin/python bench/players.py [--height 1080] [--seconds 30] [--runs 1] [--slow 10]
    .venv/bin/python bench/players.py --packages "6 s=/tmp/out/a,2 s=/tmp/out/b" --runs 3 \
        --write --out /tmp/players.md
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode, urlparse

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from the checkout: tests/ is importable

from hlskit.cli.abrcheck import launch_chromium, throttle  # noqa: E402
from hlskit.config import load_settings  # noqa: E402
from hlskit.domain.plan import PackageOptions  # noqa: E402
from hlskit.engines.encode import ffmpeg_exe  # noqa: E402
from hlskit.engines.sample import sample_args  # noqa: E402
from hlskit.keys.tokens import make_token, token_secret  # noqa: E402
from hlskit.pipeline import run_package  # noqa: E402
from hlskit.server import create_app  # noqa: E402
from tests.staticsite import serve_files  # noqa: E402

NPM = ROOT / "player" / "node_modules"
RESULTS = ROOT / "bench" / "results" / "players.md"
SLOW_KBPS = 700

# What each player needs, from its npm package.
ASSETS = {
    "/hls.min.js": NPM / "hls.js" / "dist" / "hls.min.js",
    "/shaka-player.compiled.js": NPM / "shaka-player" / "dist" / "shaka-player.compiled.js",
    "/video.min.js": NPM / "video.js" / "dist" / "video.min.js",
    "/video-js.min.css": NPM / "video.js" / "dist" / "video-js.min.css",
}

# Each page: window.startPlayer(src) starts the player with its defaults; window.bench records
# the start and the first presented frame on the page's clock.
COMMON = """
<script>
window.bench = {start: null, firstFrame: null, errors: []};
performance.setResourceTimingBufferSize(10000);
function watchFirstFrame(video) {
  video.requestVideoFrameCallback((now) => { if (bench.firstFrame === null) bench.firstFrame = now; });
}
function version() { return window.__version || ''; }
</script>
"""
PAGES = {
    "hls.js": """<!doctype html><html><body>%s
<video id="v" muted playsinline width="640" height="360"></video>
<script src="/hls.min.js"></script>
<script>
window.__version = Hls.version;
window.startPlayer = (src) => {
  const video = document.getElementById('v');
  bench.start = performance.now();
  watchFirstFrame(video);
  const hls = new Hls();  // stock configuration
  hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) bench.errors.push(d.details); });
  hls.loadSource(src);
  hls.attachMedia(video);
  video.play().catch(() => {});
};
</script></body></html>""",
    "Shaka Player": """<!doctype html><html><body>%s
<video id="v" muted playsinline autoplay width="640" height="360"></video>
<script src="/shaka-player.compiled.js"></script>
<script>
shaka.polyfill.installAll();
window.__version = shaka.Player.version;
window.startPlayer = (src) => {
  const video = document.getElementById('v');
  bench.start = performance.now();
  watchFirstFrame(video);
  const player = new shaka.Player();  // stock configuration
  player.addEventListener('error', (e) => bench.errors.push(String(e.detail && e.detail.code)));
  player.attach(video).then(() => player.load(src)).then(() => video.play().catch(() => {}))
    .catch((e) => bench.errors.push(String(e.code || e)));
};
</script></body></html>""",
    "video.js/VHS": """<!doctype html><html><head><link rel="stylesheet" href="/video-js.min.css"></head><body>%s
<video id="v" class="video-js" muted playsinline width="640" height="360"></video>
<script src="/video.min.js"></script>
<script>
window.__version = videojs.VERSION;
window.startPlayer = (src) => {
  bench.start = performance.now();
  const player = videojs('v', {muted: true, autoplay: 'muted'});  // stock configuration
  watchFirstFrame(player.tech({IWillNotUseThisInPlugins: true}).el());
  player.on('error', () => bench.errors.push(String(player.error() && player.error().message)));
  player.src({src, type: 'application/x-mpegURL'});
};
</script></body></html>""",
}
PAGE_PATHS = {"hls.js": "/hlsjs.html", "Shaka Player": "/shaka.html", "video.js/VHS": "/videojs.html"}

# Segments as hlskit names them (MPS naming): <DEF>/index-00001.ts or .m4s (fMP4)
SEGMENT = re.compile(r"/([^/]+)/index-(\d+)\.(?:ts|m4s)")
RESOURCES = """() => performance.getEntriesByType('resource').map((e) => ({
  name: e.name, start: e.startTime, end: e.responseEnd}))"""
# What the Network Information API tells the page (VHS's start estimate by default), Mb/s.
DOWNLINK = "() => navigator.connection ? navigator.connection.downlink : null"
# Firefox and Safari have no Network Information API; Shaka and VHS then start from fixed estimates.
HIDE_NETWORK_INFORMATION = "Object.defineProperty(Navigator.prototype, 'connection', {get: () => undefined});"
# Rebuffering after the first frame: 'waiting' events of the page's one <video>, on the page clock.
WATCH_STALLS = """() => { bench.stalls = [];
  document.querySelector('video').addEventListener('waiting', () => {
    if (bench.firstFrame !== null) bench.stalls.push(performance.now()); }); }"""


def other_origin_server(size: tuple[int, int] = (640, 360)) -> ThreadingHTTPServer:
    """A second origin serving only the test pages and the players' npm files.

    ``size``: the <video> element's size. It matters to VHS only: its stock
    limitRenditionByPlayerDimensions never picks a rendition larger than the element needs."""
    dims = f'width="{size[0]}" height="{size[1]}"'
    files = {
        path: (PAGES[name] % COMMON).replace('width="640" height="360"', dims).encode()
        for name, path in PAGE_PATHS.items()
    }
    for path, file in ASSETS.items():
        if not file.is_file():
            raise SystemExit(f"{file} is missing: run `cd player && npm ci` first.")
        files[path] = file.read_bytes()

    kinds = {".html": "text/html", ".css": "text/css"}
    return serve_files({path: (body, kinds.get(Path(path).suffix, "text/javascript")) for path, body in files.items()})


def reorder_master(text: str, first: str) -> str:
    """The same master with the variant of definition ``first`` moved to the top."""
    lines = text.splitlines()
    head, variants, tail = [], [], []
    i = 0
    while i < len(lines):
        if lines[i].startswith("#EXT-X-STREAM-INF"):
            variants.append((lines[i], lines[i + 1]))
            i += 2
        elif variants:
            tail.append(lines[i])
            i += 1
        else:
            head.append(lines[i])
            i += 1
    variants.sort(key=lambda v: not v[1].startswith(f"{first}/"))
    return "\n".join(head + [x for v in variants for x in v] + tail) + "\n"


def build_package(
    work: Path, height: int, seconds: float, ladder: str, segment_duration: int = 6
) -> tuple[str, str, object, list[str]]:
    """(media base URL, token, server, definitions lowest first) for a served sample package."""
    home, out = work / "home", work / "out"
    out.mkdir(parents=True, exist_ok=True)
    os.environ.update(HLSKIT_HOME=str(home), HLSKIT_X264_PRESET="veryfast")
    os.environ.pop("HLSKIT_CONFIG", None)
    settings = load_settings(media_root=str(out)).replace(allowed_origins="self,*")
    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    base = f"http://127.0.0.1:{server.port}"
    source = work / "sample.mp4"
    width = height * 16 // 9
    subprocess.run(sample_args(ffmpeg_exe(), str(source), width, height, seconds, 30), check=True, capture_output=True)
    options = PackageOptions(
        ladder=ladder, segment_duration=segment_duration, content_id="bench", key_url=f"{base}/keys"
    )
    result = run_package(str(source), str(out), settings, options)
    if not result.ok:
        raise SystemExit(f"packaging failed: {[j.message for j in result.failed]}")
    manifest = json.loads((Path(result.dir) / "hlskit.json").read_text())
    names = [d["name"] for d in manifest["definitions"]]
    master = (Path(result.dir) / "master.m3u8").read_text()
    for name in names:
        (Path(result.dir) / f"master-{name}.m3u8").write_text(reorder_master(master, name))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"{base}/media/bench", make_token(token_secret(settings.token_config()), "bench", 3600), server, names


def serve_package(folder: Path) -> tuple[str, str, object]:
    """(media base URL, token, server) for a package made by `hlskit package ... --key-url /keys`.

    The media root is the package's parent folder; the keys and the token secret come from the
    home in HLSKIT_HOME (the one the package was made with)."""
    os.environ.pop("HLSKIT_CONFIG", None)
    settings = load_settings(media_root=str(folder.parent)).replace(allowed_origins="self,*")
    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cid = folder.name
    return (
        f"http://127.0.0.1:{server.port}/media/{cid}",
        make_token(token_secret(settings.token_config()), cid, 3600),
        server,
    )


def package_facts(folder: Path) -> dict:
    """What the master and the files on disk say: variants in master order, sizes, durations."""
    master = (folder / "master.m3u8").read_text()
    variants = []
    lines = master.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF"):
            attrs = dict(re.findall(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)', line.split(":", 1)[1]))
            name = lines[i + 1].split("/")[0]
            segs = sorted([*(folder / name).glob("index-*.ts"), *(folder / name).glob("index-*.m4s")])
            variants.append(
                {
                    "name": name,
                    "bandwidth": int(attrs.get("BANDWIDTH", 0)),
                    "resolution": attrs.get("RESOLUTION", ""),
                    "segments": len(segs),
                    "bytes": sum(f.stat().st_size for f in segs),
                    "first_segment_bytes": segs[0].stat().st_size if segs else 0,
                }
            )
    playlist = (folder / variants[0]["name"] / "index.m3u8").read_text() if variants else ""
    target = re.search(r"#EXT-X-TARGETDURATION:(\d+)", playlist)
    return {
        "variants": variants,  # master order: the first is where players without an estimate start
        "names": sorted(
            (v["name"] for v in variants), key=lambda n: next(v["bandwidth"] for v in variants if v["name"] == n)
        ),
        "target_duration": int(target.group(1)) if target else None,
        "bytes": sum(v["bytes"] for v in variants),
    }


def play_once(
    browser,
    page_url: str,
    src: str,
    slow_s: float,
    after_s: float,
    top: str,
    media_root: Path | None = None,
    size: tuple[int, int] = (640, 360),
    release_kbps: int | None = None,
    hide_network_information: bool = False,
) -> dict:
    """One session: 700 kb/s from the start for ``slow_s``, then ``release_kbps`` (None: no limit)
    for ``after_s``. ``hide_network_information``: no navigator.connection, as in Firefox and Safari.

    ``media_root``: the folder /media/ serves, to size each requested segment from its file."""
    context = browser.new_context(viewport={"width": max(800, size[0] + 40), "height": max(500, size[1] + 40)})
    try:
        if hide_network_information:
            context.add_init_script(HIDE_NETWORK_INFORMATION)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        page.goto(page_url)
        page.wait_for_function("() => typeof window.startPlayer === 'function'")
        throttle(cdp, SLOW_KBPS)
        page.evaluate("(src) => startPlayer(src)", src)
        page.evaluate(WATCH_STALLS)
        downlink = page.evaluate(DOWNLINK)
        page.wait_for_timeout(slow_s * 1000)
        throttle(cdp, release_kbps)
        release = page.evaluate("performance.now()")
        page.wait_for_timeout(after_s * 1000)
        b = page.evaluate("() => ({...bench, version: version(), time: document.querySelector('video').currentTime})")
        entries = page.evaluate(RESOURCES)
    finally:
        context.close()
    segments = [(SEGMENT.search(e["name"]).group(1), e) for e in entries if SEGMENT.search(e["name"])]
    segments.sort(key=lambda s: s[1]["start"])
    # "LD/1 LD/3 LD/5 LD/2": the order of the requests before the release (Shaka's caption probe
    # showed as 1, 3, 5 on fMP4 masters without CLOSED-CAPTIONS; docs/clients.md).
    slow_order = [f"{n}/{int(SEGMENT.search(e['name']).group(2))}" for n, e in segments if e["start"] < release]
    after = [name for name, e in segments if e["start"] >= release]
    climb = after.index(top) if top in after else None
    top_at = next((e["start"] for name, e in segments if e["start"] >= release and name == top), None)

    def size(url: str) -> int:
        if media_root is None:
            return 0
        path = urlparse(url).path.removeprefix("/media/")
        try:
            return (media_root / path).stat().st_size
        except OSError:
            return 0

    first_frame = b["firstFrame"]
    return {
        "version": b["version"],
        "ttff": None if first_frame is None else (first_frame - b["start"]) / 1000,
        "requests": len(segments),
        "bytes": sum(size(e["name"]) for _, e in segments),
        "bytes_to_first_frame": sum(
            size(e["name"]) for _, e in segments if first_frame is not None and e["end"] <= first_frame
        ),
        "top_after_s": None if top_at is None else (top_at - release) / 1000,
        "stalls": len(b.get("stalls") or []),
        "downlink": downlink,
        "first": segments[0][0] if segments else None,
        "slow": [name for name, e in segments if e["start"] < release],
        "slow_order": slow_order,
        "after": after,
        "climb": climb,
        "errors": b["errors"],
        "played": b["time"],
    }


def machine() -> str:
    cpu = "?"
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    chromium = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True).stdout.strip()
    load = "load average %.1f %.1f %.1f" % os.getloadavg()  # timings on a shared machine vary with it
    return f"{platform.node()} · {os.cpu_count()} CPUs ({cpu}) · {platform.system()} {platform.release()} · {chromium} · {load}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--height", type=int, default=1080)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--segment-duration", type=int, default=6, help="for the ladders this script packages")
    ap.add_argument("--slow", type=float, default=10, help="seconds at 700 kb/s from the start")
    ap.add_argument("--after", type=float, default=20, help="seconds released after that")
    ap.add_argument(
        "--release-kbps",
        type=int,
        default=None,
        help="the rate after the slow phase (default: no limit; hls.js weighs each bandwidth sample by "
        "its download time, so near-instant loads on the loopback barely move its estimate)",
    )
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument(
        "--orders",
        default=None,
        help="first variants to try: master (the package's own), lowest and/or definition names "
        "(default: lowest,HD; with --packages: master)",
    )
    ap.add_argument("--ladders", default="auto,samples/ladder.toml", help="ladders to package (comma-separated)")
    ap.add_argument(
        "--packages",
        default="",
        help="LABEL=DIR,... packages already made (`hlskit package --key-url /keys`) to compare side "
        "by side instead of packaging --ladders",
    )
    ap.add_argument("--home", default=None, help="the hlskit home holding --packages' keys (default: $HLSKIT_HOME)")
    ap.add_argument("--players", default=",".join(PAGES))
    ap.add_argument(
        "--hide-network-information",
        action="store_true",
        help="pages without navigator.connection (as Firefox and Safari): Shaka and VHS start from their fixed estimates",
    )
    ap.add_argument("--video-size", default="640x360", help="the <video> element's WIDTHxHEIGHT on every page")
    ap.add_argument("--write", action="store_true", help="write the results (Markdown) to --out")
    ap.add_argument("--out", type=Path, default=RESULTS, help=f"default {RESULTS.relative_to(ROOT)}")
    args = ap.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    orders = (args.orders or ("master" if args.packages else "lowest,HD")).split(",")
    if args.home:
        os.environ["HLSKIT_HOME"] = args.home

    work = Path(tempfile.mkdtemp(prefix="bench-players-"))
    size = tuple(int(x) for x in args.video_size.lower().split("x"))
    other = other_origin_server(size)
    origin = f"http://127.0.0.1:{other.server_address[1]}"
    targets, servers = [], []  # one target per (package, order): label, src, names, media root, facts
    pw, browser = launch_chromium()
    rows = []
    try:
        if args.packages:
            for item in args.packages.split(","):
                label, _, folder = item.rpartition("=")
                folder = Path(folder).resolve()
                media, token, server = serve_package(folder)
                servers.append(server)
                facts = package_facts(folder)
                names = facts["names"]
                master = (folder / "master.m3u8").read_text()
                for name in names:
                    (folder / f"master-{name}.m3u8").write_text(reorder_master(master, name))
                print(
                    f"{label or folder.name}: {folder}, {facts['target_duration']} s target, master order "
                    + ", ".join(f"{v['name']} {v['bandwidth'] // 1000} kb/s" for v in facts["variants"])
                )
                for order in orders:
                    first = (
                        facts["variants"][0]["name"] if order == "master" else names[0] if order == "lowest" else order
                    )
                    if first not in names:
                        continue
                    playlist = "master.m3u8" if order == "master" else f"master-{first}.m3u8"
                    src = f"{media}/{playlist}?{urlencode({'token': token})}"
                    targets.append((label or folder.name, first, src, names, folder.parent, facts))
        else:
            for ladder in args.ladders.split(","):
                t = time.perf_counter()
                media, token, server, names = build_package(
                    work / re.sub(r"\W", "_", ladder), args.height, args.seconds, ladder, args.segment_duration
                )
                servers.append(server)
                folder = work / re.sub(r"\W", "_", ladder) / "out" / "bench"
                print(
                    f"packaged {args.height}p {args.seconds:g} s, ladder {ladder} ({', '.join(names)}) "
                    f"in {time.perf_counter() - t:.0f} s"
                )
                for order in orders:
                    first = names[0] if order in ("lowest", "master") else order
                    if first not in names:
                        continue
                    src = f"{media}/master-{first}.m3u8?{urlencode({'token': token})}"
                    label = f"{ladder} ({', '.join(names)})"
                    targets.append((label, first, src, names, folder.parent, package_facts(folder)))
        # Interleaved: run 1 of every target and player, then run 2, ...
        for run in range(args.runs):
            for label, first, src, names, root, facts in targets:
                for player in args.players.split(","):
                    r = play_once(
                        browser,
                        origin + PAGE_PATHS[player],
                        src,
                        args.slow,
                        args.after,
                        names[-1],
                        root,
                        size,
                        args.release_kbps,
                        args.hide_network_information,
                    )
                    r.update(player=player, ladder=label, order=first, run=run + 1, load=os.getloadavg()[0])
                    r["facts"] = facts
                    rows.append(r)
                    ttff = "never" if r["ttff"] is None else f"{r['ttff']:.2f} s"
                    print(
                        f"run {run + 1} {label:<14} {first:>5} first  {player:<13} {r['version']:<8} first frame {ttff:>8}"
                        f"  first {r['first']}  slow {' '.join(r['slow_order'])}  after {r['after']}  climb {r['climb']}"
                        f"  {r['bytes'] / 1e6:.2f} MB/{r['requests']} req  stalls {r['stalls']}  errors {r['errors']}"
                        f"  load {r['load']:.1f}  downlink {r['downlink']}",
                        flush=True,
                    )
                    (work / "rows.json").write_text(json.dumps(rows, indent=1))
    finally:
        for server in servers:
            server.shutdown()
        browser.close()
        pw.stop()
        other.shutdown()
    print(f"rows: {work / 'rows.json'}")
    if args.write:
        write_results(rows, args)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summary(rows: list[dict]) -> list[str]:
    """One line per (package, first variant, player): medians over the runs, every run's value."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["ladder"], r["order"], r["player"]), []).append(r)
    out = [
        "| package | first variant | player | first frame, median (runs) | ≤ 4 s | first segment | "
        "climb after release (runs) | highest after release (runs) | top after release, median | MB fetched, median | segment requests | "
        "MB before first frame | stalls |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (label, order, player), rs in groups.items():
        rank = rs[0]["facts"]["names"]  # lowest first
        highest = ", ".join(max(r["after"], key=rank.index) if r["after"] else "–" for r in rs)
        ttffs = [r["ttff"] for r in rs if r["ttff"] is not None]
        med = _median(ttffs)
        runs = ", ".join("none" if r["ttff"] is None else f"{r['ttff']:.2f}" for r in rs)
        ok = sum(1 for r in rs if r["ttff"] is not None and r["ttff"] <= 4.0)
        firsts = "/".join(sorted({str(r["first"]) for r in rs}))
        climbs = ", ".join("–" if r["climb"] is None else str(r["climb"]) for r in rs)
        tops = _median([r["top_after_s"] for r in rs if r["top_after_s"] is not None])
        out.append(
            f"| {label} | {order} | {player} | {'none' if med is None else f'{med:.2f} s'} ({runs}) | {ok}/{len(rs)} | "
            f"{firsts} | {climbs} | {highest} | {'not reached' if tops is None else f'{tops:.1f} s'} | "
            f"{_median([r['bytes'] / 1e6 for r in rs]):.2f} | {_median([r['requests'] for r in rs]):g} | "
            f"{_median([r['bytes_to_first_frame'] / 1e6 for r in rs]):.2f} | {sum(r['stalls'] for r in rs)} |"
        )
    return out


def packages_table(rows: list[dict]) -> list[str]:
    """What each package is: target duration, variants in master order, first segment sizes."""
    seen, out = set(), []
    out += [
        "| package | target duration | variants (master order): BANDWIDTH, first segment | segments on disk |",
        "|---|---|---|---|",
    ]
    for r in rows:
        if r["ladder"] in seen:
            continue
        seen.add(r["ladder"])
        f = r["facts"]
        variants = "; ".join(
            f"{v['name']} {v['resolution']} {v['bandwidth'] / 1000:.0f} kb/s, {v['first_segment_bytes'] / 1000:.0f} KB"
            for v in f["variants"]
        )
        count = sum(v["segments"] for v in f["variants"])
        out.append(
            f"| {r['ladder']} | {f['target_duration']} s | {variants} | {count} files, {f['bytes'] / 1e6:.1f} MB |"
        )
    return out


def write_results(rows: list[dict], args) -> None:
    loads = [r["load"] for r in rows]
    out = [
        "## Players on another origin: first frame at 700 kb/s, climb after release (bench/players.py)",
        "",
        f"Machine: {machine()}. Date: {time.strftime('%Y-%m-%d')}. 1-minute load during the runs: "
        f"{min(loads):.1f}–{max(loads):.1f}.",
        "",
        f"Packages: the sample clip (`hlskit sample`: motion and fine detail) at {args.height}p, "
        f"{args.seconds:g} s, AES-128, x264 veryfast. Each player with its default settings on a page of "
        f"another origin; Chromium's network emulation holds {SLOW_KBPS} kb/s (20 ms latency) for "
        f"{args.slow:g} s from the player's start, then "
        + ("unthrottled" if args.release_kbps is None else f"{args.release_kbps} kb/s")
        + f" for {args.after:g} s; the `<video>` element is "
        f"{args.video_size}"
        + ("; navigator.connection hidden (as in Firefox and Safari)" if args.hide_network_information else "")
        + ". First frame: "
        "player start → first presented frame (requestVideoFrameCallback), page clock. Climb: segments "
        "requested after the release before the first one of the top definition (– : not reached before "
        "the clip ended). MB fetched: the segment files the player requested, sizes on disk. "
        f"{args.runs} run(s) each, interleaved.",
        "",
        *packages_table(rows),
        "",
        *summary(rows),
        "",
        "Every session:",
        "",
        "| run | package | first variant | player | version | first frame | first segment | at 700 kb/s | after release | climb | MB | stalls |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ttff = "none" if r["ttff"] is None else f"{r['ttff']:.2f} s"
        climb = "not reached" if r["climb"] is None else str(r["climb"])
        out.append(
            f"| {r['run']} | {r['ladder']} | {r['order']} | {r['player']} | {r['version']} | {ttff} | {r['first']} | "
            f"{' '.join(r['slow_order'])} | {' '.join(r['after'])} | {climb} | {r['bytes'] / 1e6:.2f} | {r['stalls']} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(out) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
