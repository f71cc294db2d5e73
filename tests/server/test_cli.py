"""The serve, token and keys commands, run as real subprocesses."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import pytest
import requests
from click.testing import CliRunner

from hlskit.cli import main
from hlskit.keys.tokens import verify_token
from hlskit.stores.keys import KeyStore


@pytest.mark.slow
def test_serve_prints_its_url_and_serves_keys_and_media(site, tmp_path):
    env = site.env()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hlskit", "serve", str(site.out), "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=open(tmp_path / "err.log", "w"),
        text=True,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
        assert match, line
        url = match.group(1)
        assert requests.get(url + "healthz").json()["status"] == "ok"
        key = site.package.keys[0]
        token = site.token()
        r = requests.get(f"{url}keys/{key.content_id}/{key.key_id}", params={"token": token})
        assert r.content == key.key
        assert requests.get(f"{url}media/{key.content_id}/master.m3u8").status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    log = (tmp_path / "err.log").read_text()
    assert "/keys/" in log and token not in log  # access log lines, without query strings
    assert key.key.hex() not in log


@pytest.mark.slow
def test_serve_refuses_a_missing_media_root(site, hlskit_cli, tmp_path):
    r = hlskit_cli("serve", str(tmp_path / "nope"), env=site.env())
    assert r.returncode == 2
    assert r.stderr.startswith("error: media root") and "Traceback" not in r.stderr


def test_serve_refuses_production_without_secrets(hlskit_cli, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HLSKIT_")}
    env.update(HLSKIT_HOME=str(tmp_path / "home"), HLSKIT_PRODUCTION="1")
    r = hlskit_cli("serve", str(tmp_path), "--port", "0", env=env)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.startswith("error: ")


@pytest.mark.slow
def test_token_command_prints_a_valid_token(site, hlskit_cli):
    r = hlskit_cli("token", site.package.content_id, "--ttl", "15m", "--client-ip", "10.1.1.1", env=site.env())
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    claims = verify_token(site.secret, token, site.package.content_id, "10.1.1.1")
    assert 14 * 60 < claims.expires - time.time() <= 15 * 60
    bad = hlskit_cli("token", site.package.content_id, "--ttl", "soon", env=site.env())
    assert bad.returncode == 2 and bad.stderr.startswith("error: --ttl")


@pytest.mark.slow
def test_keys_list_and_revoke(site, hlskit_cli):
    key = KeyStore.open(site.settings.store_config()).create("cli-keys")
    listed = hlskit_cli("keys", "list", "cli-keys", env=site.env())
    assert listed.returncode == 0
    assert re.search(rf"^cli-keys\s+{key.key_id}\s+\S+\s+live\b", listed.stdout, re.M)
    assert key.key.hex() not in listed.stdout
    done = hlskit_cli("keys", "revoke", "cli-keys", env=site.env())
    assert done.returncode == 0 and "revoked 1 key" in done.stdout
    assert " revoked " in hlskit_cli("keys", "list", "cli-keys", env=site.env()).stdout
    again = hlskit_cli("keys", "revoke", "cli-keys", env=site.env())
    assert again.returncode == 2 and again.stderr.startswith("error: no live keys")


def test_commands_have_help_with_an_example():
    for args in (["serve"], ["token"], ["keys"], ["keys", "list"], ["keys", "revoke"]):
        r = CliRunner().invoke(main, [*args, "--help"])
        assert r.exit_code == 0 and "Example:" in r.output


def test_serve_on_a_busy_port_is_one_sentence(hlskit_cli, tmp_path):
    (tmp_path / "media").mkdir()
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        done = hlskit_cli(
            "serve", str(tmp_path / "media"), "--port", str(port), env={"HLSKIT_HOME": str(tmp_path / "home")}
        )
    assert done.returncode == 2
    assert done.stderr.strip() == (done.stderr.strip().splitlines() or [""])[0]  # one line
    assert f"error: cannot listen on 127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr
