"""Concurrent runs of one content id: one run holds the content id, the others are refused at once.

Three `hlskit package` processes start together on the same content id. Exactly one publishes; the
package it leaves plays end to end through the real key service (token → 16 key bytes) in FFmpeg,
and the key store holds live keys of that package only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.request

import pytest

from hlskit.config import load_settings
from hlskit.keys.tokens import make_token, token_secret
from hlskit.stores.keys import KeyStore
from tests.conftest import HLSKIT
from tests.server.conftest import start_server

pytestmark = pytest.mark.slow


def test_three_concurrent_runs_of_one_content_id_publish_exactly_one_playable_package(
    tmp_path, make_clip, ffmpeg, monkeypatch
):
    home, out = tmp_path / "home", tmp_path / "out"
    monkeypatch.setenv("HLSKIT_HOME", str(home))
    monkeypatch.delenv("HLSKIT_CONFIG", raising=False)
    settings = load_settings(media_root=str(out))
    server = start_server(settings)
    try:
        src = make_clip(tmp_path / "in.mp4", width=640, height=360, seconds=4)
        env = {**os.environ, "HLSKIT_HOME": str(home)}
        cmd = [
            *HLSKIT,
            "package",
            str(src),
            "--out",
            str(out),
            "--content-id",
            "same",
            "--segment-duration",
            "2",
            "--key-url",
            f"{server.url}/keys",
        ]
        procs = [
            subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)
        ]
        results = [(p.wait(timeout=240), *p.communicate()) for p in procs]
        codes = sorted(code for code, _, _ in results)
        assert codes == [0, 2, 2], results
        for code, _, err in results:
            if code == 2:
                assert re.fullmatch(r"error: content id same is being packaged by run \w+ .*\n", err), err
        assert sorted(p.name for p in out.iterdir()) == ["same"]  # no staging left behind

        manifest = json.loads((out / "same" / "hlskit.json").read_text())
        keys = KeyStore(home / "keys.db", home / "master.key")
        live = {r.key_id for r in keys.list("same") if not r.revoked}
        assert live == {k["key_id"] for k in manifest["keys"]} and len(live) == 1

        token = make_token(token_secret(settings.token_config()), "same", 300)
        key_uri = manifest["keys"][0]["uri"]
        with urllib.request.urlopen(urllib.request.Request(key_uri, headers={"Authorization": f"Bearer {token}"})) as r:
            assert r.status == 200 and len(r.read()) == 16

        master = f"{server.url}/media/same/master.m3u8?token={token}"
        played = subprocess.run(
            [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-i", master, "-map", "0:v:0", "-f", "null", "-"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert played.returncode == 0 and played.stderr.strip() == "", played.stderr
    finally:
        server.stop()
