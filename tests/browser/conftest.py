"""Browser fixtures: a real hlskit server on 127.0.0.1 serving an encrypted 3-definition package
long enough for ABR, and real headless Chromium driven by Playwright.

Nothing here skips: a missing Chromium, Playwright or hls.js install fails with the command
that fixes it, because these tests must run in CI.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from werkzeug.serving import make_server

from hlskit.config import load_settings
from hlskit.domain.plan import PackageOptions
from hlskit.engines.encode import ffmpeg_exe
from hlskit.engines.sample import sample_args
from hlskit.keys.tokens import make_token, token_secret
from hlskit.pipeline import run_package
from hlskit.server import create_app
from tests.staticsite import serve_files

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


@dataclass
class Served:
    base: str  # http://127.0.0.1:<port>
    content_id: str
    token: str
    levels: list[dict]  # hlskit.json definitions, lowest first
    home: Path
    dir: Path  # out/<content-id>

    def play_url(self, token: str | None = None) -> str:
        return f"{self.base}/play/{self.content_id}?{urlencode({'token': token or self.token})}"


@pytest.fixture(scope="session")
def served(tmp_path_factory) -> Served:
    """A 36 s 1280x720 clip with real detail, packaged (LD/SD/HD, 2 s segments, AES-128) with
    key URIs pointing at a create_app() server started here on a free port."""
    base = tmp_path_factory.mktemp("browser")
    home, out = base / "home", base / "out"
    out.mkdir()
    saved = {k: os.environ.get(k) for k in ("HLSKIT_HOME", "HLSKIT_X264_PRESET", "HLSKIT_CONFIG")}
    os.environ.update(HLSKIT_HOME=str(home), HLSKIT_X264_PRESET="ultrafast")
    os.environ.pop("HLSKIT_CONFIG", None)
    try:
        settings = load_settings(media_root=str(out))
        server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
        base_url = f"http://127.0.0.1:{server.port}"
        source = base / "abr.mp4"
        subprocess.run(
            sample_args(ffmpeg_exe(), str(source), 1280, 720, 36, 24, preset="ultrafast"),
            check=True,
            capture_output=True,
        )
        options = PackageOptions(ladder="LD,SD,HD", segment_duration=2, content_id="abr", key_url=f"{base_url}/keys")
        result = run_package(str(source), str(out), settings, options)
        assert result.ok, [j.message for j in result.failed]
        package_dir = Path(result.dir)
        token = make_token(token_secret(settings.token_config()), "abr", 3600)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    manifest = json.loads((package_dir / "hlskit.json").read_text())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Served(base_url, "abr", token, manifest["definitions"], home, package_dir)
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
    page.console_messages = messages
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# --- a fast-start package and a page of another origin (issue: a fast start in any player) -----

STOCK_HLS_PAGE = """<!doctype html><html><body>
<video id="v" muted playsinline width="640" height="360"></video>
<script src="/hls.min.js"></script>
<script>
// Stock hls.js: no configuration at all. The page's own clock times the first frame.
window.bench = {start: null, firstFrame: null, fragments: [], errors: []};
window.startPlayer = (src) => {
  const video = document.getElementById('v');
  bench.start = performance.now();
  video.requestVideoFrameCallback((now) => { if (bench.firstFrame === null) bench.firstFrame = now; });
  const hls = new Hls();
  window.hls = hls;
  hls.on(Hls.Events.FRAG_LOADED, (_, d) => bench.fragments.push({level: d.frag.level, sn: d.frag.sn, at: performance.now()}));
  hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) bench.errors.push(d.details); });
  hls.loadSource(src);
  hls.attachMedia(video);
  video.play().catch(() => {});
};
</script></body></html>"""


# Stock Shaka Player (the npm release pinned in player/package.json): no configuration either.
# window.start(src) attaches and loads; window.seen collects errors.
STOCK_SHAKA_PAGE = """<!doctype html><html><body>
<video id="v" muted playsinline autoplay width="320" height="180"></video>
<script src="/shaka-player.compiled.js"></script>
<script>
shaka.polyfill.installAll();
window.seen = {errors: [], loaded: false};
window.start = async (src) => {
  const video = document.getElementById('v');
  const player = new shaka.Player();
  window.player = player;
  player.addEventListener('error', (e) => seen.errors.push(String(e.detail && e.detail.code)));
  await player.attach(video);
  try { await player.load(src); seen.loaded = true; } catch (e) { seen.errors.push(String(e.code || e)); }
  video.play().catch(() => {});
};
</script></body></html>"""


@pytest.fixture(scope="session")
def fast_start(tmp_path_factory) -> Served:
    """An 18 s 1280x720 clip packaged with the defaults (auto ladder LD/SD/HD, 4 s segments,
    lowest variant first), AES-128, served by an app whose key CORS lets any origin fetch keys
    with a token in the URL."""
    base = tmp_path_factory.mktemp("faststart")
    home, out = base / "home", base / "out"
    out.mkdir()
    saved = {k: os.environ.get(k) for k in ("HLSKIT_HOME", "HLSKIT_X264_PRESET", "HLSKIT_CONFIG")}
    os.environ.update(HLSKIT_HOME=str(home), HLSKIT_X264_PRESET="ultrafast")
    os.environ.pop("HLSKIT_CONFIG", None)
    try:
        settings = load_settings(media_root=str(out)).replace(allowed_origins="self,*")
        server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
        base_url = f"http://127.0.0.1:{server.port}"
        source = base / "fast.mp4"
        subprocess.run(
            sample_args(ffmpeg_exe(), str(source), 1280, 720, 18, 30, preset="ultrafast"),
            check=True,
            capture_output=True,
        )
        options = PackageOptions(content_id="fast", key_url=f"{base_url}/keys")  # the defaults: what users get
        result = run_package(str(source), str(out), settings, options)
        assert result.ok, [j.message for j in result.failed]
        token = make_token(token_secret(settings.token_config()), "fast", 3600)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    package_dir = Path(result.dir)
    manifest = json.loads((package_dir / "hlskit.json").read_text())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Served(base_url, "fast", token, manifest["definitions"], home, package_dir)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def other_origin() -> str:
    """http://127.0.0.1:<another port>: a plain static server with pages running stock hls.js and
    stock Shaka Player (the npm releases pinned in player/package.json), as a customer's site would."""
    hls_js = REPO / "player" / "node_modules" / "hls.js" / "dist" / "hls.min.js"
    shaka = REPO / "player" / "node_modules" / "shaka-player" / "dist" / "shaka-player.compiled.js"
    for path in (hls_js, shaka):
        assert path.is_file(), f"{path} is missing: run `cd player && npm ci` (make test does) first"
    files = {
        "/stock-hlsjs.html": (STOCK_HLS_PAGE.encode(), "text/html"),
        "/hls.min.js": (hls_js.read_bytes(), "text/javascript"),
        "/stock-shaka.html": (STOCK_SHAKA_PAGE.encode(), "text/html"),
        "/shaka-player.compiled.js": (shaka.read_bytes(), "text/javascript"),
    }

    server = serve_files(files)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
