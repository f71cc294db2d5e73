"""CORS over real HTTP: allowed origins, credentials, wildcard for media, preflight."""

from __future__ import annotations

import pytest
import requests

from hlskit.domain.settings import Settings

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
    assert "Access-Control-Allow-Origin" not in other.headers  # the browser will not hand it over


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
