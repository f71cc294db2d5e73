"""The server over a package made by the real packager (`packaged`, tests/conftest.py)."""

from __future__ import annotations

import subprocess

import pytest
import requests

from hlskit.domain.settings import Settings
from hlskit.hls.crypto import decrypt_segment
from hlskit.keys.tokens import make_token, token_secret

from .conftest import start_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(packaged):
    settings = Settings(home=packaged.home, media_root=packaged.out)
    server = start_server(settings)
    yield server, make_token(token_secret(settings.token_config()), packaged.content_id, 300)
    server.stop()


def test_every_key_of_the_package_decrypts_its_segments(packaged, served):
    server, token = served
    by_id = {k["key_id"]: k for k in packaged.manifest["keys"]}
    assert by_id
    for d in packaged.manifest["definitions"]:
        playlist = requests.get(f"{server.url}/media/{packaged.content_id}/{d['playlist']}").text
        key_line = next(l for l in playlist.splitlines() if l.startswith("#EXT-X-KEY:METHOD=AES-128"))
        key_id = key_line.split('URI="', 1)[1].split('"', 1)[0].rsplit("/", 1)[1]
        r = requests.get(
            f"{server.url}/keys/{packaged.content_id}/{key_id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 200 and len(r.content) == 16
        first = next(l for l in playlist.splitlines() if l and not l.startswith("#"))
        folder = d["playlist"].rsplit("/", 1)[0]
        cipher = requests.get(f"{server.url}/media/{packaged.content_id}/{folder}/{first}").content
        plain = decrypt_segment(cipher, r.content, bytes.fromhex(by_id[key_id]["iv"][2:]))
        assert plain[0] == 0x47 and len(plain) % 188 == 0


def test_tokenised_master_reaches_every_key_uri(packaged, served):
    server, token = served
    master = requests.get(f"{server.url}/media/{packaged.content_id}/master.m3u8", params={"token": token}).text
    variants = [l for l in master.splitlines() if l and not l.startswith("#")]
    assert len(variants) == len(packaged.manifest["definitions"])
    assert all(v.endswith(f"?token={token}") for v in variants)
    for v in variants:
        media = requests.get(f"{server.url}/media/{packaged.content_id}/{v}").text
        keys = [l for l in media.splitlines() if l.startswith("#EXT-X-KEY") and "METHOD=NONE" not in l]
        assert keys and all(f'?token={token}"' in k for k in keys)


def test_ffmpeg_plays_the_real_package_when_its_key_port_is_free(packaged):
    """The package's key URIs name 127.0.0.1:8000; FFmpeg follows them, so serve there if we can."""
    import imageio_ffmpeg

    settings = Settings(home=packaged.home, media_root=packaged.out)
    try:
        server = start_server(settings, port=8000)
    except OSError:
        pytest.skip("port 8000 is in use; the package's key URIs point there")
    try:
        token = make_token(token_secret(settings.token_config()), packaged.content_id, 300)
        url = f"{server.url}/media/{packaged.content_id}/master.m3u8?token={token}"
        for program in range(len(packaged.manifest["definitions"])):
            r = subprocess.run(
                [
                    imageio_ffmpeg.get_ffmpeg_exe(),
                    "-hide_banner",
                    "-nostdin",
                    "-v",
                    "error",
                    "-i",
                    url,
                    "-map",
                    f"0:p:{program}",
                    "-f",
                    "null",
                    "-",
                ],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert r.returncode == 0 and r.stderr.strip() == "", r.stderr
    finally:
        server.stop()
