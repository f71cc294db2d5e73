"""Settings → the narrow configs the leaves receive: each value reaches its leaf, secrets stay out
of every repr, and derived values (endpoints, CRF, store locations) follow their rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from hlskit.domain.configs import AliyunConfig, FFmpegConfig, KmsConfig, MpsConfig, OssConfig
from hlskit.domain.errors import ConfigError
from hlskit.domain.settings import Settings

SECRET = "s3cr3t-value-never-printed"


def full_settings(tmp_path: Path, **changes) -> Settings:
    return Settings(
        home=tmp_path / "home",
        ffmpeg="/opt/ffmpeg/bin/ffmpeg",
        x264_preset="fast",
        rate_control="capped-crf",
        crf=21,
        mts_access_key_id="LTAI-id",
        mts_access_key_secret=SECRET,
        mts_region="cn-beijing",
        mts_endpoint="http://127.0.0.1:9001",
        mts_pipeline_id="pipe-1",
        mts_mns_queue="done-queue",
        mts_mns_endpoint="https://1234.mns.cn-beijing.aliyuncs.com",
        mts_kms_key_id="kms-key-1",
        oss_location="oss-cn-hangzhou",
        notify_secret=SECRET + "-notify",
        token_secret=SECRET + "-token",
        production=True,
        **changes,
    )


def test_every_leaf_gets_its_values_from_settings(tmp_path):
    s = full_settings(tmp_path)
    assert s.ffmpeg_config() == FFmpegConfig("/opt/ffmpeg/bin/ffmpeg", "fast", "capped-crf", 21)
    aliyun = AliyunConfig("LTAI-id", SECRET, "cn-beijing")
    assert s.aliyun_config() == aliyun and aliyun.credentials() == ("LTAI-id", SECRET)
    oss = s.oss_config()
    assert oss == OssConfig(aliyun, None, "oss-cn-hangzhou", tmp_path / "home" / "oss-uploads")
    assert s.kms_config() == KmsConfig(aliyun, "kms-key-1", None)
    mps = s.mps_config()
    assert (mps.endpoint_host, mps.pipeline_id, mps.crf, mps.oss, mps.mns.queue) == (
        "http://127.0.0.1:9001",
        "pipe-1",
        21,
        oss,
        "done-queue",
    )
    notify = s.notify_config()
    assert notify.secret == SECRET + "-notify" and notify.home == tmp_path / "home" and notify.mns == s.mns_config()
    token = s.token_config()
    assert (token.secret, token.home, token.production) == (SECRET + "-token", tmp_path / "home", True)


def test_store_config_uses_the_home_files_or_one_store_url_for_both(tmp_path):
    s = Settings(home=tmp_path / "h")
    store = s.store_config()
    assert (store.jobs, store.keys, store.master_key_file, store.kms) == (
        tmp_path / "h" / "jobs.db",
        tmp_path / "h" / "keys.db",
        tmp_path / "h" / "master.key",
        None,
    )
    url = f"postgresql://hlskit:{SECRET}@db:5432/hlskit"
    shared = Settings(home=tmp_path / "h", store_url=url, mts_kms_key_id="k").store_config()
    assert shared.jobs == shared.keys == url and shared.kms is not None and shared.kms.key_id == "k"


def test_secrets_never_appear_in_a_repr(tmp_path):
    url = f"postgresql://hlskit:{SECRET}@db:5432/hlskit"
    s = full_settings(tmp_path, store_url=url)
    for value in (
        s.aliyun_config(),
        s.oss_config(),
        s.mps_config(),
        s.kms_config(),
        s.mns_config(),
        s.store_config(),
        s.notify_config(),
        s.token_config(),
    ):
        assert SECRET not in repr(value), type(value).__name__
    assert SECRET not in repr(s) and url not in repr(s)  # Settings too: it reaches tracebacks and test output


def test_capped_crf_is_set_only_in_capped_crf_mode():
    assert FFmpegConfig(rate_control="capped-crf", crf=19).capped_crf == 19
    assert FFmpegConfig(rate_control="abr", crf=19).capped_crf is None
    assert Settings(rate_control="abr", crf=30).mps_config().crf is None
    assert Settings(rate_control="capped-crf", crf=30).mps_config().crf == 30


@pytest.mark.parametrize(
    "endpoint, location, region, url",
    [
        (None, None, "cn-shanghai", "https://oss-cn-shanghai.aliyuncs.com"),
        (None, "oss-cn-hangzhou", "cn-shanghai", "https://oss-cn-hangzhou.aliyuncs.com"),
        ("oss-cn-beijing-internal.aliyuncs.com", None, "cn-shanghai", "https://oss-cn-beijing-internal.aliyuncs.com"),
        ("http://127.0.0.1:9000", "oss-cn-hangzhou", "cn-shanghai", "http://127.0.0.1:9000"),
    ],
)
def test_the_oss_endpoint_comes_from_the_setting_else_the_location_else_the_region(endpoint, location, region, url):
    assert OssConfig(AliyunConfig(region=region), endpoint, location).endpoint_url == url


def test_cloud_hosts_default_to_the_region():
    aliyun = AliyunConfig(region="ap-southeast-1")
    assert MpsConfig(aliyun).endpoint_host == "mts.ap-southeast-1.aliyuncs.com"
    assert KmsConfig(aliyun).endpoint_host == "kms.ap-southeast-1.aliyuncs.com"
    assert KmsConfig(aliyun, endpoint="127.0.0.1:1").endpoint_host == "127.0.0.1:1"


@pytest.mark.parametrize("key_id, secret", [(None, None), ("LTAI", None), (None, "x"), ("", "x")])
def test_missing_credentials_are_one_sentence_naming_both_settings(key_id, secret):
    with pytest.raises(ConfigError) as caught:
        AliyunConfig(key_id, secret).credentials()
    message = caught.value.message
    assert "HLSKIT_MTS_ACCESS_KEY_ID" in message and "HLSKIT_MTS_ACCESS_KEY_SECRET" in message
    assert message.count(".") >= 1 and "\n" not in message and caught.value.exit_code == 2


def test_kms_and_mns_are_off_until_configured(tmp_path):
    s = Settings(home=tmp_path)
    assert s.kms_config() is None and s.notify_config().mns is None
    assert Settings(home=tmp_path, mts_mns_endpoint="https://x.mns").notify_config().mns is not None


def test_settings_paths_default_under_the_home_and_expand_the_user(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    s = Settings(home="~/state", media_root="~/media")
    assert s.home == tmp_path / "state" and s.media_root == tmp_path / "media"
    assert (s.job_db, s.key_db, s.master_key_file) == (
        tmp_path / "state" / "jobs.db",
        tmp_path / "state" / "keys.db",
        tmp_path / "state" / "master.key",
    )
    assert Settings(home=tmp_path, job_db=tmp_path / "j.db").job_db == tmp_path / "j.db"
    assert s.replace(crf=30).crf == 30 and s.crf == 23
