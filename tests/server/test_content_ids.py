"""One content-id rule (hlskit.domain.ids) everywhere: `hlskit token`, `hlskit keys`, playback
tokens, and the key, media and player routes over real HTTP.

A content id with a dot (``talk.v2``) is valid: it plays like any other. A content id with a
trailing newline is not: it is refused everywhere, with a 4xx (never a 500) and never a key,
even when the key store and the media root hold something under that name.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

import hlskit.server
from hlskit.domain.errors import InputError
from hlskit.domain.keys import DataKey
from hlskit.domain.settings import Settings
from hlskit.hls.crypto import decrypt_segment
from hlskit.keys.tokens import PlaybackTokens, TokenError, make_token, token_secret, verify_token
from hlskit.server.media import resolve
from hlskit.stores.keys import KeyStore
from tests.server.conftest import LiveServer, start_server
from tests.server.serverpkg import Package, build_package

DOTTED = "talk.v2"
NEWLINE = DOTTED + "\n"


@dataclass
class DottedSite:
    server: LiveServer
    package: Package
    home: Path
    out: Path
    secret: bytes
    bad_key: DataKey  # a real key stored under NEWLINE, as old code could have stored it

    @property
    def url(self) -> str:
        return self.server.url

    def env(self, base: dict) -> dict:
        return {
            **{k: v for k, v in base.items() if not k.startswith("HLSKIT_")},
            "HLSKIT_HOME": str(self.home),
            "HLSKIT_MEDIA_ROOT": str(self.out),
        }


@pytest.fixture(scope="module")
def dotted(tmp_path_factory) -> DottedSite:
    base = tmp_path_factory.mktemp("dotted-site")
    home, out = base / "home", base / "out"
    out.mkdir()
    settings = Settings(home=home, media_root=out)
    server = start_server(settings)
    store = KeyStore.open(settings.store_config())
    package = build_package(out, base / "clear", store, server.url + "/keys", DOTTED)
    # Something really is there under the newline name: a key and a package folder.
    bad_key = store.create(NEWLINE)
    shutil.copytree(package.dir, out / NEWLINE)
    yield DottedSite(server, package, home, out, token_secret(settings.token_config()), bad_key)
    server.stop()


def _signed(secret: bytes, claims: dict) -> str:
    """A token signed by hand with the real secret (the format in hlskit/keys/tokens.py's
    docstring), so the server's refusal cannot come from a bad signature."""
    payload = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=").decode()
    mac = hmac.new(secret, b"hlskit-playback-token-v1:" + payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


# --- a dotted content id works everywhere -------------------------------------------------


@pytest.mark.slow
def test_token_command_for_a_dotted_id_gets_its_keys_media_and_page(dotted, hlskit_cli):
    r = hlskit_cli("token", DOTTED, "--ttl", "5m", env=dotted.env(os.environ))
    assert r.returncode == 0, r.stderr
    assert "warning" not in r.stderr  # the key store has keys for talk.v2
    token = r.stdout.strip()
    assert verify_token(dotted.secret, token, DOTTED, "127.0.0.1").content_id == DOTTED

    pkg = dotted.package
    for i, key in enumerate(pkg.keys):
        got = requests.get(f"{dotted.url}/keys/{DOTTED}/{key.key_id}", params={"token": token})
        assert got.status_code == 200 and got.content == key.key and len(got.content) == 16
        seg = f"index-0000{i + 1}.ts"
        cipher = requests.get(f"{dotted.url}/media/{DOTTED}/LD/{seg}")
        assert cipher.status_code == 200
        assert decrypt_segment(cipher.content, got.content, key.iv) == (pkg.clear / "LD" / seg).read_bytes()

    master = requests.get(f"{dotted.url}/media/{DOTTED}/master.m3u8", params={"token": token})
    assert master.status_code == 200 and master.text.startswith("#EXTM3U")
    assert f"LD/index.m3u8?token={token}" in master.text

    page = requests.get(f"{dotted.url}/play/{DOTTED}")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert f'"src": "/media/{DOTTED}/master.m3u8"' in page.text and '"tokenMinted": true' in page.text


@pytest.mark.slow
def test_keys_commands_take_a_dotted_id(dotted, hlskit_cli):
    env = dotted.env(os.environ)
    listed = hlskit_cli("keys", "list", DOTTED, env=env)
    assert listed.returncode == 0, listed.stderr
    assert {line.split()[1] for line in listed.stdout.splitlines()} == {k.key_id for k in dotted.package.keys}


# --- a trailing newline is refused everywhere ---------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["token", NEWLINE],
        ["token", "x\n"],
        ["token", "a/b"],
        ["token", ".hidden"],
        ["keys", "list", NEWLINE],
        ["keys", "revoke", NEWLINE],
        ["keys", "revoke", DOTTED, "--key-id", "0123\n"],
    ],
)
def test_commands_refuse_an_invalid_id_in_one_sentence(dotted, hlskit_cli, args):
    r = hlskit_cli(*args, env=dotted.env(os.environ))
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == ""
    assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stderr
    # Nothing was revoked on the way.
    assert all(
        KeyStore.open(Settings(home=dotted.home).store_config()).is_live(k.content_id, k.key_id)
        for k in [*dotted.package.keys, dotted.bad_key]
    )


@pytest.mark.parametrize("content_id", [NEWLINE, "x\n", "", "a/b", ".v2", "-v2", "x" * 65, "ta lk", "x\r"])
def test_make_token_refuses_an_invalid_id_in_one_sentence(content_id):
    with pytest.raises(InputError) as info:
        make_token(b"s" * 32, content_id, 60)
    assert "\n" not in info.value.message and info.value.message.endswith(".")
    assert info.value.exit_code == 2


def test_verify_grants_no_invalid_id_even_for_a_well_signed_token():
    secret = b"s" * 32
    forged = _signed(secret, {"c": NEWLINE, "e": int(time.time()) + 60})
    for check in (
        lambda: verify_token(secret, forged, NEWLINE, None),
        lambda: PlaybackTokens(secret).verify(forged, NEWLINE, None),
    ):
        with pytest.raises(TokenError) as info:
            check()
        assert info.value.status == 403
    # The same hand-made format for a valid id is accepted: the refusal is the rule's.
    assert verify_token(secret, _signed(secret, {"c": DOTTED, "e": int(time.time()) + 60}), DOTTED, None)


def _routes(dotted: DottedSite) -> list[str]:
    kid = dotted.bad_key.key_id
    return [
        f"/keys/{DOTTED}%0A/{kid}",
        f"/keys/{DOTTED}%0a/{kid}",
        f"/keys/{DOTTED}/{dotted.package.keys[0].key_id}%0A",
        f"/media/{DOTTED}%0A/master.m3u8",
        f"/media/{DOTTED}%0A/LD/index-00001.ts",
        f"/play/{DOTTED}%0A",
        "/play/x%0A",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("how", ["none", "dotted", "forged-newline"])
def test_routes_refuse_a_newline_id_with_4xx_and_no_key(dotted, how):
    token = {
        "none": None,
        "dotted": make_token(dotted.secret, DOTTED, 60),
        "forged-newline": _signed(dotted.secret, {"c": NEWLINE, "e": int(time.time()) + 60}),
    }[how]
    secrets = [dotted.bad_key.key, *(k.key for k in dotted.package.keys)]
    for path in _routes(dotted):
        r = requests.get(dotted.url + path, params={"token": token} if token else None)
        assert 400 <= r.status_code < 500, (path, how, r.status_code, r.text)
        assert not any(s in r.content or s.hex() in r.text for s in secrets), path
        assert not r.content.startswith(b"#EXTM3U") and b"tokenMinted" not in r.content, path


@pytest.mark.slow
def test_media_resolve_applies_the_rule_to_the_package_folder(dotted):
    """Werkzeug's path converter already stops at a newline; resolve() refuses it on its own too."""
    assert resolve(dotted.out, f"{DOTTED}/master.m3u8") == (dotted.out / DOTTED / "master.m3u8").resolve()
    assert resolve(dotted.out, f"{NEWLINE}/master.m3u8") is None
    assert resolve(dotted.out, f"{NEWLINE}/LD/index-00001.ts") is None


@pytest.mark.slow
def test_the_newline_package_and_key_really_exist(dotted):
    """The refusals above are the rule's, not a missing file or key."""
    assert (dotted.out / NEWLINE / "master.m3u8").is_file()
    store = KeyStore.open(Settings(home=dotted.home).store_config())
    assert store.get(NEWLINE, dotted.bad_key.key_id) == dotted.bad_key.key


# --- settings flow down from create_app ---------------------------------------------------


def test_no_server_module_but_the_app_factory_loads_settings():
    server_dir = Path(hlskit.server.__file__).parent
    offenders = []
    for path in sorted(server_dir.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [f"{'.' * node.level}{node.module or ''}"] + [f"{'.' * node.level}{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if (
                any(n in ("..config", "hlskit.config") or n.startswith(("..config.", "hlskit.config.")) for n in names)
                and path.name != "__init__.py"
            ):
                offenders.append(f"{path.name}:{node.lineno}")
            # No function-level imports of hlskit modules (to dodge a cycle or otherwise).
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.ImportFrom) and (inner.level or (inner.module or "").startswith("hlskit")):
                        offenders.append(f"{path.name}:{inner.lineno} (in {node.name})")
    assert offenders == []


def test_the_player_mints_with_the_apps_settings_not_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("HLSKIT_TOKEN_SECRET", "e" * 40)  # must be ignored: settings were passed
    monkeypatch.setenv("HLSKIT_HOME", str(tmp_path / "elsewhere"))
    settings = Settings(home=tmp_path / "home", media_root=tmp_path, token_secret="p" * 40, token_ttl=77)
    server = start_server(settings)
    try:
        html = requests.get(f"{server.url}/play/{DOTTED}").text
    finally:
        server.stop()
    config = json.loads(re.search(r'<script id="hlskit-config" type="application/json">(.*?)</script>', html).group(1))
    assert config["tokenMinted"] is True
    claims = verify_token(b"p" * 40, config["token"], DOTTED, None)
    assert 0 < claims.expires - time.time() <= 77
    assert not (tmp_path / "elsewhere").exists()
