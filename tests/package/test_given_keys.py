"""Your keys, your key server: package with a given key and IV (`--key-file`, `--key-hex -`,
`--iv`), export the keys (`hlskit keys export`, behind a flag, audited) and import them into
ANOTHER home, whose key service then serves them to FFmpeg with a token."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from hlskit.domain.settings import Settings
from hlskit.engines.encode import ffmpeg_exe
from hlskit.keys.tokens import make_token, token_secret
from tests.conftest import _make_clip
from tests.server.conftest import start_server

KEY = bytes(range(16, 32))
IV = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
SECONDS, FPS = 2, 30


def hlskit(*args: str, home, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HLSKIT_")}
    env.update(HLSKIT_HOME=str(home), HLSKIT_X264_PRESET="ultrafast")
    return subprocess.run(
        [sys.executable, "-m", "hlskit", *args], input=stdin, capture_output=True, text=True, env=env, timeout=300
    )


def decrypt_first_segment(playlist) -> bytes:
    text = playlist.read_text()
    m = re.search(r'#EXT-X-KEY:METHOD=AES-128,URI="[^"]+",IV=0x([0-9a-fA-F]{32})', text)
    assert m, text
    segment = playlist.parent / next(ln for ln in text.splitlines() if ln.endswith(".ts"))
    dec = Cipher(algorithms.AES(KEY), modes.CBC(bytes.fromhex(m.group(1)))).decryptor()
    padded = dec.update(segment.read_bytes()) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()  # raises on bad padding: the key was not this one
    plain = unpadder.update(padded) + unpadder.finalize()
    assert len(plain) % 188 == 0 and plain[::188] == b"\x47" * (len(plain) // 188)
    return bytes.fromhex(m.group(1))


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return _make_clip(ffmpeg_exe(), tmp_path_factory.mktemp("givenkey") / "clip.mp4", seconds=SECONDS, fps=FPS)


@pytest.mark.slow
def test_a_package_made_with_a_given_key_file_decrypts_with_that_key_and_iv(tmp_path, clip):
    key_file = tmp_path / "key.bin"
    key_file.write_bytes(KEY)
    got = hlskit(
        "package", str(clip), "--out", str(tmp_path / "out"), "--content-id", "given", "--segment-duration", "1",
        "--key-file", str(key_file), "--iv", "0x" + IV.hex(), home=tmp_path / "home",
    )  # fmt: skip
    assert got.returncode == 0, got.stderr
    playlists = sorted((tmp_path / "out" / "given").glob("*/index.m3u8"))
    assert playlists
    for pl in playlists:
        assert decrypt_first_segment(pl) == IV
    # Stored wrapped like any other key, tied to the run; never written beside the segments.
    listed = hlskit("keys", "list", "given", "--json", home=tmp_path / "home")
    assert [json.loads(ln)["state"] for ln in listed.stdout.splitlines()] == ["live"]
    for f in (tmp_path / "out").rglob("*"):
        if f.is_file():
            assert KEY not in f.read_bytes() and KEY.hex() not in f.read_bytes().decode("latin-1")


@pytest.mark.slow
def test_key_hex_reads_stdin_only_and_bad_key_options_are_one_sentence(tmp_path, clip):
    home, out = tmp_path / "home", tmp_path / "out"
    got = hlskit(
        "package", str(clip), "--out", str(out), "--content-id", "hexed", "--segment-duration", "1", "--key-hex", "-",
        home=home, stdin=KEY.hex() + "\n",
    )  # fmt: skip
    assert got.returncode == 0, got.stderr
    decrypt_first_segment(next((out / "hexed").glob("*/index.m3u8")))

    key_file = tmp_path / "k"
    key_file.write_text(KEY.hex())
    cases = [
        (["--key-hex", KEY.hex()], "never the key itself"),
        (["--key-file", str(key_file), "--rotate-key-every", "2"], "--rotate-key-every makes new keys"),
        (["--key-file", str(key_file), "--no-encrypt"], "--no-encrypt"),
        (["--key-file", str(tmp_path / "missing")], "cannot be read"),
        (["--key-file", str(key_file), "--iv", "12"], "--iv must be 32 hex characters"),
        (["--iv", IV.hex()], "--iv is for a given key"),
    ]
    for extra, words in cases:
        got = hlskit("package", str(clip), "--out", str(tmp_path / "bad"), "--content-id", "bad", *extra, home=home)
        assert got.returncode == 2, (extra, got.stderr)
        assert words in got.stderr and "Traceback" not in got.stderr, (extra, got.stderr)
        assert KEY.hex() not in got.stderr
        assert len(got.stderr.strip().splitlines()) == 1, got.stderr
    assert not (tmp_path / "bad").exists()


@pytest.mark.slow
def test_export_then_import_into_another_home_serves_the_keys_to_ffmpeg(tmp_path, clip):
    first, second, out = tmp_path / "first", tmp_path / "second", tmp_path / "out"
    made = hlskit(
        "package", str(clip), "--out", str(out), "--content-id", "moved", "--segment-duration", "1",
        "--rotate-key-every", "1", "--key-url", "/keys", home=first,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr

    refused = hlskit("keys", "export", "moved", home=first)
    assert refused.returncode == 2 and "--i-understand-this-prints-keys" in refused.stderr and not refused.stdout
    exported = hlskit("keys", "export", "moved", "--i-understand-this-prints-keys", home=first)
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(ln) for ln in exported.stdout.splitlines()]
    assert len(lines) >= 2 and {tuple(sorted(x)) for x in lines} == {("content_id", "iv", "key", "key_id")}
    assert {x["content_id"] for x in lines} == {"moved"}
    # Audited: who and which keys, on stderr and in the home's audit log, never a key.
    audit = [json.loads(ln) for ln in (first / "audit.log").read_text().splitlines()]
    assert audit[-1]["event"] == "key-export" and audit[-1]["key_ids"] == [x["key_id"] for x in lines]
    assert audit[-1]["user"]
    for x in lines:
        assert x["key"] not in exported.stderr and x["key"] not in (first / "audit.log").read_text()
    one = hlskit(
        "keys", "export", "moved", "--key-id", lines[0]["key_id"], "--i-understand-this-prints-keys", home=first
    )
    assert [json.loads(ln) for ln in one.stdout.splitlines()] == [lines[0]]

    imported = hlskit("keys", "import", "-", home=second, stdin=exported.stdout)
    assert imported.returncode == 0, imported.stderr
    assert f"imported {len(lines)} keys of moved" in imported.stdout
    again = hlskit("keys", "import", "-", home=second, stdin=exported.stdout)
    assert again.returncode == 2 and "already in this key store" in again.stderr
    bad = hlskit("keys", "import", "-", home=second, stdin='{"content_id": "x"}\n')
    assert bad.returncode == 2 and "line 1" in bad.stderr
    twice = hlskit("keys", "import", "-", home=tmp_path / "third", stdin=exported.stdout + exported.stdout)
    assert twice.returncode == 2 and "twice" in twice.stderr
    assert hlskit("keys", "list", "moved", home=tmp_path / "third").stdout == ""  # nothing half-imported

    settings = Settings(home=second, media_root=out)
    server = start_server(settings)
    try:
        token = make_token(token_secret(settings.token_config()), "moved", 300)
        got = subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-progress", "pipe:1",
             "-i", f"{server.url}/media/moved/master.m3u8?token={token}", "-map", "0:v", "-f", "null", "-"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        server.stop()
    assert got.returncode == 0 and got.stderr.strip() == "", got.stderr
    assert int(re.findall(r"^frame=(\d+)$", got.stdout, re.M)[-1]) == SECONDS * FPS


def test_keys_export_refuses_a_terminal(tmp_path):
    """Keys printed to a terminal stay in scrollback and screen shares: export wants a file or pipe."""
    main, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HLSKIT_")}
    env["HLSKIT_HOME"] = str(tmp_path / "home")
    try:
        got = subprocess.run(
            [sys.executable, "-m", "hlskit", "keys", "export", "any", "--i-understand-this-prints-keys"],
            stdout=secondary, stderr=subprocess.PIPE, text=True, env=env, timeout=60,
        )  # fmt: skip
    finally:
        os.close(secondary)
        os.close(main)
    assert got.returncode == 2 and "will not print keys to a terminal" in got.stderr
