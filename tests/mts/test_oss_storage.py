"""OssStorage through the real oss2 client against the OSS stand-in (signed V1 requests, path style)."""

from __future__ import annotations

import os

import av
import oss2
import pytest
import requests

from hlskit.domain.errors import ConfigError, InputError
from hlskit.storage import open_storage
from hlskit.storage.oss import OssStorage

pytestmark = pytest.mark.slow


def test_read_write_list_size_and_ranges(cloud):
    storage, prefix = open_storage("oss://out-bucket/hls/pkg", cloud.settings.oss_config())
    assert isinstance(storage, OssStorage) and prefix == "hls/pkg"
    data = bytes(range(256)) * 40
    storage.write_bytes("hls/pkg/LD/index-00001.ts", data)
    storage.write_text("hls/pkg/LD/index.m3u8", "#EXTM3U\n")
    storage.write_text("hls/pkg/SD/a b+c.m3u8", "x")  # keys are URL-encoded on the wire
    storage.write_text("hls/pkgother/x.txt", "not under the prefix")

    assert cloud.oss.get("out-bucket", "hls/pkg/LD/index-00001.ts") == data
    assert cloud.oss.buckets["out-bucket"]["hls/pkg/LD/index.m3u8"].content_type == "application/vnd.apple.mpegurl"
    assert storage.read_bytes("hls/pkg/LD/index-00001.ts") == data
    assert storage.read_bytes("hls/pkg/LD/index-00001.ts", 188, 188) == data[188:376]
    assert storage.read_bytes("hls/pkg/LD/index-00001.ts", 10000) == data[10000:]
    assert storage.read_text("hls/pkg/LD/index.m3u8") == "#EXTM3U\n"
    assert storage.size("hls/pkg/LD/index-00001.ts") == len(data)
    assert storage.exists("hls/pkg/LD/index.m3u8") and not storage.exists("hls/pkg/LD/nope.ts")
    assert storage.list("hls/pkg") == ["hls/pkg/LD/index-00001.ts", "hls/pkg/LD/index.m3u8", "hls/pkg/SD/a b+c.m3u8"]
    assert storage.list("hls/pkg/LD/index.m3u8") == ["hls/pkg/LD/index.m3u8"]


def test_listing_pages_past_one_answer(cloud):
    storage = OssStorage.from_config("out-bucket", cloud.settings.oss_config())
    for i in range(130):  # oss2 lists 100 keys per request
        cloud.oss.put("out-bucket", f"many/{i:04d}.ts", b"x")
    assert storage.list("many") == [f"many/{i:04d}.ts" for i in range(130)]
    assert sum(1 for m, b, q in cloud.oss.log if m == "GET" and "list-type=2" in q) >= 2


def test_every_request_is_signed(cloud):
    """The stand-in refuses unsigned requests and wrong secrets, so oss2 really signs."""
    cloud.oss.put("out-bucket", "private.ts", b"secret media")
    assert requests.get(f"{cloud.oss.url}/out-bucket/private.ts").status_code == 403
    wrong = oss2.Bucket(oss2.Auth(cloud.settings.mts_access_key_id, "wrong-secret"), cloud.oss.url, "out-bucket")
    with pytest.raises(ConfigError) as err:
        OssStorage(wrong).read_bytes("private.ts")
    assert "SignatureDoesNotMatch" in err.value.message and "wrong-secret" not in err.value.message


def test_missing_object_and_bucket_are_clear(cloud):
    storage = OssStorage.from_config("out-bucket", cloud.settings.oss_config())
    with pytest.raises(InputError, match="oss://out-bucket/nope.ts does not exist"):
        storage.read_bytes("nope.ts")
    with pytest.raises(ConfigError, match="bucket no-such-bucket does not exist"):
        OssStorage.from_config("no-such-bucket", cloud.settings.oss_config()).read_bytes("a.ts")


def test_missing_credentials_are_one_sentence(cloud):
    settings = cloud.settings.replace(mts_access_key_secret=None)
    with pytest.raises(ConfigError, match="credentials are missing: set HLSKIT_MTS_ACCESS_KEY_ID"):
        OssStorage.from_config("out-bucket", settings.oss_config())


def test_url_is_signed_for_private_and_plain_for_public_buckets(cloud):
    cloud.oss.create_bucket("public-bucket", acl="public-read")
    private = OssStorage.from_config("out-bucket", cloud.settings.oss_config())
    public = OssStorage.from_config("public-bucket", cloud.settings.oss_config())
    private.write_text("p/master.m3u8", "#EXTM3U\n")
    public.write_text("p/master.m3u8", "#EXTM3U\n")

    signed = private.url("p/master.m3u8")
    assert "Signature=" in signed and "Expires=" in signed and "/p/master.m3u8?" in signed
    assert requests.get(signed).text == "#EXTM3U\n"
    tampered = signed.replace("master.m3u8", "other.m3u8")
    assert requests.get(tampered).status_code == 403

    plain = public.url("p/master.m3u8")
    assert plain == f"{cloud.oss.url}/public-bucket/p/master.m3u8"
    assert requests.get(plain).text == "#EXTM3U\n"


def test_resumable_upload_multipart_with_progress(cloud, tmp_path, monkeypatch):
    monkeypatch.setattr(oss2.defaults, "multipart_threshold", 256 * 1024)
    monkeypatch.setattr(oss2.defaults, "part_size", 256 * 1024)
    big = tmp_path / "big.mp4"
    payload = os.urandom(700 * 1024)
    big.write_bytes(payload)
    seen = []
    storage = OssStorage.from_config("in-bucket", cloud.settings.oss_config())
    uri = storage.upload(big, "talks/big.mp4", lambda done, total: seen.append((done, total)))
    assert uri == "oss://in-bucket/talks/big.mp4"
    assert cloud.oss.get("in-bucket", "talks/big.mp4") == payload
    parts = [q for m, b, q in cloud.oss.log if m == "PUT" and "partNumber=" in q]
    assert len(parts) == 3  # multipart: 700 KiB in 256 KiB parts
    assert seen and seen[-1][0] == len(payload)


def test_pyav_opens_a_signed_url_of_an_oss_source(cloud, source_clip):
    """How an oss:// source is probed: PyAV (FFmpeg's http protocol, with ranges) on a signed GET URL."""
    storage = OssStorage.from_config("in-bucket", cloud.settings.oss_config())
    storage.upload(source_clip, "talks/a.mp4")
    with av.open(storage.url("talks/a.mp4")) as container:
        video = container.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (320, 180)
        assert 1.9 < container.duration / 1e6 < 2.2
