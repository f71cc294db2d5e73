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

from hlskit.cli.abrcheck import launch_chromium
from hlskit.config import load_settings
from hlskit.domain.errors import HlskitError
from hlskit.domain.plan import PackageOptions
from hlskit.engines.local import ffmpeg_exe
from hlskit.engines.sample import sample_args
from hlskit.keys.tokens import make_token, token_secret
from hlskit.pipeline import run_package
from hlskit.server import create_app

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
        token = make_token(token_secret(settings), "abr", 3600)
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


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium through Playwright; fails (never skips) when it is missing."""
    try:
        pw, chromium = launch_chromium()
    except HlskitError as exc:
        pytest.fail(exc.message, pytrace=False)
    yield chromium
    chromium.close()
    pw.stop()


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
