"""`hlskit serve` (Werkzeug's server) in a subprocess: protocol-level refusals answer cleanly,
log one line without a traceback or a token, and the server keeps serving."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time

import pytest

from tests.server.attacks import healthy, send

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(site, tmp_path_factory):
    log = tmp_path_factory.mktemp("devserver") / "serve.log"
    with open(log, "w") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hlskit", "serve", str(site.out), "--port", "0"],
            env=site.env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.time() + 30
        while not (match := re.search(r"at http://127\.0\.0\.1:(\d+)/", log.read_text())):
            assert proc.poll() is None and time.time() < deadline, log.read_text()
            time.sleep(0.1)
        yield int(match.group(1)), log
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.mark.parametrize(
    "request_bytes,status",
    [
        (b"GET /media/" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET /keys/talk/k?token=" + b"A" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 70_000 + b"\r\n\r\n", 431),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X: a\r\n" * 150 + b"\r\n", 431),
        (b"GET /keys/talk/k?token=SECRET-TOKEN HTTP/1.1 junk\r\nHost: x\r\n\r\n", 400),
        (b"GET /keys/talk/k?token=SECRET-TOKEN a b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET /media/" + b"B" * 60_000 + b"?token=SECRET-TOKEN HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 404),
    ],
    ids=[
        "request-line-70KB",
        "token-70KB",
        "header-70KB",
        "150-headers",
        "bad-version-with-token",
        "bad-syntax-with-token",
        "path-60KB",
    ],
)
def test_protocol_refusals_answer_and_log_one_line(served, request_bytes, status):
    port, log = served
    before = len(log.read_text())
    reply = send(port, request_bytes) if status != 400 else None
    if reply is not None:
        assert reply.status == status
    else:  # a request line without a valid version gets an HTTP/0.9-style body, then EOF
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(request_bytes)
            body = b"".join(iter(lambda: sock.recv(65536), b""))
        assert b"400" in body
    assert healthy(port)
    time.sleep(0.2)  # the access line is written after the response
    added = log.read_text()[before:]
    assert "Traceback" not in added and "Exception" not in added, added
    assert "SECRET-TOKEN" not in added and "A" * 300 not in added and "B" * 300 not in added
    assert f" {status} " in added or f"code {status}" in added
    assert max(len(line) for line in added.splitlines()) < 600


@pytest.mark.parametrize(
    "host, status",
    [
        ("rebind.attacker.example", 421),  # a name pointed at 127.0.0.1: its pages would be same-origin
        ("10.0.0.1", 421),
        ("127.0.0.1", 200),
        ("localhost", 200),
        ("app.localhost", 200),
        ("[::1]", 200),
    ],
)
def test_a_server_on_a_loopback_address_answers_only_loopback_names(served, site, host, status):
    port, _ = served
    content_id = site.package.content_id
    for path in (f"/play/{content_id}", f"/keys/{content_id}/{site.package.keys[0].key_id}?token={site.token()}"):
        reply = send(port, f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        assert reply.status == status, (path, reply.body[:200])
        if status == 421:  # refused before a token is minted or a key read
            assert b"Host.NotLocal" in reply.body and site.package.keys[0].key not in reply.body
