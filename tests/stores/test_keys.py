"""The key store on SQLite: keys wrapped under the master key and bound to their ids, given keys,
revocation (one key, all but the published ones, a run's), the resolver the finisher uses, and
the revocation marker caches watch."""

from __future__ import annotations

import sqlite3
import stat

import pytest
from cryptography.exceptions import InvalidTag

from hlskit.domain.configs import KmsConfig, StoreConfig
from hlskit.domain.errors import ConfigError, InputError
from hlskit.domain.keys import key_uri
from hlskit.stores.keys import KeyStore, load_master_key

URL = "https://keys.example.com/keys"


def test_created_keys_are_stored_wrapped_and_read_back_by_any_store_with_the_master_key(tmp_path, keys):
    a = keys.create("talk", "run-1")
    assert len(a.key) == 16 and len(a.iv) == 16 and len(a.key_id) == 16
    with sqlite3.connect(tmp_path / "keys.db") as db:
        wrapped, iv_hex, wrapping, run_id = db.execute(
            "SELECT wrapped, iv_hex, wrapping, run_id FROM keys WHERE key_id=?", (a.key_id,)
        ).fetchone()
    assert a.key not in wrapped and (wrapping, run_id, iv_hex) == ("aes-256-gcm", "run-1", a.iv.hex())
    other = KeyStore(tmp_path / "keys.db", tmp_path / "master.key")
    assert other.get("talk", a.key_id) == a.key and other.wrapped("talk", a.key_id) == (wrapped, "aes-256-gcm")
    assert stat.S_IMODE((tmp_path / "master.key").stat().st_mode) == 0o600


def test_another_master_key_cannot_unwrap(tmp_path, keys):
    a = keys.create("talk")
    thief = KeyStore(tmp_path / "keys.db", tmp_path / "other-master.key")
    with pytest.raises(InvalidTag):
        thief.get("talk", a.key_id)


def test_a_given_key_keeps_its_bytes_iv_and_id_and_an_id_is_never_reused(keys):
    given = keys.add("talk", b"k" * 16, b"i" * 16, "run-1", key_id="imported-1")
    assert (given.key, given.iv, given.key_id) == (b"k" * 16, b"i" * 16, "imported-1")
    assert keys.get("talk", "imported-1") == b"k" * 16
    with pytest.raises(InputError) as caught:
        keys.add("talk", b"x" * 16, None, key_id="imported-1")
    assert "key imported-1 of talk is already in this key store" in caught.value.message
    assert "hlskit keys revoke talk --key-id imported-1" in caught.value.message
    assert keys.get("talk", "imported-1") == b"k" * 16
    random_iv = keys.add("talk", b"y" * 16, None)
    assert len(random_iv.iv) == 16 and random_iv.key_id != "imported-1"


@pytest.mark.parametrize("key, iv", [(b"short", None), (b"k" * 17, None), (b"k" * 16, b"iv")])
def test_a_given_key_or_iv_of_the_wrong_size_is_one_sentence(keys, key, iv):
    with pytest.raises(InputError, match="a data key and its IV must be 16 bytes each"):
        keys.add("talk", key, iv)
    assert keys.list() == []


def test_revoke_keeps_only_the_published_keys_live(keys):
    old1, old2, new = keys.create("talk", "r1"), keys.create("talk", "r1"), keys.create("talk", "r2")
    other = keys.create("movie", "r3")
    assert keys.revoke("talk", keep={new.key_id}) == 2
    assert [keys.get("talk", k.key_id) for k in (old1, old2)] == [None, None]
    assert keys.get("talk", new.key_id) == new.key and keys.get("movie", other.key_id) == other.key
    assert {r.key_id: r.revoked for r in keys.list("talk")} == {old1.key_id: True, old2.key_id: True, new.key_id: False}
    assert keys.revoke("talk", keep={new.key_id}) == 0  # nothing left to revoke


def test_revoke_one_key_and_a_whole_run(keys):
    a, b, c = keys.create("talk", "r1"), keys.create("talk", "r1"), keys.create("talk", "r2")
    assert keys.revoke("talk", a.key_id) == 1 and keys.revoke("talk", a.key_id) == 0
    assert keys.revoke_run("r1") == 1  # b; a was already revoked
    assert not keys.is_live("talk", b.key_id) and keys.is_live("talk", c.key_id)
    assert keys.revoke_run("") == 0 and keys.revoke_run("no-such-run") == 0
    assert [k.key_id for k in keys.live_keys("talk")] == [c.key_id]


def test_the_resolver_gives_live_keys_only_by_their_uri(keys):
    live, dead = keys.create("talk"), keys.create("talk")
    keys.revoke("talk", dead.key_id)
    resolve = keys.resolver()
    assert resolve(key_uri(URL, "talk", live.key_id)) == live.key
    assert resolve(f"/keys/talk/{live.key_id}?token=x.y") == live.key
    assert resolve(key_uri(URL, "talk", dead.key_id)) is None
    assert resolve(key_uri(URL, "movie", live.key_id)) is None  # a key id of another content: none
    assert resolve(key_uri(URL, "talk", "unknown")) is None and resolve("no-path") is None


def test_live_keys_export_plain_keys_and_their_ivs(keys):
    a, b = keys.create("talk"), keys.create("talk")
    exported = {k.key_id: (k.key, k.iv) for k in keys.live_keys("talk")}
    assert exported == {a.key_id: (a.key, a.iv), b.key_id: (b.key, b.iv)}
    assert [k.key_id for k in keys.live_keys("talk", b.key_id)] == [b.key_id]


def test_every_revocation_replaces_the_marker_caches_watch(keys):
    assert keys.revocation_version() is None  # nothing revoked yet
    a, b = keys.create("talk"), keys.create("talk")
    keys.revoke("talk", a.key_id)
    first = keys.revocation_version()
    assert first is not None and keys.revocation_marker.is_file()
    keys.revoke("talk", "unknown")  # nothing revoked: the marker stays
    assert keys.revocation_version() == first
    keys.revoke("talk", b.key_id)
    assert keys.revocation_version() != first
    assert keys.revocation_check_interval == 0.0
    assert [p.name for p in keys.revocation_marker.parent.glob(".keys.db.revoked.*")] == []


def test_a_kms_wrapped_key_needs_the_kms_hook(tmp_path):
    calls = []

    def kms_decrypt(blob: bytes) -> bytes:
        calls.append(blob)
        return b"P" * 16

    plain = KeyStore(tmp_path / "keys.db", tmp_path / "master.key")
    plain.add_kms("talk", "kms-1", b"CIPHERTEXT-BLOB", b"i" * 16, "r1")
    with pytest.raises(ConfigError, match="wrapped by Alibaba KMS: configure mts_access_key_id/secret"):
        plain.get("talk", "kms-1")
    hooked = KeyStore(tmp_path / "keys.db", tmp_path / "master.key", kms_decrypt=kms_decrypt)
    assert hooked.get("talk", "kms-1") == b"P" * 16 and calls == [b"CIPHERTEXT-BLOB"]
    assert hooked.wrapped("talk", "kms-1") == (b"CIPHERTEXT-BLOB", "kms")
    assert [r.wrapping for r in hooked.list("talk")] == ["kms"]


def test_open_wires_the_kms_hook_only_when_kms_is_configured(tmp_path):
    config = StoreConfig(tmp_path / "j.db", tmp_path / "k.db", tmp_path / "mk")
    assert KeyStore.open(config).kms_decrypt is None
    with_kms = StoreConfig(tmp_path / "j.db", tmp_path / "k.db", tmp_path / "mk", KmsConfig(key_id="k"))
    assert KeyStore.open(with_kms).kms_decrypt is not None


def test_the_master_key_is_made_once_owner_only_and_a_bad_one_refused(tmp_path):
    path = tmp_path / "home" / "master.key"
    first = load_master_key(path)
    assert len(first) == 32 and load_master_key(path) == first
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by other users: run chmod 600"):
        load_master_key(path)
    truncated = tmp_path / "truncated.key"
    truncated.write_bytes(first[:31])
    truncated.chmod(0o600)
    with pytest.raises(ConfigError, match="must hold exactly 32 bytes: restore it from backup"):
        load_master_key(truncated)
