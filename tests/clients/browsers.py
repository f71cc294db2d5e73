"""The npm players (hls.js, Shaka Player, video.js/VHS, as pinned in player/package.json) with
their stock settings, on a page of another origin, in headless Chromium.

The page records what the <video> element presented: every frame's size
(requestVideoFrameCallback, so a switch of variant shows as a new size), the decoded frame count
(getVideoPlaybackQuality), whether it reached 'ended', and the player's fatal errors.
"""

from __future__ import annotations

import time
from http.server import ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.staticsite import serve_files

NPM = Path(__file__).resolve().parents[2] / "player" / "node_modules"
ASSETS = {
    "/hls.min.js": NPM / "hls.js" / "dist" / "hls.min.js",
    "/shaka-player.compiled.js": NPM / "shaka-player" / "dist" / "shaka-player.compiled.js",
    "/video.min.js": NPM / "video.js" / "dist" / "video.min.js",
}
WATCH = """<script>
window.seen = {sizes: [], errors: [], ended: false};
function watch(video) {
  const frame = (now, meta) => {
    const last = seen.sizes[seen.sizes.length - 1];
    if (!last || last[0] !== meta.width || last[1] !== meta.height) seen.sizes.push([meta.width, meta.height]);
    video.requestVideoFrameCallback(frame);
  };
  video.requestVideoFrameCallback(frame);
  video.addEventListener('ended', () => { seen.ended = true; });
}
</script>"""
PAGES = {
    "hls.js": """<video id="v" muted playsinline></video><script src="/hls.min.js"></script><script>
window.play = (src) => { const v = document.getElementById('v'); watch(v);
  const hls = new Hls();
  hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) seen.errors.push(d.details); });
  hls.loadSource(src); hls.attachMedia(v); v.play().catch(() => {}); };</script>""",
    "Shaka Player": """<video id="v" muted playsinline autoplay></video><script src="/shaka-player.compiled.js"></script>
<script>shaka.polyfill.installAll();
window.play = (src) => { const v = document.getElementById('v'); watch(v);
  const player = new shaka.Player();
  player.addEventListener('error', (e) => seen.errors.push(String(e.detail && e.detail.code)));
  player.attach(v).then(() => player.load(src)).then(() => v.play().catch(() => {}))
    .catch((e) => seen.errors.push(String(e.code || e))); };</script>""",
    "video.js/VHS": """<video id="v" class="video-js" muted playsinline></video><script src="/video.min.js"></script>
<script>
window.play = (src) => {
  const player = videojs('v', {muted: true, autoplay: 'muted'});
  watch(player.tech({IWillNotUseThisInPlugins: true}).el());
  player.on('error', () => seen.errors.push(String(player.error() && player.error().message)));
  player.src({src, type: 'application/x-mpegURL'}); };</script>""",
}
PLAYERS = tuple(PAGES)
STATE = """() => { const v = document.querySelector('video');
  return {...seen, time: v.currentTime, frames: v.getVideoPlaybackQuality().totalVideoFrames}; }"""


def page_server() -> ThreadingHTTPServer:
    """Another origin (a second port) serving the three pages and the players' npm files."""
    files = {}
    for path, file in ASSETS.items():
        assert file.is_file(), f"{file} is missing: run `cd player && npm ci` (make test does)."
        files[path] = (file.read_bytes(), "text/javascript")
    for i, body in enumerate(PAGES.values()):
        files[f"/{i}.html"] = (f"<!doctype html><html><body>{WATCH}{body}</body></html>".encode(), "text/html")

    return serve_files(files)


def play_all(browser, origin: str, sessions: list[tuple[str, str]], timeout: float = 30) -> list[dict]:
    """Play every (player, src) at once, one page each, until each page's video has ended or its
    player reported a fatal error, or ``timeout`` seconds; the state each page reached, in order.
    (Playing them side by side keeps the whole matrix to a few seconds per batch.)"""
    context = browser.new_context()
    try:
        pages = []
        for player, src in sessions:
            page = context.new_page()
            page.goto(f"{origin}/{PLAYERS.index(player)}.html")
            page.evaluate("(src) => play(src)", src)
            pages.append(page)
        deadline = time.monotonic() + timeout
        for page in pages:
            left = max(0.1, deadline - time.monotonic())
            try:
                page.wait_for_function("() => seen.ended || seen.errors.length > 0", timeout=left * 1000)
            except PlaywrightTimeout:
                pass  # report the state it reached
        return [page.evaluate(STATE) for page in pages]
    finally:
        context.close()
