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

    .venv/bin/python bench/players.py [--height 1080] [--seconds 30] [--runs 1] [--slow 10]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

from werkzeug.serving import make_server

from hlskit.cli.abrcheck import launch_chromium, throttle
from hlskit.config import load_settings
from hlskit.domain.plan import PackageOptions
from hlskit.engines.local import ffmpeg_exe
from hlskit.engines.sample import sample_args
from hlskit.keys.tokens import make_token, token_secret
from hlskit.pipeline import run_package
from hlskit.server import create_app

ROOT = Path(__file__).resolve().parents[1]
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

# Segments as hlskit names them (MPS naming): <DEF>/index-00001.ts
SEGMENT = re.compile(r"/([^/]+)/index-(\d+)\.ts")
RESOURCES = """() => performance.getEntriesByType('resource').map((e) => ({
  name: e.name, start: e.startTime, end: e.responseEnd, bytes: e.transferSize || e.encodedBodySize || 0}))"""


def other_origin_server() -> ThreadingHTTPServer:
    """A second origin serving only the test pages and the players' npm files."""
    files = {path: (PAGES[name] % COMMON).encode() for name, path in PAGE_PATHS.items()}
    for path, file in ASSETS.items():
        if not file.is_file():
            raise SystemExit(f"{file} is missing: run `cd player && npm ci` first.")
        files[path] = file.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            body = files.get(self.path.split("?")[0])
            if body is None:
                self.send_error(404)
                return
            kind = (
                "text/html"
                if self.path.endswith(".html")
                else "text/css"
                if self.path.endswith(".css")
                else "text/javascript"
            )
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


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


def build_package(work: Path, height: int, seconds: float, ladder: str) -> tuple[str, str, object, list[str]]:
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
    options = PackageOptions(ladder=ladder, segment_duration=6, content_id="bench", key_url=f"{base}/keys")
    result = run_package(str(source), str(out), settings, options)
    if not result.ok:
        raise SystemExit(f"packaging failed: {[j.message for j in result.failed]}")
    manifest = json.loads((Path(result.dir) / "hlskit.json").read_text())
    names = [d["name"] for d in manifest["definitions"]]
    master = (Path(result.dir) / "master.m3u8").read_text()
    for name in names:
        (Path(result.dir) / f"master-{name}.m3u8").write_text(reorder_master(master, name))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"{base}/media/bench", make_token(token_secret(settings), "bench", 3600), server, names


def play_once(browser, page_url: str, src: str, slow_s: float, after_s: float, top: str) -> dict:
    """One session: 700 kb/s from the start for ``slow_s``, then unthrottled for ``after_s``."""
    context = browser.new_context(viewport={"width": 800, "height": 500})
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        page.goto(page_url)
        page.wait_for_function("() => typeof window.startPlayer === 'function'")
        throttle(cdp, SLOW_KBPS)
        page.evaluate("(src) => startPlayer(src)", src)
        page.wait_for_timeout(slow_s * 1000)
        throttle(cdp, None)
        release = page.evaluate("performance.now()")
        page.wait_for_timeout(after_s * 1000)
        b = page.evaluate("() => ({...bench, version: version(), time: document.querySelector('video').currentTime})")
        entries = page.evaluate(RESOURCES)
    finally:
        context.close()
    segments = [(SEGMENT.search(e["name"]).group(1), e) for e in entries if SEGMENT.search(e["name"])]
    segments.sort(key=lambda s: s[1]["start"])
    after = [name for name, e in segments if e["start"] >= release]
    climb = after.index(top) if top in after else None
    return {
        "version": b["version"],
        "ttff": None if b["firstFrame"] is None else (b["firstFrame"] - b["start"]) / 1000,
        "first": segments[0][0] if segments else None,
        "slow": [name for name, e in segments if e["start"] < release],
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
    ap.add_argument("--slow", type=float, default=10, help="seconds at 700 kb/s from the start")
    ap.add_argument("--after", type=float, default=20, help="seconds unthrottled after that")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--orders", default="lowest,HD", help="first variants to try: lowest and/or definition names")
    ap.add_argument("--ladders", default="auto,samples/ladder.toml", help="ladders to package (comma-separated)")
    ap.add_argument("--players", default=",".join(PAGES))
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-players-"))
    other = other_origin_server()
    origin = f"http://127.0.0.1:{other.server_address[1]}"
    pw, browser = launch_chromium()
    rows = []
    try:
        for ladder in args.ladders.split(","):
            t = time.perf_counter()
            media, token, server, names = build_package(
                work / re.sub(r"\W", "_", ladder), args.height, args.seconds, ladder
            )
            print(
                f"packaged {args.height}p {args.seconds:g} s, ladder {ladder} ({', '.join(names)}) in {time.perf_counter() - t:.0f} s"
            )
            try:
                for order in args.orders.split(","):
                    first = names[0] if order == "lowest" else order
                    if first not in names:
                        continue
                    src = f"{media}/master-{first}.m3u8?{urlencode({'token': token})}"
                    for player in args.players.split(","):
                        for run in range(args.runs):
                            r = play_once(browser, origin + PAGE_PATHS[player], src, args.slow, args.after, names[-1])
                            r.update(player=player, ladder=f"{ladder} ({', '.join(names)})", order=first, run=run + 1)
                            rows.append(r)
                            ttff = "never" if r["ttff"] is None else f"{r['ttff']:.2f} s"
                            print(
                                f"{first:>6} first  {player:<13} {r['version']:<8} first frame {ttff:>8}  first {r['first']}"
                                f"  slow {r['slow']}  after {r['after']}  climb {r['climb']}  errors {r['errors']}"
                            )
            finally:
                server.shutdown()
    finally:
        browser.close()
        pw.stop()
        other.shutdown()
    (work / "rows.json").write_text(json.dumps(rows, indent=1))
    print(f"rows: {work / 'rows.json'}")
    if args.write:
        write_results(rows, args)


def write_results(rows: list[dict], args) -> None:
    out = [
        "## Players on another origin: first frame at 700 kb/s, climb after release (bench/players.py)",
        "",
        f"Machine: {machine()}. Date: {time.strftime('%Y-%m-%d')}.",
        "",
        f"Package: the sample clip (`hlskit sample`: motion and fine detail) at {args.height}p, "
        f"{args.seconds:g} s, 6 s segments, AES-128, x264 veryfast. Each player with its default settings on a page of "
        f"another origin; Chromium's network emulation holds {SLOW_KBPS} kb/s (20 ms latency) for "
        f"{args.slow:g} s from the player's start, then unthrottled for {args.after:g} s. First frame: "
        "player start → first presented frame (requestVideoFrameCallback), page clock. Climb: segments "
        "requested after the release before the first one of the top definition.",
        "",
        "| ladder | first variant | player | version | first frame | first segment | at 700 kb/s | after release | climb |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ttff = "none" if r["ttff"] is None else f"{r['ttff']:.2f} s"
        climb = "not reached" if r["climb"] is None else str(r["climb"])
        out.append(
            f"| {r['ladder']} | {r['order']} | {r['player']} | {r['version']} | {ttff} | {r['first']} | {' '.join(r['slow'])} | "
            f"{' '.join(r['after'])} | {climb} |"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(out) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
