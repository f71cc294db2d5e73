"""Local folder storage: writes that are whole or absent, listing, ranges; where a location lives."""

from __future__ import annotations

import stat
import threading

import pytest

from hlskit.domain.configs import AliyunConfig, OssConfig
from hlskit.domain.errors import ConfigError, InputError
from hlskit.storage import LocalStorage, is_remote, open_storage
from hlskit.storage.oss import OssStorage, split_oss_uri


def test_a_write_replaces_the_file_whole_and_leaves_no_temporary(tmp_path):
    s = LocalStorage(tmp_path)
    s.write_text("talk/LD/index.m3u8", "#EXTM3U\nold\n")
    s.write_text("talk/LD/index.m3u8", "#EXTM3U\nnew\n")
    assert s.read_text("talk/LD/index.m3u8") == "#EXTM3U\nnew\n"
    assert sorted(p.name for p in (tmp_path / "talk" / "LD").iterdir()) == ["index.m3u8"]
    assert stat.S_IMODE((tmp_path / "talk" / "LD" / "index.m3u8").stat().st_mode) == 0o644  # served to players


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    s = LocalStorage(tmp_path)
    s.write_bytes("seg.ts", b"old")

    with pytest.raises(TypeError):
        s.write_bytes("seg.ts", "not bytes")  # type: ignore[arg-type]  # fails after the temporary is made
    assert s.read_bytes("seg.ts") == b"old" and [p.name for p in tmp_path.iterdir()] == ["seg.ts"]


def test_readers_see_the_old_or_the_new_file_never_a_part(tmp_path):
    s = LocalStorage(tmp_path)
    old, new = b"a" * 1_000_000, b"b" * 1_000_000
    s.write_bytes("master.m3u8", old)
    seen: set[bytes] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            data = s.read_bytes("master.m3u8")
            seen.add(data[:1] + data[-1:] + str(len(data)).encode())

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(20):
        s.write_bytes("master.m3u8", new if i % 2 == 0 else old)
    stop.set()
    reader.join()
    assert seen <= {b"aa1000000", b"bb1000000"}


def test_listing_is_sorted_relative_and_recursive(tmp_path):
    s = LocalStorage(tmp_path)
    for path in ("talk/master.m3u8", "talk/LD/index.m3u8", "talk/LD/index-00001.ts", "other/x"):
        s.write_text(path, "x")
    assert s.list("talk") == ["talk/LD/index-00001.ts", "talk/LD/index.m3u8", "talk/master.m3u8"]
    assert s.list("talk/master.m3u8") == ["talk/master.m3u8"]
    assert s.list("missing") == []


def test_ranges_sizes_and_existence(tmp_path):
    s = LocalStorage(tmp_path)
    s.write_bytes("seg.ts", bytes(range(200)))
    assert s.read_bytes("seg.ts", 10, 5) == bytes(range(10, 15))
    assert s.read_bytes("seg.ts", 195) == bytes(range(195, 200))
    assert s.read_bytes("seg.ts", None, 3) == bytes(range(3)) and s.read_bytes("seg.ts", 0, 0) == b""
    assert s.size("seg.ts") == 200 and s.exists("seg.ts") and not s.exists("nope.ts")
    assert s.url("seg.ts") == str(tmp_path / "seg.ts")
    with pytest.raises(FileNotFoundError):
        s.read_text("nope.m3u8")


def test_paths_are_relative_to_the_root_and_absolute_paths_work_from_dot(tmp_path):
    LocalStorage().write_text(str(tmp_path / "a" / "b.txt"), "hi")
    assert (tmp_path / "a" / "b.txt").read_text() == "hi"


@pytest.mark.parametrize(
    "location, remote",
    [
        ("oss://bucket/prefix", True),
        ("oss://b", True),
        ("/srv/out", False),
        ("out/oss://x", False),
        ("OSS://b/p", False),
        ("s3://b/p", False),
    ],
)
def test_only_oss_locations_are_remote(location, remote):
    assert is_remote(location) is remote


def test_a_local_location_opens_as_local_storage():
    storage, path = open_storage("/srv/out/talk")
    assert isinstance(storage, LocalStorage) and path == "/srv/out/talk"


def test_an_oss_location_needs_credentials_and_says_which(tmp_path):
    with pytest.raises(ConfigError, match="Alibaba Cloud credentials are missing: set HLSKIT_MTS_ACCESS_KEY_ID"):
        open_storage("oss://bucket/hls/talk")
    config = OssConfig(AliyunConfig("id", "secret", "cn-hangzhou"), upload_state_dir=tmp_path)
    storage, key = open_storage("oss://bucket/hls/talk", config)  # no request is made to open it
    assert isinstance(storage, OssStorage) and key == "hls/talk" and storage.name == "bucket"
    assert storage.bucket.endpoint == "https://oss-cn-hangzhou.aliyuncs.com"


@pytest.mark.parametrize(
    "uri, parts", [("oss://b/a/b.mp4", ("b", "a/b.mp4")), ("oss://b/a/", ("b", "a")), ("oss://b", ("b", ""))]
)
def test_oss_uris_split_into_bucket_and_key(uri, parts):
    assert split_oss_uri(uri) == parts


@pytest.mark.parametrize("uri, words", [("/local/x", "is not an OSS location"), ("oss:///x", "names no bucket")])
def test_bad_oss_uris_are_one_sentence(uri, words):
    with pytest.raises(InputError, match=words):
        split_oss_uri(uri)
