"""`hlskit play out/<content-id>`: serves one package and prints a player URL that works."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import urllib.request

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_play_serves_the_package_and_prints_a_working_url(served):
    port = free_port()
    env = {**os.environ, "HLSKIT_HOME": str(served.home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hlskit", "play", str(served.dir), "--no-open", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(2)]
        url = lines[1].strip()
        assert re.fullmatch(rf"http://127\.0\.0\.1:{port}/play/abr\?token=[\w.-]+", url), lines
        html = urllib.request.urlopen(url).read().decode()
        assert '"src": "/media/abr/master.m3u8"' in html
        token = url.split("token=")[1]
        key_uri = re.search(r'URI="([^"]+)"', (served.dir / "LD" / "index.m3u8").read_text()).group(1)
        key_path = key_uri.split("/keys/", 1)[1]
        key = urllib.request.urlopen(
            urllib.request.Request(
                f"http://127.0.0.1:{port}/keys/{key_path}", headers={"Authorization": f"Bearer {token}"}
            )
        ).read()
        assert len(key) == 16
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    # The package's key URL names the fixture's server, not this port: the user is told.
    assert "warning: this package's keys are at" in proc.stderr.read()


@pytest.mark.slow
def test_play_refuses_a_folder_that_is_not_a_package_and_a_busy_port(served, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "hlskit", "play", str(tmp_path), "--no-open"], capture_output=True, text=True
    )
    assert done.returncode == 2 and done.stderr.startswith(f"error: {tmp_path} is not a package (no hlskit.json)")
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "hlskit", "play", str(served.dir), "--no-open", "--port", str(port)],
            capture_output=True,
            text=True,
            env={**os.environ, "HLSKIT_HOME": str(served.home)},
        )
    assert done.returncode == 2 and f"error: cannot listen on 127.0.0.1:{port}" in done.stderr, done.stderr


def test_play_refuses_a_package_whose_content_id_breaks_the_rule(tmp_path):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "hlskit.json").write_text('{"hlskit": 1, "content_id": "x\\n"}\n')
    env = {**os.environ, "HLSKIT_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-m", "hlskit", "play", str(folder), "--no-open", "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: ") and "is not valid" in done.stderr and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
