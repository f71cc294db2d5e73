"""The media route over real HTTP: MIME types, gzip, ranges, validators, path safety, pass-through."""

from __future__ import annotations

import gzip
import http.client
import os

import pytest
import requests

pytestmark = pytest.mark.slow

PLAYLIST = "application/vnd.apple.mpegurl"


def raw_get(site, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    """GET with the path sent byte for byte (requests/urllib would normalise dot segments)."""
    conn = http.client.HTTPConnection("127.0.0.1", site.server.port, timeout=10)
    conn.putrequest("GET", path, skip_accept_encoding=True)
    for k, v in (headers or {}).items():
        conn.putheader(k, v)
    conn.endheaders()
    response = conn.getresponse()
    response.body = response.read()
    conn.close()
    return response


def test_mime_types_and_bytes(site):
    cid = site.package.content_id
    r = requests.get(f"{site.url}/media/{cid}/master.m3u8")
    assert r.status_code == 200 and r.headers["Content-Type"] == PLAYLIST
    assert r.text == (site.package.dir / "master.m3u8").read_text()
    seg = requests.get(f"{site.url}/media/{cid}/LD/index-00002.ts")
    assert seg.headers["Content-Type"] == "video/mp2t"
    assert seg.content == (site.package.dir / "LD" / "index-00002.ts").read_bytes()
    # the manifest is operator data (source paths, job ids), not media
    assert requests.get(f"{site.url}/media/{cid}/hlskit.json").status_code == 404


def test_playlists_gzip_only_when_accepted(site):
    cid = site.package.content_id
    plain_file = (site.package.dir / "HD" / "index.m3u8").read_bytes()
    zipped = raw_get(site, f"/media/{cid}/HD/index.m3u8", {"Accept-Encoding": "gzip"})
    assert zipped.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(zipped.body) == plain_file
    assert "Accept-Encoding" in zipped.getheader("Vary")
    plain = raw_get(site, f"/media/{cid}/HD/index.m3u8", {"Accept-Encoding": "identity"})
    assert plain.getheader("Content-Encoding") is None and plain.body == plain_file
    assert zipped.getheader("ETag") != plain.getheader("ETag")
    seg = raw_get(site, f"/media/{cid}/HD/index-00001.ts", {"Accept-Encoding": "gzip"})
    assert seg.getheader("Content-Encoding") is None  # segments are never recompressed


def test_segment_byte_ranges(site):
    cid = site.package.content_id
    data = (site.package.dir / "SD" / "index-00001.ts").read_bytes()
    url = f"{site.url}/media/{cid}/SD/index-00001.ts"
    r = requests.get(url, headers={"Range": "bytes=188-563"})
    assert r.status_code == 206
    assert r.content == data[188:564]
    assert r.headers["Content-Range"] == f"bytes 188-563/{len(data)}"
    assert requests.head(url).headers["Accept-Ranges"] == "bytes"
    tail = requests.get(url, headers={"Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.content == data[-100:]
    bad = requests.get(url, headers={"Range": f"bytes={len(data) + 10}-"})
    assert bad.status_code == 416


@pytest.mark.parametrize("name", ["master.m3u8", "LD/index-00001.ts"])
def test_etag_and_last_modified_give_304(site, name):
    url = f"{site.url}/media/{site.package.content_id}/{name}"
    first = requests.get(url)
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = requests.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    since = requests.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    changed = requests.get(url, headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200


@pytest.fixture(scope="module")
def outside(site):
    """A secret file beside the media root and symlinks pointing to it from inside."""
    secret = site.out.parent / "outside.m3u8"
    secret.write_text("#EXTM3U\n#SECRET\n")
    (site.out / "escape.m3u8").unlink(missing_ok=True)
    os.symlink(secret, site.out / "escape.m3u8")
    os.symlink(site.out.parent, site.out / "up", target_is_directory=True)
    (site.out / "talk" / ".hidden.m3u8").write_text("#EXTM3U\n#SECRET\n")
    yield secret
    (site.out / "escape.m3u8").unlink()
    (site.out / "up").unlink()
    (site.out / "talk" / ".hidden.m3u8").unlink()


@pytest.mark.parametrize(
    "path",
    [
        "/media/../outside.m3u8",
        "/media/talk/../../outside.m3u8",
        "/media/%2e%2e/outside.m3u8",
        "/media/%2E%2E%2Foutside.m3u8",
        "/media/talk%2f..%2f..%2foutside.m3u8",
        "/media/%252e%252e/outside.m3u8",
        "/media/..%5coutside.m3u8",
        "/media//etc/passwd",
        "/media/%2fetc%2fpasswd",
        "/media/escape.m3u8",
        "/media/up/outside.m3u8",
        "/media/talk/.hidden.m3u8",
        "/media/talk/LD",
        "/media/talk/LD/",
        "/media/talk/./master.m3u8",
    ],
)
def test_path_escapes_fail(site, outside, path):
    r = raw_get(site, path)
    assert r.status in (400, 404), (path, r.status)
    assert b"#SECRET" not in r.body and b"root:" not in r.body


def test_symlink_inside_the_root_is_served(site):
    link = site.out / "alias.m3u8"
    os.symlink(site.package.dir / "master.m3u8", link)
    try:
        assert requests.get(f"{site.url}/media/alias.m3u8").status_code == 200
    finally:
        link.unlink()


def test_unknown_file_type_is_not_served(site):
    (site.out / "talk" / "notes.txt").write_text("hello")
    try:
        assert requests.get(f"{site.url}/media/talk/notes.txt").status_code == 404
    finally:
        (site.out / "talk" / "notes.txt").unlink()


# --- token pass-through ------------------------------------------------------------------


def test_media_playlist_key_uris_carry_the_token(site):
    cid = site.package.content_id
    token = site.token()
    text = requests.get(f"{site.url}/media/{cid}/LD/index.m3u8", params={"token": token}).text
    key_lines = [l for l in text.splitlines() if l.startswith("#EXT-X-KEY")]
    assert len(key_lines) == 2
    for line, key in zip(key_lines, site.package.keys):
        assert f'URI="{site.key_url(key)}?token={token}"' in line
    segments = [l for l in text.splitlines() if l.endswith(".ts")]
    assert segments and all("token" not in s for s in segments)


def test_master_variant_and_iframe_uris_carry_the_token(site):
    cid = site.package.content_id
    token = site.token()
    extra = site.package.dir / "with-iframes.m3u8"
    extra.write_text(
        "#EXTM3U\n"
        '#EXT-X-SESSION-KEY:METHOD=AES-128,URI="https://keys.example/k/talk/1?x=1",IV=0x00000000000000000000000000000001\n'
        "#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=320x180\nLD/index.m3u8\n"
        '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="LD/iframes.m3u8"\n'
    )
    try:
        r = requests.get(f"{site.url}/media/{cid}/with-iframes.m3u8", params={"token": token})
    finally:
        extra.unlink()
    lines = r.text.splitlines()
    assert f"LD/index.m3u8?token={token}" in lines
    assert f'URI="LD/iframes.m3u8?token={token}"' in lines[-1]
    assert f'URI="https://keys.example/k/talk/1?x=1&token={token}"' in lines[1]
    assert r.headers["Cache-Control"] == "private, no-store"


def test_without_a_token_playlists_are_unchanged(site):
    cid = site.package.content_id
    for name in ("master.m3u8", "HD/index.m3u8"):
        r = requests.get(f"{site.url}/media/{cid}/{name}")
        assert r.content == (site.package.dir / name).read_bytes()
        assert "private" not in r.headers["Cache-Control"]


@pytest.mark.parametrize("token", ['abc"\n#EXT-X-ENDLIST', "a.b c", "x" * 2000])
def test_malformed_token_cannot_inject_into_playlists(site, token):
    r = requests.get(f"{site.url}/media/{site.package.content_id}/LD/index.m3u8", params={"token": token})
    assert r.status_code == 400 and r.json()["code"] == "Token.Malformed"


def test_healthz(site):
    r = requests.get(f"{site.url}/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok", "media_root": True}


def test_api_errors_are_json(site):
    r = requests.post(site.key_url(site.package.keys[0]))
    assert r.status_code == 405 and r.headers["Content-Type"] == "application/json"
