"""Optional KMS mode: data keys from Alibaba KMS instead of the local master key.

GenerateDataKey(KeyId, KeySpec AES_128) returns the plain data key (Base64) and its ciphertext
(the enveloped data key). Only the ciphertext is stored (key store wrapping "kms") and sent to MPS as
``Encryption.Key`` with ``KeyType: KMS``; the key service unwraps it with Decrypt through the
KeyStore ``kms_decrypt`` hook. Wire it up with :func:`create_data_key` and :func:`decrypt_hook`.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from typing import Protocol

from ..aliyun.rpc import AliyunRpc
from ..domain.configs import KmsConfig
from ..domain.errors import ConfigError, HlskitError
from ..domain.keys import KEY_BYTES, DataKey


class KmsKeyRecords(Protocol):
    """What KMS mode needs of a key store (hlskit.stores.keys.KeyStore, a layer above this one)."""

    def add_kms(self, content_id: str, key_id: str, ciphertext_blob: bytes, iv: bytes, run_id: str = "") -> None: ...

    def wrapped(self, content_id: str, key_id: str) -> tuple[bytes, str] | None: ...


def _rpc(kms: KmsConfig) -> AliyunRpc:
    return AliyunRpc(kms.aliyun, kms.endpoint_host, "KMS")


def generate_data_key(kms: KmsConfig) -> tuple[bytes, str]:
    """(plain 16-byte data key, CiphertextBlob) from KMS GenerateDataKey with KeySpec AES_128."""
    if not kms.key_id:
        raise ConfigError("KMS mode needs a KMS key: set HLSKIT_MTS_KMS_KEY_ID (or kms_key_id under [mts]).")
    from aliyunsdkkms.request.v20160120.GenerateDataKeyRequest import GenerateDataKeyRequest  # only where KMS is used

    req = GenerateDataKeyRequest()
    req.set_KeyId(kms.key_id)
    req.set_KeySpec("AES_128")  # only KeyId + KeySpec: HLS encryption fails with other parameters
    answer = _rpc(kms).call(req)
    plain = base64.b64decode(answer["Plaintext"])
    if len(plain) != KEY_BYTES:
        raise HlskitError(
            f"KMS returned a {len(plain)}-byte data key instead of 16: check that the KMS key is symmetric."
        )
    return plain, answer["CiphertextBlob"]


def decrypt(kms: KmsConfig, ciphertext_blob: bytes | str) -> bytes:
    """The plain data key behind a CiphertextBlob (KMS Decrypt)."""
    blob = ciphertext_blob.decode() if isinstance(ciphertext_blob, bytes) else ciphertext_blob
    from aliyunsdkkms.request.v20160120.DecryptRequest import DecryptRequest  # only where KMS is used

    req = DecryptRequest()
    req.set_CiphertextBlob(blob)
    return base64.b64decode(_rpc(kms).call(req)["Plaintext"])


def decrypt_hook(kms: KmsConfig) -> Callable[[bytes], bytes]:
    """For ``KeyStore(..., kms_decrypt=decrypt_hook(kms))`` in the key service."""
    return lambda blob: decrypt(kms, blob)


def create_data_key(store: KmsKeyRecords, content_id: str, kms: KmsConfig, run_id: str = "") -> DataKey:
    """A KMS-generated data key, recorded in the key store (a KeyStore) by its ciphertext only."""
    plain, blob = generate_data_key(kms)
    key = DataKey(content_id, secrets.token_hex(8), secrets.token_bytes(16), plain, kms_blob=blob)
    store.add_kms(content_id, key.key_id, blob.encode(), key.iv, run_id)
    return key


def ciphertext_blob(store: KmsKeyRecords, content_id: str, key_id: str) -> str:
    """The CiphertextBlob stored for a KMS-mode key (what MPS takes as Encryption.Key)."""
    row = store.wrapped(content_id, key_id)
    if row is None or row[1] != "kms":
        raise ConfigError(
            f"key {content_id}/{key_id} was not made by KMS: with mts_kms_key_id set, create keys "
            "with hlskit.kms.create_data_key."
        )
    return bytes(row[0]).decode()
