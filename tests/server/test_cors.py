"""CORS over real HTTP: allowed origins, credentials, wildcard for media, preflight."""

from __future__ import annotations

import json
import logging

import pytest
import requests

from hlskit.domain.errors import ConfigError
from hlskit.domain.settings import Settings
from hlskit.server import create_app
from tests.server.attacks import raw, send

pytestmark = pytest.mark.slow

PLAYER = "https://player.example"  # configured in the site fixture's allowed_origins
EVIL = "https://evil.example"


def preflight(url: str, origin: str, headers: str = "authorization") -> requests.Response:
    return requests.options(
        url,
        headers={"Origin": origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": headers},
    )


def test_key_preflight_from_an_allowed_origin(site):
    r = preflight(site.key_url(site.package.keys[0]), PLAYER)
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == PLAYER
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    assert "GET" in r.headers["Access-Control-Allow-Methods"]
    assert "authorization" in r.headers["Access-Control-Allow-Headers"].lower()
    assert "Origin" in r.headers["Vary"]


def test_key_preflight_from_another_origin_is_refused(site):
    r = preflight(site.key_url(site.package.keys[0]), EVIL)
    assert r.status_code == 403
    assert "Access-Control-Allow-Origin" not in r.headers


def test_key_get_with_cookie_from_allowed_origin_is_credentialed(site):
    key = site.package.keys[0]
    r = requests.get(site.key_url(key), cookies={"hlskit_token": site.token()}, headers={"Origin": PLAYER})
    assert r.content == key.key
    assert r.headers["Access-Control-Allow-Origin"] == PLAYER
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    other = requests.get(site.key_url(key), params={"token": site.token()}, headers={"Origin": EVIL})
    # The browser would not hand the key to that page: refused, not answered "ok".
    assert other.status_code == 403 and other.json()["code"] == "Cors.OriginNotAllowed"
    assert "Access-Control-Allow-Origin" not in other.headers and key.key not in other.content


def test_refusals_carry_cors_headers_so_players_can_read_them(site):
    r = requests.get(site.key_url(site.package.keys[0]), headers={"Origin": PLAYER})
    assert r.status_code == 401 and r.headers["Access-Control-Allow-Origin"] == PLAYER


def test_media_is_open_to_any_origin_and_credentialed_for_allowed_ones(site):
    url = f"{site.url}/media/{site.package.content_id}/LD/index-00001.ts"
    anyone = requests.get(url, headers={"Origin": EVIL, "Range": "bytes=0-187"})
    assert anyone.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in anyone.headers
    assert "Content-Range" in anyone.headers["Access-Control-Expose-Headers"]
    player = requests.get(url, headers={"Origin": PLAYER})
    assert player.headers["Access-Control-Allow-Origin"] == PLAYER
    assert player.headers["Access-Control-Allow-Credentials"] == "true"
    pre = preflight(url, EVIL, "range")
    assert pre.status_code == 204 and pre.headers["Access-Control-Allow-Origin"] == "*"
    assert "range" in pre.headers["Access-Control-Allow-Headers"].lower()


@pytest.fixture
def default_site(site, live_server):
    """The same home and media root, default allowed_origins ("self")."""
    return live_server(Settings(home=site.home, media_root=site.out))


def test_default_allows_only_the_own_origin_for_keys(site, default_site):
    url = f"{default_site.url}/keys/{site.package.content_id}/{site.package.keys[0].key_id}"
    own = preflight(url, default_site.url)
    assert own.status_code == 204 and own.headers["Access-Control-Allow-Origin"] == default_site.url
    assert preflight(url, PLAYER).status_code == 403
    media = requests.get(f"{default_site.url}/media/{site.package.content_id}/master.m3u8", headers={"Origin": PLAYER})
    assert media.headers["Access-Control-Allow-Origin"] == "*"


def test_wildcard_keys_never_carry_credentials(site, live_server):
    server = live_server(Settings(home=site.home, media_root=site.out, allowed_origins="*"))
    key = site.package.keys[0]
    url = f"{server.url}/keys/{key.content_id}/{key.key_id}"
    r = requests.get(url, params={"token": site.token()}, headers={"Origin": EVIL})
    assert r.content == key.key
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in r.headers


@pytest.fixture
def audit_lines():
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    logger = logging.getLogger("hlskit.audit")
    logger.addHandler(handler)
    yield lambda: [json.loads(r) for r in records]
    logger.removeHandler(handler)


def test_key_for_an_origin_not_allowed_is_refused_and_audited_as_such(site, audit_lines):
    key = site.package.keys[0]
    for origin in (EVIL, "null"):
        r = requests.get(site.key_url(key), params={"token": site.token()}, headers={"Origin": origin})
        assert r.status_code == 403 and r.json()["code"] == "Cors.OriginNotAllowed"
        assert key.key not in r.content
    ok = requests.get(site.key_url(key), params={"token": site.token()}, headers={"Origin": PLAYER})
    assert ok.content == key.key
    assert [(a["outcome"], a["status"]) for a in audit_lines()] == [
        ("origin-not-allowed", 403),
        ("origin-not-allowed", 403),
        ("ok", 200),
    ]


def _own_origin_request(server, key, token, origin, host=None):
    path = f"/keys/{key.content_id}/{key.key_id}?token={token}"
    return send(server.port, raw(server, "GET", path, [("Origin", origin)], host=host))


def test_self_is_the_listening_address_never_the_host_header(site, default_site):
    key, token = site.package.keys[0], site.token()
    own = _own_origin_request(default_site, key, token, default_site.url)
    assert own.status == 200 and own.headers["access-control-allow-origin"] == default_site.url
    # "localhost" names the loopback address the server listens on
    alias = _own_origin_request(default_site, key, token, f"http://localhost:{default_site.port}")
    assert alias.status == 200 and alias.body == key.key
    # a client that writes Host: evil.example does not make evil.example "self"
    spoofed = _own_origin_request(default_site, key, token, "http://evil.example", host="evil.example")
    assert spoofed.status == 403 and key.key not in spoofed.body
    assert "access-control-allow-origin" not in spoofed.headers
    other_port = _own_origin_request(default_site, key, token, f"http://127.0.0.1:{default_site.port + 1}")
    assert other_port.status == 403


def test_public_origin_names_self(site, live_server):
    server = live_server(Settings(home=site.home, media_root=site.out, public_origin="https://Video.Example:443/"))
    key, token = site.package.keys[0], site.token()
    named = _own_origin_request(server, key, token, "https://video.example")
    assert named.status == 200 and named.headers["access-control-allow-origin"] == "https://video.example"
    assert _own_origin_request(server, key, token, server.url).status == 403  # the address no longer counts


@pytest.mark.parametrize("bad", ["video.example", "ftp://video.example", "https://video.example/player", "https://"])
def test_a_bad_public_origin_is_one_sentence(site, bad):
    with pytest.raises(ConfigError, match="public_origin") as err:
        create_app(Settings(home=site.home, media_root=site.out, public_origin=bad))
    assert str(err.value).count(". ") == 0 and "\n" not in str(err.value)


def test_wildcard_refuses_a_cookie_it_could_not_answer(site, live_server):
    server = live_server(Settings(home=site.home, media_root=site.out, allowed_origins="*"))
    key = site.package.keys[0]
    url = f"{server.url}/keys/{key.content_id}/{key.key_id}"
    r = requests.get(url, cookies={"hlskit_token": site.token()}, headers={"Origin": EVIL})
    assert r.status_code == 403 and "credentials" in r.json()["error"] and key.key not in r.content


def test_null_is_never_a_credentialed_origin(site, live_server):
    server = live_server(Settings(home=site.home, media_root=site.out, allowed_origins="null," + PLAYER))
    key = site.package.keys[0]
    url = f"{server.url}/keys/{key.content_id}/{key.key_id}"
    r = requests.get(url, params={"token": site.token()}, headers={"Origin": "null"})
    assert r.status_code == 403 and "Access-Control-Allow-Credentials" not in r.headers
