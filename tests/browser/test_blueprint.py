"""The player blueprint without a browser: pages, the vendored hls.js, clear errors."""

from __future__ import annotations

import pytest

from hlskit.server import create_app, player


@pytest.fixture
def client(hlskit_env, tmp_path):
    return create_app(hlskit_env.replace(media_root=tmp_path)).test_client()


def test_play_page_points_at_the_package_and_local_hls_js(client):
    page = client.get("/play/talk")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert '"src": "/media/talk/master.m3u8"' in html and '"tokenMinted": true' in html
    assert '<script src="/player/vendor/hls.min.js">' in html and "cdn" not in html.lower()
    js = client.get("/player/vendor/hls.min.js")
    assert js.status_code == 200 and b"isSupported" in js.data
    assert client.get("/player/static/js/main.js").status_code == 200
    assert client.get("/player/vendor/package.json").status_code == 404


def test_play_any_url_and_bad_input(client):
    html = client.get("/play?src=https://cdn.example.com/a/master.m3u8&token=abc").get_data(as_text=True)
    assert '"src": "https://cdn.example.com/a/master.m3u8"' in html and '"token": "abc"' in html
    bad = client.get("/play?src=javascript:alert(1)")
    assert bad.status_code == 400 and "is not an http(s) URL" in bad.get_data(as_text=True)
    assert client.get("/play").status_code == 400
    assert client.get("/play/..%2Fetc").status_code in (400, 404)
    # One content-id rule (hlskit.domain.ids): dots are fine, a trailing newline is not.
    assert '"src": "/media/talk.v2/master.m3u8"' in client.get("/play/talk.v2").get_data(as_text=True)
    assert client.get("/play/talk%0A").status_code == 400


def test_production_never_mints_a_token(hlskit_env, tmp_path, monkeypatch):
    monkeypatch.setenv("HLSKIT_TOKEN_SECRET", "x" * 40)
    settings = hlskit_env.replace(media_root=tmp_path, production=True, token_secret="y" * 20 + "0123456789abcdefghij")
    settings.master_key_file.parent.mkdir(parents=True, exist_ok=True)
    settings.master_key_file.write_bytes(b"k" * 32)
    html = create_app(settings).test_client().get("/play/talk").get_data(as_text=True)
    assert '"token": null' in html and '"tokenMinted": false' in html


def test_missing_hls_js_says_how_to_install_it(client, monkeypatch, tmp_path):
    monkeypatch.setattr(player, "HLS_DIST", tmp_path / "nowhere")
    for url in ("/play/talk", "/player/vendor/hls.min.js"):
        resp = client.get(url)
        assert resp.status_code == 503
        assert "reinstall it" in resp.get_data(as_text=True)


def test_vendored_hls_js_is_the_pinned_npm_release():
    """The hls.js shipped in the package is byte for byte the npm release that player/package.json pins."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    lock = json.loads((root / "player" / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/hls.js"]["version"] == player.HLS_JS_VERSION
    npm_copy = root / "player" / "node_modules" / "hls.js" / "dist" / "hls.min.js"
    assert npm_copy.is_file(), "make test runs `npm ci` in player/ first"
    assert (player.HLS_DIST / "hls.min.js").read_bytes() == npm_copy.read_bytes()
    assert "Copyright" in (player.HLS_DIST / "hls.js.LICENSE").read_text()
