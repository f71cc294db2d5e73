"""Attacks on /keys and /media as raw HTTP/1.1 requests, shared by tests/server/test_attacks.py
(Werkzeug's threaded server, in-process) and bench/reliability_server.py (`hlskit serve` and
gunicorn in subprocesses).

Every attack is a request that must be refused: its expected status (one for Werkzeug, and one
for gunicorn where its own HTTP parser answers first), the JSON ``code`` when the app answers,
and never a key byte in the body. ``run_attack`` sends one over a raw socket, so paths, header
sizes and methods travel exactly as written (an HTTP library would normalise ``..`` or refuse
oversize headers itself).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hlskit.domain.keys import DataKey
from hlskit.keys.tokens import make_token

EVIL = "https://evil.example"
PLAYER = "https://player.example"  # the allowed origin every target is configured with


@dataclass
class Target:
    """A running server and what the attacks need to know about it."""

    port: int
    content_id: str
    keys: list[DataKey]
    secret: bytes
    out: Path  # the media root
    revoke: Callable[[str, str], None] = field(repr=False)  # (content id, key id)
    create_key: Callable[[str], DataKey] = field(repr=False)  # content id -> a live key

    def token(self, content_id: str | None = None, ttl: int = 300, client_ip: str | None = None, **kw) -> str:
        return make_token(self.secret, content_id or self.content_id, ttl, client_ip, **kw)

    def key_path(self, key: DataKey | None = None) -> str:
        key = key or self.keys[0]
        return f"/keys/{key.content_id}/{key.key_id}"

    @property
    def segment(self) -> str:
        return f"/media/{self.content_id}/LD/index-00001.ts"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json_code(self) -> str | None:
        try:
            return json.loads(self.body).get("code")
        except (ValueError, AttributeError):
            return None


@dataclass(frozen=True)
class Attack:
    name: str
    group: str
    request: Callable[[Target], bytes]
    status: int  # Werkzeug (hlskit serve, the tests)
    code: str | None = None  # the JSON error code, when the app answers
    gunicorn: int | None = None  # when gunicorn's parser refuses first, with another status


def raw(
    t: Target, method: str, path: str, headers: list[tuple[str, str]] | None = None, host: str | None = None
) -> bytes:
    """One HTTP/1.1 request, byte for byte; ``Connection: close`` so the reply ends with EOF."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host or f'127.0.0.1:{t.port}'}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers or []]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def send(port: int, request: bytes, timeout: float = 15) -> Reply:
    """Send raw bytes to 127.0.0.1:port and read one response."""
    method = request.split(b" ", 1)[0].decode("latin-1")
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        body = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, body)


def _tamper_mac(token: str) -> str:
    payload, sig = token.split(".")
    return f"{payload}.{sig[:-2]}{'A' if sig[-2] != 'A' else 'B'}{sig[-1]}"


def _tamper_payload(t: Target) -> str:
    # The payload of a token for other content, with the signature of a token for this one.
    return f"{t.token('other-video').split('.')[0]}.{t.token().split('.')[1]}"


def _key(t: Target, query: str = "", headers: list[tuple[str, str]] | None = None, method: str = "GET") -> bytes:
    return raw(t, method, t.key_path() + query, headers)


def _media(t: Target, path: str, headers: list[tuple[str, str]] | None = None, method: str = "GET") -> bytes:
    return raw(t, method, "/media/" + path, headers)


def _range(spec: str) -> Callable[[Target], bytes]:
    return lambda t: raw(t, "GET", t.segment, [("Range", spec)])


ATTACKS: list[Attack] = [
    # --- token forms and carriers -------------------------------------------------------------
    Attack("no token", "token", lambda t: _key(t), 401, "Token.Missing"),
    Attack("empty ?token=", "token", lambda t: _key(t, "?token="), 401, "Token.Missing"),
    Attack("empty Bearer", "token", lambda t: _key(t, "", [("Authorization", "Bearer ")]), 401, "Token.Missing"),
    Attack(
        "Basic auth instead of a token",
        "token",
        lambda t: _key(t, "", [("Authorization", "Basic dXNlcjpwYXNz")]),
        401,
        "Token.Missing",
    ),
    Attack("malformed token", "token", lambda t: _key(t, "?token=not-a-token"), 403, "Token.Malformed"),
    Attack(
        "token without signature",
        "token",
        lambda t: _key(t, f"?token={t.token().split('.')[0]}."),
        403,
        "Token.Malformed",
    ),
    Attack("tampered payload", "token", lambda t: _key(t, f"?token={_tamper_payload(t)}"), 403, "Token.Tampered"),
    Attack("tampered MAC", "token", lambda t: _key(t, f"?token={_tamper_mac(t.token())}"), 403, "Token.Tampered"),
    Attack(
        "token signed with another secret",
        "token",
        lambda t: _key(t, f"?token={make_token(b'x' * 32, t.content_id, 900)}"),
        403,
        "Token.Tampered",
    ),
    Attack(
        "expired token",
        "token",
        lambda t: _key(t, f"?token={t.token(ttl=60, now=time.time() - 120)}"),
        403,
        "Token.Expired",
    ),
    Attack(
        "token for other content",
        "token",
        lambda t: _key(t, f"?token={t.token('other-video')}"),
        403,
        "Token.OtherContent",
    ),
    Attack(
        "token bound to another client",
        "token",
        lambda t: _key(t, f"?token={t.token(client_ip='10.9.8.7')}"),
        403,
        "Token.OtherClient",
    ),
    Attack(
        "bound token with a spoofed X-Forwarded-For",
        "token",
        lambda t: _key(
            t, f"?token={t.token(client_ip='10.9.8.7')}", [("X-Forwarded-For", "10.9.8.7"), ("X-Real-IP", "10.9.8.7")]
        ),
        403,
        "Token.OtherClient",
    ),
    Attack(
        "tampered MAC as Bearer",
        "token",
        lambda t: _key(t, "", [("Authorization", f"Bearer {_tamper_mac(t.token())}")]),
        403,
        "Token.Tampered",
    ),
    Attack(
        "expired token as cookie",
        "token",
        lambda t: _key(t, "", [("Cookie", f"hlskit_token={t.token(ttl=60, now=time.time() - 120)}")]),
        403,
        "Token.Expired",
    ),
    Attack(
        "other content as MtsHlsUriToken",
        "token",
        lambda t: _key(t, f"?MtsHlsUriToken={t.token('other-video')}"),
        403,
        "Token.OtherContent",
    ),
    Attack(
        "duplicated ?token=, bad one first",
        "token",
        lambda t: _key(t, f"?token={_tamper_mac(t.token())}&token={t.token()}"),
        403,
        "Token.Tampered",
    ),
    Attack(
        "huge token in the query (60 KB)",
        "token",
        lambda t: _key(t, "?token=" + "A" * 60_000 + ".x"),
        403,
        "Token.Malformed",
        gunicorn=414,
    ),
    Attack(
        "huge Bearer header (60 KB)",
        "token",
        lambda t: _key(t, "", [("Authorization", "Bearer " + "A" * 60_000)]),
        403,
        "Token.Malformed",
        gunicorn=431,
    ),
    Attack(
        "token of this content on another content's path",
        "token",
        lambda t: raw(t, "GET", f"/keys/other-video/{t.keys[0].key_id}?token={t.token()}"),
        403,
        "Token.OtherContent",
    ),
    Attack(
        "content id with a newline (audit forging)",
        "token",
        lambda t: raw(t, "GET", f"/keys/talk%0A%7B%22ok%22/{t.keys[0].key_id}?token={t.token()}"),
        403,
        "Token.OtherContent",
    ),
    Attack(
        "valid token, unknown key id",
        "token",
        lambda t: raw(t, "GET", f"/keys/{t.content_id}/0123456789abcdef?token={t.token()}"),
        404,
        "Key.NotFound",
    ),
    Attack(
        "valid token, key id '..%2e'",
        "token",
        lambda t: raw(t, "GET", f"/keys/{t.content_id}/..%2e?token={t.token()}"),
        404,
        "Key.NotFound",
    ),
    Attack(
        "valid token, 3 KB key id",
        "token",
        lambda t: raw(t, "GET", f"/keys/{t.content_id}/{'a' * 3000}?token={t.token()}"),
        404,
        "Key.NotFound",
    ),
    # --- methods -------------------------------------------------------------------------------
    Attack(
        "POST a key",
        "method",
        lambda t: _key(t, f"?token={t.token()}", [("Content-Length", "0")], "POST"),
        405,
        "MethodNotAllowed",
    ),
    Attack(
        "PUT a segment",
        "method",
        lambda t: _media(t, f"{t.content_id}/LD/index-00001.ts", [("Content-Length", "0")], "PUT"),
        405,
        "MethodNotAllowed",
    ),
    Attack(
        "DELETE a playlist",
        "method",
        lambda t: _media(t, f"{t.content_id}/master.m3u8", [], "DELETE"),
        405,
        "MethodNotAllowed",
    ),
    Attack(
        "TRACE the key route",
        "method",
        lambda t: _key(t, "", [("Cookie", f"hlskit_token={t.token()}")], "TRACE"),
        405,
        "MethodNotAllowed",
    ),
    Attack(
        "OPTIONS a key from another origin",
        "method",
        lambda t: _key(t, "", [("Origin", EVIL), ("Access-Control-Request-Method", "GET")], "OPTIONS"),
        403,
        "Cors.OriginNotAllowed",
    ),
    Attack("HEAD a key without a token", "method", lambda t: _key(t, "", [], "HEAD"), 401),
    # --- path forms ----------------------------------------------------------------------------
    Attack("../ out of the root", "path", lambda t: raw(t, "GET", "/media/../attack-outside.m3u8"), 404),
    Attack(
        "../../ from a package",
        "path",
        lambda t: _media(t, f"{t.content_id}/../../attack-outside.m3u8"),
        404,
        "Media.NotFound",
    ),
    Attack(
        "encoded ../ (%2e%2e%2f)", "path", lambda t: _media(t, "%2e%2e%2fattack-outside.m3u8"), 404, "Media.NotFound"
    ),
    Attack(
        "double-encoded ../ (%252e%252e)",
        "path",
        lambda t: _media(t, "%252e%252e/attack-outside.m3u8"),
        404,
        "Media.NotFound",
    ),
    Attack(
        "overlong UTF-8 dots (%c0%ae)",
        "path",
        lambda t: _media(t, "%c0%ae%c0%ae/attack-outside.m3u8"),
        404,
        "Media.NotFound",
    ),
    Attack(
        "backslash ..\\",
        "path",
        lambda t: _media(t, f"{t.content_id}/..%5c..%5cattack-outside.m3u8"),
        404,
        "Media.NotFound",
    ),
    Attack("absolute path //etc/passwd", "path", lambda t: raw(t, "GET", "/media//etc/passwd"), 404, "NotFound"),
    Attack("encoded absolute path %2fetc", "path", lambda t: _media(t, "%2fetc%2fpasswd"), 404, "NotFound"),
    Attack("NUL byte", "path", lambda t: _media(t, f"{t.content_id}/master.m3u8%00.ts"), 404, "Media.NotFound"),
    Attack(
        "file name over 255 bytes",
        "path",
        lambda t: _media(t, f"{t.content_id}/{'a' * 300}.m3u8"),
        404,
        "Media.NotFound",
    ),
    Attack(
        "path over 4096 bytes",
        "path",
        lambda t: _media(t, t.content_id + "/" + "abcdefgh/" * 500 + "x.ts"),
        404,
        "Media.NotFound",
        gunicorn=414,
    ),
    Attack(
        "symlink out of the root",
        "path",
        lambda t: _media(t, f"{t.content_id}/attack-escape.m3u8"),
        404,
        "Media.NotFound",
    ),
    Attack(
        "symlinked folder out of the root",
        "path",
        lambda t: _media(t, f"{t.content_id}/attack-up/attack-outside.m3u8"),
        404,
        "Media.NotFound",
    ),
    Attack("symlink loop", "path", lambda t: _media(t, f"{t.content_id}/attack-loop.m3u8"), 404, "Media.NotFound"),
    Attack(
        "FIFO named like a segment",
        "path",
        lambda t: _media(t, f"{t.content_id}/attack-fifo.ts"),
        404,
        "Media.NotFound",
    ),
    Attack("hidden file", "path", lambda t: _media(t, f"{t.content_id}/.attack-hidden.m3u8"), 404, "Media.NotFound"),
    Attack(
        "the hlskit.json manifest", "path", lambda t: _media(t, f"{t.content_id}/hlskit.json"), 404, "Media.NotFound"
    ),
    Attack("a folder", "path", lambda t: _media(t, f"{t.content_id}/LD/"), 404, "Media.NotFound"),
    Attack("unknown file type", "path", lambda t: _media(t, f"{t.content_id}/attack-notes.txt"), 404, "Media.NotFound"),
    Attack(
        "token injection into a playlist",
        "path",
        lambda t: _media(t, f"{t.content_id}/LD/index.m3u8?token=a%22%0A%23EXT-X-ENDLIST"),
        400,
        "Token.Malformed",
    ),
    Attack(
        "non-UTF-8 playlist with ?token=",
        "path",
        lambda t: _media(t, f"{t.content_id}/attack-latin1.m3u8?token={t.token()}"),
        422,
        "Media.NotUtf8",
    ),
    # --- ranges --------------------------------------------------------------------------------
    Attack("range beyond EOF", "range", _range("bytes=999999999-"), 416),
    Attack("reversed range", "range", _range("bytes=500-100"), 416),
    Attack("range in another unit: ignored, whole segment", "range", _range("items=0-1"), 200),
    Attack("multiple ranges: ignored, whole segment", "range", _range("bytes=0-1,5-6"), 200),
    Attack("garbage byte range", "range", _range("bytes=abc"), 416),
    Attack("range on the key route", "range", lambda t: _key(t, "", [("Range", "bytes=0-7")]), 401, "Token.Missing"),
    # --- oversize requests ---------------------------------------------------------------------
    Attack("request line over 64 KB", "oversize", lambda t: raw(t, "GET", "/media/" + "a" * 70_000), 414),
    Attack("header line over 64 KB", "oversize", lambda t: _key(t, "", [("X-Pad", "a" * 70_000)]), 431),
    Attack("200 headers", "oversize", lambda t: _key(t, "", [(f"X-Pad-{i}", "a") for i in range(200)]), 431),
    # --- CORS origins --------------------------------------------------------------------------
    Attack(
        "key, valid token, origin not allowed",
        "cors",
        lambda t: _key(t, f"?token={t.token()}", [("Origin", EVIL)]),
        403,
        "Cors.OriginNotAllowed",
    ),
    Attack(
        "key, valid token, Origin: null",
        "cors",
        lambda t: _key(t, f"?token={t.token()}", [("Origin", "null")]),
        403,
        "Cors.OriginNotAllowed",
    ),
    Attack(
        "key, valid token, spoofed Host matching the Origin",
        "cors",
        lambda t: raw(
            t, "GET", t.key_path() + f"?token={t.token()}", [("Origin", "http://evil.example")], host="evil.example"
        ),
        403,
        "Cors.OriginNotAllowed",
    ),
    Attack(
        "key, origin that extends an allowed one",
        "cors",
        lambda t: _key(t, f"?token={t.token()}", [("Origin", PLAYER + ".evil.example")]),
        403,
        "Cors.OriginNotAllowed",
    ),
    Attack(
        "key, cookie from an origin not allowed",
        "cors",
        lambda t: _key(t, "", [("Origin", EVIL), ("Cookie", f"hlskit_token={t.token()}")]),
        403,
        "Cors.OriginNotAllowed",
    ),
]

# Needs state (a key fetched, revoked, fetched again): counted with the attacks above.
REVOCATION_REPLAY = "revocation replay (fetched, revoked, fetched again)"
COUNT = len(ATTACKS) + 1


@dataclass
class Outcome:
    name: str
    status: int | None
    expected: int
    refused: bool  # the expected refusal, no key byte, no 5xx
    detail: str = ""


def leaks(t: Target, body: bytes) -> bool:
    return any(k.key in body or k.key.hex().encode() in body for k in t.keys)


def run_attack(t: Target, attack: Attack, server: str = "werkzeug") -> Outcome:
    expected = attack.gunicorn if server == "gunicorn" and attack.gunicorn else attack.status
    try:
        reply = send(t.port, attack.request(t))
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(attack.name, None, expected, False, f"no answer: {exc!r}")
    problems = []
    if reply.status != expected:
        problems.append(f"status {reply.status}")
    if (
        attack.code
        and expected == attack.status  # the app answered (not the server's own HTTP parser)
        and reply.status == expected
        and reply.json_code() != attack.code
    ):
        problems.append(f"code {reply.json_code()}")
    if leaks(t, reply.body):
        problems.append("KEY BYTES IN BODY")
    return Outcome(attack.name, reply.status, expected, not problems, ", ".join(problems))


def revocation_replay(t: Target) -> Outcome:
    """A key fetched with a valid token, revoked, then fetched again with the same token: 404."""
    content_id = "attack-revoke"
    key = t.create_key(content_id)
    token = t.token(content_id)
    path = f"/keys/{content_id}/{key.key_id}?token={token}"
    first = send(t.port, raw(t, "GET", path))
    if first.status != 200 or first.body != key.key:
        return Outcome(REVOCATION_REPLAY, first.status, 200, False, "the live key was not served")
    t.revoke(content_id, key.key_id)
    again = [send(t.port, raw(t, "GET", path)) for _ in range(3)]
    bad = [r.status for r in again if r.status != 404 or key.key in r.body]
    return Outcome(REVOCATION_REPLAY, again[-1].status, 404, not bad, f"statuses {bad}" if bad else "")


def healthy(port: int) -> bool:
    try:
        return send(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 10).status == 200
    except (OSError, http.client.HTTPException):
        return False


def prepare(out: Path, content_id: str) -> None:
    """The files the path attacks aim at: a secret beside the root, links out, a loop, a FIFO,
    a hidden file, a text file and a playlist that is not UTF-8."""
    pkg = out / content_id
    (out.parent / "attack-outside.m3u8").write_text("#EXTM3U\n#SECRET\n")
    (pkg / ".attack-hidden.m3u8").write_text("#EXTM3U\n#SECRET\n")
    (pkg / "attack-notes.txt").write_text("notes")
    (pkg / "attack-latin1.m3u8").write_bytes(
        b'#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="k"\n#EXTINF:2.0,Caf\xe9\nindex-00001.ts\n'
    )
    links = {
        "attack-escape.m3u8": out.parent / "attack-outside.m3u8",
        "attack-up": out.parent,
        "attack-loop.m3u8": "attack-loop.m3u8",
    }
    for name, to in links.items():
        if not (pkg / name).is_symlink():
            os.symlink(to, pkg / name)
    if not (pkg / "attack-fifo.ts").exists():
        os.mkfifo(pkg / "attack-fifo.ts")


def cleanup(out: Path, content_id: str) -> None:
    pkg = out / content_id
    for name in (
        ".attack-hidden.m3u8",
        "attack-notes.txt",
        "attack-latin1.m3u8",
        "attack-escape.m3u8",
        "attack-up",
        "attack-loop.m3u8",
        "attack-fifo.ts",
    ):
        (pkg / name).unlink(missing_ok=True)
    (out.parent / "attack-outside.m3u8").unlink(missing_ok=True)
