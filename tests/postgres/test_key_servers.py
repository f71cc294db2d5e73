"""Several key servers behind a load balancer, sharing one PostgreSQL: real `hlskit serve`
processes on two ports, a package made by the real `hlskit package`, revocation by the real
`hlskit keys revoke`, and a database that goes away and comes back."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from hlskit.keys.tokens import make_token
from hlskit.stores.keys import KeyStore
from tests.postgres.cluster import PASSWORD, free_port, start_cluster
from tests.tiers import require_heavy

pytestmark = [pytest.mark.db, pytest.mark.slow]

TOKEN_SECRET = secrets.token_hex(32)


class Serve:
    """One `hlskit serve` subprocess; its stderr goes to a file we can read afterwards."""

    def __init__(self, env: dict[str, str], media: Path, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        media.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hlskit", "serve", str(media), "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(log, "w"),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=5).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
            assert self.proc.poll() is None, log.read_text()
        raise AssertionError(f"hlskit serve did not answer: {log.read_text()}")

    def key(self, content_id: str, key_id: str) -> requests.Response:
        token = make_token(TOKEN_SECRET.encode(), content_id, 300)
        return requests.get(f"{self.url}/keys/{content_id}/{key_id}", params={"token": token}, timeout=10)

    def stop(self) -> str:
        self.proc.terminate()
        self.proc.wait(timeout=15)
        return self.log.read_text()


def host_env(home: Path, store_url: str, master_key: Path) -> dict[str, str]:
    """One host: its own home; the store, the master key and the token secret are shared."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HLSKIT_")}
    env.update(
        HLSKIT_HOME=str(home),
        HLSKIT_STORE_URL=store_url,
        HLSKIT_MASTER_KEY_FILE=str(master_key),
        HLSKIT_TOKEN_SECRET=TOKEN_SECRET,
    )
    return env


def poll(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def test_two_servers_share_keys_and_a_revocation_reaches_both_within_a_second(pg_url, tmp_path, make_clip):
    master = tmp_path / "master.key"
    env_a = host_env(tmp_path / "a", pg_url, master)
    env_b = host_env(tmp_path / "b", pg_url, master)
    a = Serve(env_a, tmp_path / "out-a", tmp_path / "a.log")
    b = Serve(env_b, tmp_path / "out-b", tmp_path / "b.log")
    try:
        clip = make_clip(tmp_path / "in.mp4", width=320, height=180, seconds=2)
        done = subprocess.run(
            [*[sys.executable, "-m", "hlskit"], "package", str(clip), "--out", str(tmp_path / "out-a"),
             "--content-id", "pgclip", "--segment-duration", "2", "--key-url", f"{a.url}/keys"],
            env=env_a, capture_output=True, text=True, timeout=240,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert PASSWORD not in done.stdout + done.stderr
        assert not (tmp_path / "a" / "keys.db").exists() and not (tmp_path / "a" / "jobs.db").exists()

        # The run is in PostgreSQL: `hlskit status` on the other host sees it.
        status = subprocess.run(
            [sys.executable, "-m", "hlskit", "status", "pgclip", "--json"], env=env_b, capture_output=True, text=True
        )
        assert status.returncode == 0, status.stderr
        assert '"state": "Published"' in status.stdout and PASSWORD not in status.stdout

        [record] = KeyStore(pg_url, master).list("pgclip")
        key = KeyStore(pg_url, master).get("pgclip", record.key_id)
        for server in (a, b, b):  # the second request on b comes from its cache
            got = server.key("pgclip", record.key_id)
            assert got.status_code == 200 and got.content == key

        listed = subprocess.run(
            [sys.executable, "-m", "hlskit", "keys", "list", "pgclip"], env=env_b, capture_output=True, text=True
        )
        assert listed.returncode == 0 and record.key_id in listed.stdout and "live" in listed.stdout

        revoke = subprocess.run(
            [sys.executable, "-m", "hlskit", "keys", "revoke", "pgclip"], env=env_b, capture_output=True, text=True
        )
        assert revoke.returncode == 0, revoke.stderr
        revoked_at = time.monotonic()
        for server in (a, b):
            assert poll(
                lambda s=server: s.key("pgclip", record.key_id).status_code == 404,
                1.0 - (time.monotonic() - revoked_at),
            ), f"{server.url} still serves a revoked key"
    finally:
        for server in (a, b):
            log = server.stop()
            assert PASSWORD not in log


@pytest.fixture
def own_cluster():
    """A cluster of the test's own, since the test stops and restarts it."""
    require_heavy("db")
    try:
        cluster = start_cluster()
    except (RuntimeError, OSError, KeyError) as exc:
        pytest.fail(f"could not start a throwaway PostgreSQL: {exc}", pytrace=False)
    yield cluster
    cluster.destroy()


def test_a_database_outage_gives_503s_one_log_line_and_service_resumes(own_cluster, tmp_path):
    url = own_cluster.create_database("outage")
    master = tmp_path / "master.key"
    key = KeyStore(url, master).create("down", "run-1")
    env = host_env(tmp_path / "home", url, master)
    server = Serve(env, tmp_path / "out", tmp_path / "serve.log")
    try:
        assert server.key("down", key.key_id).content == key.key  # now cached, too
        own_cluster.stop()
        # A server trusts its last revocation check for 0.25 s (KeyStore.revocation_check_interval);
        # after that, not even a cached key is served without a new one.
        time.sleep(0.3)
        statuses = [server.key("down", key.key_id) for _ in range(8)]
        assert [r.status_code for r in statuses] == [503] * 8  # never a key without a check
        assert statuses[0].json()["code"] == "Key.StoreUnavailable"
        assert requests.get(server.url + "/healthz", timeout=10).status_code == 503

        cli = subprocess.run(
            [sys.executable, "-m", "hlskit", "keys", "list"], env=env, capture_output=True, text=True, timeout=60
        )
        assert cli.returncode == 2 and cli.stderr.startswith("error: the store postgresql://hlskit:***@")
        assert len(cli.stderr.splitlines()) == 1 and PASSWORD not in cli.stderr

        own_cluster.start()
        assert poll(lambda: server.key("down", key.key_id).status_code == 200, 20), "service did not resume"
        assert server.key("down", key.key_id).content == key.key
    finally:
        log = server.stop()
    outage_lines = [line for line in log.splitlines() if "unreachable" in line]
    assert len(outage_lines) == 1, log
    assert outage_lines[0].startswith("key service: the store postgresql://hlskit:***@") and PASSWORD not in log
    assert sum("reachable again" in line for line in log.splitlines()) == 1, log
