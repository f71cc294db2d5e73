"""KMS mode against the stand-in: GenerateDataKey (AES_128) for the data key, its ciphertext as the
MPS Encryption.Key (KeyType KMS), and Decrypt behind the key store's kms_decrypt hook."""

from __future__ import annotations

import json

import pytest

from hlskit.domain.configs import KmsConfig
from hlskit.domain.errors import ConfigError
from hlskit.domain.runs import JobState
from hlskit.keys.kms import create_data_key, decrypt_hook, generate_data_key
from hlskit.stores.keys import KeyStore
from tests.mts.mts_standins import KMS_KEY
from tests.mts.test_mts_engine import engine, upload_source

pytestmark = pytest.mark.slow


def kms_settings(cloud, key_id=KMS_KEY):
    settings = cloud.settings.replace(mts_kms_key_id=key_id)
    settings.mts_kms_endpoint = cloud.mps.url  # no such setting yet: the stand-in's KMS endpoint
    return settings


def test_kms_data_key_goes_to_mps_as_ciphertext_and_unwraps_for_the_key_service(cloud, source_clip):
    settings = kms_settings(cloud)
    plan = cloud.plan("talk-k", upload_source(cloud, source_clip), definitions=("LD",))
    plan.keys.clear()
    plan.make_key = lambda: create_data_key(cloud.keystore, "talk-k", settings.kms_config())
    key = plan.key(0)

    [gen] = [c for c in cloud.mps.calls if c["Action"] == "GenerateDataKey"]
    assert (gen["KeyId"], gen["KeySpec"], gen["Version"]) == (KMS_KEY, "AES_128", "2016-01-20")
    assert "NumberOfBytes" not in gen and gen["Signature"]
    [record] = [r for r in cloud.keystore.list("talk-k") if r.key_id == key.key_id]
    assert record.wrapping == "kms"

    e = engine(settings)
    [job] = e.submit(plan, cloud.store)
    enc = json.loads([c for c in cloud.mps.calls if c["Action"] == "SubmitJobs"][0]["Outputs"])[0]["Encryption"]
    assert enc["KeyType"] == "KMS" and enc["Key"] in cloud.mps.kms_blobs
    assert cloud.mps.kms_blobs[enc["Key"]] == key.key and key.key.hex() not in json.dumps(enc)
    assert e.wait(cloud.store, [job], lambda *a: None)[0].state == JobState.SUCCESS

    service_store = KeyStore(settings.key_db, settings.master_key_file, kms_decrypt=decrypt_hook(settings.kms_config()))
    assert service_store.get("talk-k", key.key_id) == key.key
    assert [c["Action"] for c in cloud.mps.calls].count("Decrypt") == 1


def test_kms_errors_are_clear(cloud):
    with pytest.raises(ConfigError, match="needs a KMS key"):
        generate_data_key(KmsConfig(cloud.settings.aliyun_config()))
    with pytest.raises(
        ConfigError, match=r"KMS GenerateDataKey found no such KMS key \(Forbidden.KeyNotFound\): set mts_kms_key_id"
    ):
        generate_data_key(kms_settings(cloud, "key-unknown").kms_config())
