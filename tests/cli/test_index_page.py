"""The index page at `/` of `hlskit serve`, over real HTTP: every package with its definitions,
duration, encryption and a play link; broken manifests skipped with a note; everything escaped;
and `serve` prints that URL and refuses a bad --port in one sentence."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from hlskit.config import load_settings
from hlskit.engines.encode import ffmpeg_exe
from hlskit.server import create_app
from hlskit.stores.keys import load_master_key
from tests.conftest import _make_clip

from .conftest import clean_env, hlskit


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    """out/clip: a real encrypted package of a 320x180, 2 s clip."""

    base = tmp_path_factory.mktemp("index")
    (base / ".hlskit").mkdir(mode=0o700)
    _make_clip(ffmpeg_exe(), base / "clip.mp4", seconds=2)
    done = hlskit("package", "clip.mp4", "--out", "out", "--content-id", "clip", "--segment-duration", "1", cwd=base)
    assert done.returncode == 0, done.stderr
    return base / "out" / "clip"


def serve(media_root: Path, home: Path, production: bool = False):
    settings = load_settings(media_root=str(media_root), home=str(home))
    if production:
        settings = settings.replace(production=True, token_secret="t" * 20 + "0123456789abcdefghij")
        load_master_key(settings.master_key_file)  # provisioned, as production requires
    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.port}"


@pytest.mark.slow
def test_index_lists_packages_skips_broken_ones_and_escapes_everything(package, tmp_path):
    media = tmp_path / "media"
    shutil.copytree(package, media / "clip")
    manifest = json.loads((package / "hlskit.json").read_text())
    # A second package whose manifest carries markup where a definition name goes.
    evil = dict(manifest, content_id="evil", encryption={"method": "NONE"})
    evil["master"] = dict(
        manifest["master"],
        variants=[dict(v, definition="<script>alert(1)</script>") for v in manifest["master"]["variants"]],
    )
    (media / "evil").mkdir()
    (media / "evil" / "hlskit.json").write_text(json.dumps(evil))
    (media / "broken").mkdir()
    (media / "broken" / "hlskit.json").write_text("{not json")
    (media / "renamed").mkdir()
    (media / "renamed" / "hlskit.json").write_text(json.dumps(manifest))
    (media / "half").mkdir()
    (media / "half" / "hlskit.json").write_text(
        json.dumps({"content_id": "half", "definitions": [{"playlist": "LD/index.m3u8"}]})
    )
    (media / "not-a-package").mkdir()

    server, base = serve(media, tmp_path / "home")
    try:
        page = requests.get(base + "/", timeout=30)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        html = page.text
        assert re.findall(r'data-content-id="([^"]+)"', html) == ["clip", "evil"]
        row = html[html.index('data-content-id="clip"') : html.index('data-content-id="evil"')]
        variant = manifest["master"]["variants"][0]
        assert f"LD {variant['resolution']} " in row and "kb/s" in row
        assert "<td>0:02</td>" in row and "<td>AES-128</td>" in row
        assert 'href="/play/clip"' in row and 'href="/media/clip/master.m3u8"' in row
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<td>none</td>" in html[html.index('data-content-id="evil"') :]
        assert "not published (no master.m3u8)" in html  # evil has no playlists
        skipped = html[html.index('id="skipped"') :]
        assert "<code>broken</code>: hlskit.json is not valid JSON" in skipped
        assert "<code>renamed</code>: it holds content &#39;clip&#39;: rename the folder to clip" in skipped
        assert "<code>half</code>: hlskit.json is not an hlskit manifest" in skipped
        assert "not-a-package" not in html
        assert manifest["source"]["path"] not in html and str(tmp_path) not in html  # no source or server paths
        # The play link works: the player page, with a minted token.
        play = requests.get(base + "/play/clip", timeout=30)
        assert play.status_code == 200 and '"src": "/media/clip/master.m3u8"' in play.text
    finally:
        server.shutdown()


def test_index_with_no_packages_and_in_production(tmp_path):
    media = tmp_path / "empty"
    media.mkdir()
    server, base = serve(media, tmp_path / "home")
    try:
        html = requests.get(base + "/", timeout=30).text
        assert "Packages in <code>empty</code>: 0." in html and 'id="empty"' in html and "hlskit package" in html
    finally:
        server.shutdown()
    (media / "secret-film").mkdir()
    (media / "secret-film" / "hlskit.json").write_text('{"content_id": "secret-film", "definitions": []}')
    server, base = serve(media, tmp_path / "home2", production=True)
    try:
        page = requests.get(base + "/", timeout=30)
        assert page.status_code == 200 and 'id="production"' in page.text and "secret-film" not in page.text
    finally:
        server.shutdown()


@pytest.mark.slow
def test_serve_prints_the_index_url_that_answers(package, tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "hlskit", "serve", str(package.parent), "--port", "0"],
        cwd=package.parent.parent,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        first, second = proc.stdout.readline(), proc.stdout.readline()
        url = re.search(r" at (http://127\.0\.0\.1:\d+/)$", first.rstrip()).group(1)
        assert second.strip() == f"packages: {url}  (each with a play link)"
        page = requests.get(url, timeout=30)
        assert page.status_code == 200 and 'href="/play/clip"' in page.text
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.parametrize("port", ["80000", "-1", "abc", "8000.5", "65536"])
def test_a_bad_port_is_one_sentence(port, tmp_path):
    for command in (["serve", str(tmp_path)], ["play", str(tmp_path)]):
        done = hlskit(*command, "--port", port, cwd=tmp_path)
        assert done.returncode == 2 and "Traceback" not in done.stderr and done.stdout == ""
        assert done.stderr == (
            f"error: --port must be a whole number from 1 to 65535 (or 0 for any free port), got {port!r}: "
            "pass another --port.\n"
        )
