"""Who may fetch a clear MP4 download, in every layout a media root can give a package, shared by
tests/reliability/test_download_access.py and bench/reliability_server.py.

``build`` writes packages (a manifest, a ``downloads/LD.mp4`` of made-up MP4 bytes — the media
route never parses them — and keys in the real key store) under one folder, ``out``:

- ``dl-std``: the standard layout, ``out/<content-id>/downloads/LD.mp4``, two live keys; plus a
  symlink to its download from a definition folder and a symlinked ``dl`` folder;
- ``site/dl-nest``: one level deeper (the server's root is the parent of a site);
- ``dl-run``: the download under the run folder (``<content-id>/<run-id>/downloads/``, as the mts
  engine lays out OSS);
- ``dl-case``: ``DOWNLOADS/`` in capitals (case-insensitive file systems serve it as ``downloads``);
- ``dl-rev``: every key revoked; ``dl-half``: one of two revoked; ``dl-gone``: its manifest names a
  key this store never had; ``dl-clear``: ``--no-encrypt`` (no key); ``dl-broken``: manifest is
  not JSON; ``orphan``: a ``downloads/`` folder without a manifest;
- ``downloads``: a package whose content id is "downloads", with a download of its own.

Each :class:`Case` is one GET with a kind of token; ``root`` says which server answers: the
one whose media root is ``out`` ("parent"), ``out/dl-std`` ("package") or
``out/dl-std/downloads`` ("downloads").
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hlskit.keys.tokens import make_token
from hlskit.stores.keys import KeyStore

MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + secrets.token_bytes(4096)


def _package(folder: Path, content_id: str, key_ids: list[str], method: str = "AES-128", under: str = "") -> None:
    (folder / under / "downloads").mkdir(parents=True)
    (folder / under / "downloads" / "LD.mp4").write_bytes(MP4)
    (folder / "master.m3u8").write_text("#EXTM3U\n")
    manifest = {
        "hlskit": 1,
        "content_id": content_id,
        "media_dir": f"{under}/" if under else "",
        "encryption": {"method": method},
        "keys": [{"key_id": k} for k in key_ids],
        "definitions": [],
        "downloads": [{"name": "LD", "uri": f"{under + '/' if under else ''}downloads/LD.mp4"}],
    }
    (folder / "hlskit.json").write_text(json.dumps(manifest))


def build(out: Path, store: KeyStore) -> None:
    """Every layout above, under ``out``, with its keys in ``store``."""

    def keys(content_id: str, n: int = 2) -> list[str]:
        return [store.create(content_id).key_id for _ in range(n)]

    _package(out / "dl-std", "dl-std", keys("dl-std"))
    (out / "dl-std" / "LD").mkdir()
    os.symlink("../downloads/LD.mp4", out / "dl-std" / "LD" / "alias.mp4")
    os.symlink("downloads", out / "dl-std" / "dl")
    _package(out / "site" / "dl-nest", "dl-nest", keys("dl-nest"))
    _package(out / "dl-run", "dl-run", keys("dl-run"), under="run-0123abcd")
    _package(out / "dl-case", "dl-case", keys("dl-case"))
    (out / "dl-case" / "downloads").rename(out / "dl-case" / "DOWNLOADS")
    _package(out / "dl-rev", "dl-rev", keys("dl-rev"))
    store.revoke("dl-rev")
    half = keys("dl-half")
    _package(out / "dl-half", "dl-half", half)
    store.revoke("dl-half", half[1])
    _package(out / "dl-gone", "dl-gone", keys("dl-gone", 1) + ["0000000000000000"])
    _package(out / "dl-clear", "dl-clear", [], method="NONE")
    _package(out / "dl-broken", "dl-broken", keys("dl-broken"))
    (out / "dl-broken" / "hlskit.json").write_text("{not json")
    (out / "orphan" / "downloads").mkdir(parents=True)
    (out / "orphan" / "downloads" / "LD.mp4").write_bytes(MP4)
    _package(out / "downloads", "downloads", keys("downloads"))


@dataclass(frozen=True)
class Case:
    name: str
    path: str  # after /media/
    token: str | None  # "valid", "other", "playback-only", "expired" or None (content id from `path`)
    status: int
    code: str | None = None  # the JSON error code
    content_id: str = ""  # whose token (default: the first path part)
    root: str = "parent"


CASES: list[Case] = [
    # --- the standard layout: the token rule ---------------------------------------------------
    Case("standard, no token", "dl-std/downloads/LD.mp4", None, 401, "Token.Missing"),
    Case("standard, token for other content", "dl-std/downloads/LD.mp4", "other", 403, "Token.OtherContent"),
    Case("standard, expired token", "dl-std/downloads/LD.mp4", "expired", 403, "Token.Expired"),
    Case("standard, playback-only token", "dl-std/downloads/LD.mp4", "playback-only", 403, "Token.PlaybackOnly"),
    Case("standard, valid token", "dl-std/downloads/LD.mp4", "valid", 200),
    Case("standard, playlist needs no token", "dl-std/master.m3u8", None, 200),
    # --- other layouts and other names for the same file ---------------------------------------
    Case("root is the parent of a site, no token", "site/dl-nest/downloads/LD.mp4", None, 401, "Token.Missing"),
    Case("root is the parent of a site, token for the folder name", "site/dl-nest/downloads/LD.mp4", "valid", 403, "Token.OtherContent", content_id="site"),
    Case("root is the parent of a site, valid token", "site/dl-nest/downloads/LD.mp4", "valid", 200, content_id="dl-nest"),
    Case("run folder layout, no token", "dl-run/run-0123abcd/downloads/LD.mp4", None, 401, "Token.Missing"),
    Case("run folder layout, valid token", "dl-run/run-0123abcd/downloads/LD.mp4", "valid", 200),
    Case("symlink to a download, no token", "dl-std/LD/alias.mp4", None, 401, "Token.Missing"),
    Case("symlinked downloads folder, no token", "dl-std/dl/LD.mp4", None, 401, "Token.Missing"),
    Case("DOWNLOADS in capitals, no token", "dl-case/DOWNLOADS/LD.mp4", None, 401, "Token.Missing"),
    Case("downloads folder of no package, valid token", "orphan/downloads/LD.mp4", "valid", 404, "Media.NotFound"),
    Case("manifest not JSON, valid token", "dl-broken/downloads/LD.mp4", "valid", 404, "Media.NotFound"),
    Case("package named downloads, playlist", "downloads/master.m3u8", None, 200),
    Case("package named downloads, its download, no token", "downloads/downloads/LD.mp4", None, 401, "Token.Missing"),
    Case("package named downloads, its download, valid token", "downloads/downloads/LD.mp4", "valid", 200),
    Case("root is the package, no token", "downloads/LD.mp4", None, 401, "Token.Missing", root="package"),
    Case("root is the package, valid token", "downloads/LD.mp4", "valid", 200, content_id="dl-std", root="package"),
    Case("root is the downloads folder, no token", "LD.mp4", None, 401, "Token.Missing", root="downloads"),
    Case("root is the downloads folder, valid token", "LD.mp4", "valid", 200, content_id="dl-std", root="downloads"),
    # --- revocation ------------------------------------------------------------------------------
    Case("every key revoked, valid token", "dl-rev/downloads/LD.mp4", "valid", 404, "Media.Revoked"),
    Case("one of two keys revoked, valid token", "dl-half/downloads/LD.mp4", "valid", 404, "Media.Revoked"),
    Case("a key unknown to this store, valid token", "dl-gone/downloads/LD.mp4", "valid", 404, "Media.Revoked"),
    Case("clear package (no key), valid token", "dl-clear/downloads/LD.mp4", "valid", 200),
    Case("clear package (no key), no token", "dl-clear/downloads/LD.mp4", None, 401, "Token.Missing"),
]  # fmt: skip


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def code(self) -> str | None:
        try:
            return json.loads(self.body).get("code")
        except (ValueError, AttributeError):
            return None


def get(url: str, headers: dict[str, str] | None = None) -> Answer:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return Answer(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


def token_for(case: Case, secret: bytes) -> str | None:
    content_id = case.content_id or case.path.split("/")[0]
    if case.token is None:
        return None
    if case.token == "other":
        return make_token(secret, "someone-else", 300)
    if case.token == "expired":
        return make_token(secret, content_id, 60, now=time.time() - 120)
    return make_token(secret, content_id, 300, playback_only=case.token == "playback-only")


def check(case: Case, base_url: Callable[[str], str], secret: bytes) -> None:
    """One GET as the case says; asserts status, code, body and headers."""
    token = token_for(case, secret)
    got = get(f"{base_url(case.root)}/media/{case.path}" + (f"?token={token}" if token else ""))
    assert got.status == case.status, (case.name, got.status, got.body[:200])
    assert got.headers.get("x-content-type-options") == "nosniff", got.headers
    if case.status == 200:
        if case.path.endswith(".mp4"):
            assert got.body == MP4 and got.headers["cache-control"] == "private, no-store", got.headers
        return
    assert got.code == case.code, (case.name, got.body[:200])
    assert b"ftyp" not in got.body


def dev_page_token(base: str, content_id: str) -> str:
    """The token the test player mints for itself in development mode (GET /play/<content-id>)."""
    html = get(f"{base}/play/{content_id}").body.decode()
    config = json.loads(re.search(r'<script id="hlskit-config" type="application/json">(.*?)</script>', html).group(1))
    assert config["tokenMinted"] is True, config
    return config["token"]


def check_revoke_via_cli(base: str, secret: bytes, out: Path, home: Path, store: KeyStore, content_id: str) -> None:
    """A download served a moment ago is withdrawn by `hlskit keys revoke` (a real subprocess)."""
    keys = [store.create(content_id), store.create(content_id)]
    _package(out / content_id, content_id, [k.key_id for k in keys])
    token = make_token(secret, content_id, 300)
    url = f"{base}/media/{content_id}/downloads/LD.mp4?token={token}"
    assert get(url).body == MP4
    env = {k: v for k, v in os.environ.items() if not k.startswith("HLSKIT_")} | {"HLSKIT_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "hlskit", "keys", "revoke", content_id], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    after = get(url)
    assert after.status == 404 and after.code == "Media.Revoked" and MP4 not in after.body, after
    key = get(f"{base}/keys/{content_id}/{keys[0].key_id}?token={token}")
    assert key.status == 404 and key.code == "Key.NotFound", key


def check_dev_page_token(base: str, store: KeyStore, content_id: str) -> None:
    """The token /play/<content-id> mints for anyone (no production mode) plays but does not download."""
    token = dev_page_token(base, content_id)
    key_id = next(r.key_id for r in store.list(content_id) if not r.revoked)
    assert get(f"{base}/keys/{content_id}/{key_id}?token={token}").status == 200  # it plays
    for headers, query in (({}, f"?token={token}"), ({"Authorization": f"Bearer {token}"}, "")):
        refused = get(f"{base}/media/{content_id}/downloads/LD.mp4{query}", headers)
        assert refused.status == 403 and refused.code == "Token.PlaybackOnly" and MP4 not in refused.body, refused
