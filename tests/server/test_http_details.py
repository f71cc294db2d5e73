"""HTTP details an attack on the servers found wrong: a token ending in a line break, an empty
?token= hiding the Authorization header, JSON errors without their Allow/Content-Range headers,
playlists that advertised ranges and ignored them, a player page that a NaN buffer broke or any
site could frame, a damaged key store answered with 500 while /healthz said ok, and idle
connections that held `hlskit serve`'s threads for ever."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from hlskit.domain.settings import Settings
from hlskit.keys.tokens import make_token, token_secret
from hlskit.server import create_app, devserver
from hlskit.server.devserver import QueryFreeHandler
from hlskit.server.startup import _first_to_fail
from hlskit.stores.keys import KeyStore


@pytest.mark.slow  # the site's package is encoded
def test_a_token_with_a_trailing_line_break_is_malformed(site):
    key, cid = site.package.keys[0], site.package.content_id
    r = requests.get(site.key_url(key), params={"token": site.token() + "\n"})
    assert r.status_code == 403 and r.json()["code"] == "Token.Malformed"
    r = requests.get(f"{site.url}/media/{cid}/master.m3u8", params={"token": site.token() + "\n"})
    assert r.status_code == 400 and r.json()["code"] == "Token.Malformed"  # not written into the key URIs


@pytest.mark.slow  # the site's package is encoded
def test_an_empty_token_parameter_does_not_hide_the_header_or_cookie(site):
    key = site.package.keys[0]
    r = requests.get(site.key_url(key) + "?token=", headers={"Authorization": f"Bearer {site.token()}"})
    assert r.status_code == 200 and r.content == key.key
    r = requests.get(site.key_url(key) + "?token=", cookies={"hlskit_token": site.token()})
    assert r.status_code == 200 and r.content == key.key


@pytest.mark.slow  # the site's package is encoded
def test_json_errors_keep_allow_and_content_range(site):
    key, cid = site.package.keys[0], site.package.content_id
    r = requests.post(site.key_url(key))
    assert r.status_code == 405 and set(r.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "OPTIONS"}
    assert r.json()["code"] == "MethodNotAllowed"
    segment = next((site.package.dir / "LD").glob("*.ts"))
    r = requests.get(f"{site.url}/media/{cid}/LD/{segment.name}", headers={"Range": "bytes=999999999-"})
    assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{segment.stat().st_size}"


@pytest.mark.slow  # the site's package is encoded
def test_a_playlist_answers_the_range_it_advertises(site):
    cid = site.package.content_id
    whole = (site.package.dir / "master.m3u8").read_bytes()
    r = requests.get(
        f"{site.url}/media/{cid}/master.m3u8", headers={"Range": "bytes=0-9", "Accept-Encoding": "identity"}
    )
    assert r.status_code == 206 and r.content == whole[:10]
    assert r.headers["Content-Range"] == f"bytes 0-9/{len(whole)}"


@pytest.mark.slow  # the site's package is encoded
@pytest.mark.parametrize("buffer", ["nan", "inf", "1e999", "-5"])
def test_the_player_page_takes_only_a_finite_buffer_and_no_foreign_frame(site, buffer):
    r = requests.get(f"{site.url}/play/{site.package.content_id}", params={"buffer": buffer})
    assert r.status_code == 200
    config = re.search(r'<script[^>]*id="hlskit-config"[^>]*>(.*?)</script>', r.text, re.S)
    assert config is not None, r.text[:500]
    assert json.loads(config.group(1))["maxBufferLength"] is None  # JSON.parse took NaN nowhere
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in r.headers["Content-Security-Policy"]


def test_a_key_store_damaged_under_the_server_is_503_and_unhealthy(tmp_path):
    home = tmp_path / "home"
    settings = Settings(home=home, media_root=tmp_path)
    store = KeyStore.open(settings.store_config())
    key = store.create("talk")
    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.port}"
    try:
        assert requests.get(f"{url}/healthz").status_code == 200
        db = home / "keys.db"
        for leftover in home.glob("keys.db-*"):  # the WAL beside it would still answer
            leftover.unlink()
        db.write_bytes(os.urandom(4096))
        r = requests.get(f"{url}/healthz")
        assert r.status_code == 503 and r.json()["code"] == "Health.KeyStore"
        token = make_token(token_secret(settings.token_config()), "talk", 60)
        r = requests.get(f"{url}/keys/talk/{key.key_id}", params={"token": token})
        assert r.status_code == 503 and r.json()["code"] == "Key.StoreUnavailable"
        assert key.key.hex() not in r.text
        db.unlink()
        assert requests.get(f"{url}/healthz").status_code == 503
        assert not db.exists()  # not made again, empty and world-readable, by the next request
    finally:
        server.shutdown()
        server.server_close()


def test_a_stale_failure_marker_that_cannot_be_removed_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.gettempdir", lambda: str(tmp_path))
    (tmp_path / "hlskit-gunicorn-1-0.failed").mkdir()  # pid 1 did not start at 0: stale, and a folder
    assert _first_to_fail(os.getpid()) is True
    assert _first_to_fail(os.getpid()) is False  # this arbiter's marker is made once


def test_an_idle_connection_to_the_dev_server_is_closed(monkeypatch):
    monkeypatch.setattr(devserver, "IDLE_SECONDS", 0.5)
    server = make_server("127.0.0.1", 0, _tiny_app(), threaded=True, request_handler=QueryFreeHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and then nothing more
            started = time.monotonic()
            assert sock.recv(1024) == b""  # closed by the server, not by this client's 5 s
            assert time.monotonic() - started < 4
    finally:
        server.shutdown()
        server.server_close()


def _tiny_app() -> Flask:
    app = Flask(__name__)
    app.add_url_rule("/", "root", lambda: "ok")
    return app
