"""Key resolvers of a run's keys still in memory; playback tokens beyond the server tests
(tests/server/test_tokens.py); secret files created once, owner-only."""

from __future__ import annotations

import base64
import json
import stat
import threading

import pytest

from hlskit.domain.errors import ConfigError, InputError
from hlskit.keys.resolve import memory_key_resolver, split_key_uri
from hlskit.keys.secretfile import read_secret_file
from hlskit.keys.tokens import PlaybackTokens, TokenError, make_token, verify_token
from tests.plans import data_key

SECRET = "0123456789abcdef0123456789abcdef-test"


@pytest.mark.parametrize(
    "uri, ids",
    [
        ("https://k.example/keys/talk/abc", ("talk", "abc")),
        ("https://k.example/keys/talk/abc?token=x.y", ("talk", "abc")),
        ("/keys/talk.v2/k-1", ("talk.v2", "k-1")),
        ("https://k.example/keys/talk/abc/", ("talk", "abc")),
        ("https://k.example/abc", None),
        ("", None),
    ],
)
def test_a_key_uri_splits_into_content_and_key_id(uri, ids):
    assert split_key_uri(uri) == ids


def test_an_absolute_key_url_resolves_exactly_its_uris():
    keys = [data_key("talk", 1), data_key("talk", 2)]
    resolve = memory_key_resolver(keys, "https://keys.example.com/keys")
    assert resolve(keys[1].uri("https://keys.example.com/keys")) == keys[1].key
    assert resolve(f"https://keys.example.com/keys/talk/{keys[0].key_id}") == keys[0].key
    assert resolve(f"https://other.example.com/keys/talk/{keys[0].key_id}") is None
    assert resolve("https://keys.example.com/keys/talk/unknown") is None


def test_a_root_relative_key_url_resolves_from_a_folder_or_against_any_host():
    key = data_key("talk", 1)
    resolve = memory_key_resolver([key], "/keys")
    assert resolve(f"/keys/talk/{key.key_id}") == key.key  # read from the folder: as written
    assert resolve(f"http://127.0.0.1:8000/keys/talk/{key.key_id}?token=abc.def") == key.key
    assert resolve(f"https://cdn.example/keys/talk/{key.key_id}") == key.key
    assert resolve(f"https://cdn.example/other/talk/{key.key_id}") is None


def test_tokens_of_one_secret_do_not_verify_under_another():
    token = make_token(SECRET, "talk", 60)
    with pytest.raises(TokenError) as caught:
        verify_token(SECRET + "x", token, "talk", None)
    assert caught.value.reason == "tampered" and caught.value.status == 403


def test_a_token_payload_is_plain_claims_and_names_only_a_valid_content_id():
    token = make_token(SECRET, "talk.v2", 60, "10.0.0.1", now=1_000)
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert payload == {"c": "talk.v2", "e": 1_060, "i": "10.0.0.1"}
    with pytest.raises(InputError, match="content id '../x' is not valid"):
        make_token(SECRET, "../x", 60)
    with pytest.raises(ValueError):
        make_token(SECRET, "talk", 0)
    with pytest.raises(TokenError) as caught:
        verify_token(SECRET, token, "talk.v2\n", "10.0.0.1", now=1_001)
    assert caught.value.reason == "other-content"


def test_the_memo_of_checked_signatures_stays_bounded():
    tokens = PlaybackTokens(SECRET)
    issued = [tokens.make("talk", 60, f"10.0.{i // 256}.{i % 256}") for i in range(PlaybackTokens.MEMO_SIZE + 5)]
    for i, t in enumerate(issued):
        tokens.verify(t, "talk", f"10.0.{i // 256}.{i % 256}")
    assert len(tokens._memo) <= PlaybackTokens.MEMO_SIZE


def test_a_secret_file_is_made_once_0600_and_reused(tmp_path):
    path = tmp_path / "home" / "notify.secret"
    made = []

    def make():
        made.append(1)
        return b"first-secret"

    assert read_secret_file(path, make, "notify secret") == b"first-secret"
    assert read_secret_file(path, lambda: b"second", "notify secret") == b"first-secret"
    assert made == [1] and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["notify.secret"]  # no temporary left


def test_concurrent_first_uses_agree_on_one_secret(tmp_path):
    path = tmp_path / "token.secret"
    got: list[bytes] = []
    barrier = threading.Barrier(8)

    def use(n: int) -> None:
        barrier.wait()
        got.append(read_secret_file(path, lambda: f"secret-{n}".encode(), "token secret"))

    threads = [threading.Thread(target=use, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8 and len(set(got)) == 1 and path.read_bytes() == got[0]


def test_a_secret_file_others_can_read_is_refused_with_chmod(tmp_path):
    path = tmp_path / "master.key"
    path.write_bytes(b"x" * 32)
    path.chmod(0o640)
    with pytest.raises(ConfigError) as caught:
        read_secret_file(path, lambda: b"", "master key")
    assert caught.value.message == f"master key file {path} is readable by other users: run chmod 600 {path}."
