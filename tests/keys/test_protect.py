"""Encryption itself: which key a segment takes under a schedule, AES-128-CBC with
PKCS#7 and the key's IV (decrypted back with ``cryptography``, an independent implementation), and
the EXT-X-KEY naming it."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from hlskit.domain.keys import KeySchedule
from hlskit.hls.crypto import decrypt_segment, encrypt_segment
from hlskit.hls.write import CLEAR
from hlskit.keys.protect import encrypt, key_tag, segment_key
from tests.plans import data_key


def aes_cbc_decrypt(data: bytes, key: bytes, iv: bytes) -> bytes:
    d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    u = padding.PKCS7(128).unpadder()
    return u.update(d.update(data) + d.finalize()) + u.finalize()


class Maker:
    def __init__(self):
        self.keys = {}

    def __call__(self, index):
        return self.keys.setdefault(index, data_key("c", index))


@pytest.mark.parametrize(
    "schedule, expected",
    [
        (KeySchedule(), [0] * 6),
        (KeySchedule(rotate_every=2), [0, 0, 1, 1, 2, 2]),
        (KeySchedule(rotate_every=2, clear_lead=1), [None, 0, 0, 1, 1, 2]),
        (KeySchedule(clear_lead=6), [None] * 6),
        (KeySchedule(encrypt=False, rotate_every=1), [None] * 6),
    ],
)
def test_each_segment_gets_the_key_its_schedule_names(schedule, expected):
    maker = Maker()
    keys = [segment_key(schedule, i, maker) for i in range(6)]
    assert [None if k is None else int(k.key_id[3:]) for k in keys] == expected
    assert sorted(maker.keys) == sorted({e for e in expected if e is not None})  # keys made only when used


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 188 * 7, 65536])
def test_encryption_is_aes_128_cbc_with_pkcs7_and_the_key_iv(size):
    key = data_key("c", 3)
    plain = bytes((n * 31) % 256 for n in range(size))
    sealed = encrypt(plain, key)
    assert len(sealed) == (size // 16 + 1) * 16  # PKCS#7 always pads, a whole block when aligned
    assert aes_cbc_decrypt(sealed, key.key, key.iv) == plain
    assert (
        decrypt_segment(sealed, key.key, key.iv)
        == plain
        == decrypt_segment(encrypt_segment(plain, key.key, key.iv), key.key, key.iv)
    )


def test_the_iv_matters_and_no_key_means_clear():
    key = data_key("c", 1)
    plain = b"\x47" * 376
    other_iv = aes_cbc_decrypt(encrypt(plain, key), key.key, key.iv)
    assert other_iv == plain
    assert (
        Cipher(algorithms.AES(key.key), modes.CBC(bytes(16))).decryptor().update(encrypt(plain, key))[:16] != plain[:16]
    )
    assert encrypt(plain, None) is plain


def test_two_keys_give_different_bytes_for_the_same_segment():
    plain = b"segment" * 100
    assert encrypt(plain, data_key("c", 1)) != encrypt(plain, data_key("c", 2))


def test_the_key_tag_names_the_key_uri_and_iv_never_the_key():
    key = data_key("movie", 5)
    tag = key_tag(key, "https://keys.example.com/keys/")
    assert (tag.method, tag.uri, tag.iv) == ("AES-128", f"https://keys.example.com/keys/movie/{key.key_id}", key.iv)
    line = tag.line()
    assert line == (
        f'#EXT-X-KEY:METHOD=AES-128,URI="https://keys.example.com/keys/movie/{key.key_id}",IV=0x{key.iv.hex()}'
    )
    assert key.key.hex() not in line.lower()
    assert key_tag(None, "https://keys.example.com/keys") is CLEAR and CLEAR.method == "NONE"


def test_a_root_relative_key_url_stays_root_relative():
    key = data_key("movie", 1)
    assert key_tag(key, "/keys").uri == f"/keys/movie/{key.key_id}"
