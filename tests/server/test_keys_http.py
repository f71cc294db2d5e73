"""The key route over real HTTP: grants, refusals, revocation, audit lines."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from hlskit.hls.crypto import decrypt_segment
from hlskit.keys.tokens import make_token
from hlskit.stores.keys import KeyStore

pytestmark = pytest.mark.slow


def test_valid_token_gets_the_16_bytes_that_decrypt_the_segments(site):
    pkg = site.package
    for i, key in enumerate(pkg.keys):
        r = requests.get(site.key_url(key), params={"token": site.token()})
        assert r.status_code == 200
        assert r.content == key.key and len(r.content) == 16
        assert r.headers["Content-Type"] == "application/octet-stream"
        assert r.headers["Cache-Control"] == "private, no-store"
        # segment 1 uses key 0, segment 2 key 1 (rotation): decrypt what the media route serves
        seg = f"index-0000{i + 1}.ts"
        cipher = requests.get(f"{site.url}/media/{pkg.content_id}/HD/{seg}").content
        plain = decrypt_segment(cipher, r.content, key.iv)
        assert plain == (pkg.clear / "HD" / seg).read_bytes()
        assert plain[0] == 0x47


@pytest.mark.parametrize("how", ["bearer", "cookie", "mts"])
def test_token_by_header_cookie_or_mps_parameter(site, how):
    key = site.package.keys[0]
    token = site.token()
    kwargs = {
        "bearer": {"headers": {"Authorization": f"Bearer {token}"}},
        "cookie": {"cookies": {"hlskit_token": token}},
        "mts": {"params": {"MtsHlsUriToken": token}},
    }[how]
    r = requests.get(site.key_url(key), **kwargs)
    assert r.status_code == 200 and r.content == key.key


def test_missing_token_is_401_with_short_json(site):
    r = requests.get(site.key_url(site.package.keys[0]))
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert r.json()["code"] == "Token.Missing"
    assert len(r.content) < 200


def _tamper(token: str) -> str:
    payload, sig = token.split(".")
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    return f"{payload}.{flipped}"


def _forge_payload(site) -> str:
    # A payload naming the same content with a later expiry, signed with another secret.
    return make_token(b"x" * 32, site.package.content_id, 10_000)


@pytest.mark.parametrize(
    "kind,code",
    [
        ("expired", "Token.Expired"),
        ("tampered-signature", "Token.Tampered"),
        ("forged", "Token.Tampered"),
        ("other-content", "Token.OtherContent"),
        ("other-client", "Token.OtherClient"),
        ("malformed", "Token.Malformed"),
    ],
)
def test_bad_tokens_are_403(site, kind, code):
    key = site.package.keys[0]
    token = {
        "expired": lambda: make_token(site.secret, site.package.content_id, 60, now=time.time() - 120),
        "tampered-signature": lambda: _tamper(site.token()),
        "forged": lambda: _forge_payload(site),
        "other-content": lambda: site.token("another-video"),
        "other-client": lambda: site.token(client_ip="10.9.8.7"),
        "malformed": lambda: "not a token",
    }[kind]()
    r = requests.get(site.key_url(key), params={"token": token})
    assert r.status_code == 403
    body = r.json()
    assert body["code"] == code
    assert key.key.hex() not in r.text and key.key_id not in r.text


def test_token_bound_to_this_client_passes(site):
    key = site.package.keys[0]
    r = requests.get(site.key_url(key), params={"token": site.token(client_ip="127.0.0.1")})
    assert r.status_code == 200 and r.content == key.key


def test_unknown_key_is_404_but_only_after_the_token(site):
    url = f"{site.url}/keys/{site.package.content_id}/0123456789abcdef"
    assert requests.get(url, params={"token": site.token()}).status_code == 404
    assert requests.get(url).status_code == 401  # no probing of key ids without a grant
    weird = f"{site.url}/keys/{site.package.content_id}/..%2e"
    assert requests.get(weird, params={"token": site.token()}).status_code == 404


def test_revocation_applies_at_once_in_process(site):
    store = KeyStore.open(site.settings.store_config())
    key = store.create("revoke-inproc")
    token = site.token("revoke-inproc")
    url = site.key_url(key)
    for _ in range(3):  # warm the cache of whichever threads serve these
        assert requests.get(url, params={"token": token}).content == key.key
    store.revoke("revoke-inproc", key.key_id)
    for _ in range(5):
        assert requests.get(url, params={"token": token}).status_code == 404


def test_audit_log_one_json_line_per_request_without_key_or_token(site):
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    logger = logging.getLogger("hlskit.audit")
    logger.addHandler(handler)
    try:
        key = site.package.keys[0]
        token = site.token()
        requests.get(site.key_url(key), params={"token": token})
        requests.get(site.key_url(key), params={"token": _tamper(token)})
        requests.get(site.key_url(key))
        requests.head(site.key_url(key), params={"token": token})  # answered, but no key sent
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(r) for r in records]
    assert [l["outcome"] for l in lines] == ["ok", "tampered", "missing", "head"]
    assert [l["status"] for l in lines] == [200, 403, 401, 200]
    for line in lines:
        assert line["content_id"] == site.package.content_id and line["key_id"] == key.key_id
        assert line["client"] == "127.0.0.1"
    text = "\n".join(records)
    assert key.key.hex() not in text and token.split(".")[1] not in text
    assert "key" not in {k for l in lines for k in l}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_revocation_by_cli_applies_at_once_in_every_gunicorn_worker(site, tmp_path, hlskit_cli):
    """gunicorn with 2 workers; `hlskit keys revoke` in another process; every worker refuses next."""
    store = KeyStore.open(site.settings.store_config())
    key = store.create("revoke-gunicorn")
    token = site.token("revoke-gunicorn")
    port = _free_port()
    log = open(tmp_path / "gunicorn.log", "w")
    proc = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "gunicorn"),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "hlskit.server:create_app()",
        ],
        env=site.env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}/keys/revoke-gunicorn/{key.key_id}"
        deadline = time.time() + 30
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                    break
            except (requests.ConnectionError, requests.Timeout):  # workers still booting (a loaded machine)
                pass
            assert time.time() < deadline, (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.2)
        # A sync worker serves one request at a time, so concurrent requests spread over both;
        # request until the audit log shows both workers have served, hence cached, the key.
        log_path = tmp_path / "gunicorn.log"

        def pids(outcome: str) -> set[int]:
            lines = [json.loads(l) for l in log_path.read_text().splitlines() if l.startswith("{")]
            return {a["pid"] for a in lines if a["outcome"] == outcome}

        def burst() -> list[requests.Response]:
            with ThreadPoolExecutor(4) as pool:
                return list(pool.map(lambda _: requests.get(url, params={"token": token}), range(8)))

        for _ in range(50):
            assert all(r.status_code == 200 and r.content == key.key for r in burst())
            if len(pids("ok")) == 2:
                break
        assert len(pids("ok")) == 2, "the key was not served by both workers"
        done = hlskit_cli("keys", "revoke", "revoke-gunicorn", "--key-id", key.key_id, env=site.env())
        assert done.returncode == 0, done.stderr
        statuses = []
        for _ in range(50):
            statuses += [r.status_code for r in burst()]
            if pids("unknown-or-revoked") == pids("ok"):
                break
        assert set(statuses) == {404}
        assert pids("unknown-or-revoked") == pids("ok"), "each worker that had cached the key refused it"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        log.close()
