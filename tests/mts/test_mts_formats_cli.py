"""`hlskit package --engine mts` with issue 14's options, end to end through the CLI.

The SDKs talk to the local MPS/OSS stand-ins on 127.0.0.1 (tests/mts/mts_standins.py), which check
the signed requests and keep the parameters they accepted; never Alibaba Cloud.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

import m3u8
import pytest

from hlskit.engines.mts_formats import AV1_REFUSED, FMP4_REFUSED, HEVC_HLS_REFUSED
from tests.conftest import run_hlskit
from tests.mts.test_mts_engine import submits, upload_source

pytestmark = pytest.mark.slow

PACKAGE = ("--engine", "mts", "--out", "oss://out-bucket/hls/", "--segment-duration", "2")
KEY_URL = ("--key-url", "https://keys.example.com/keys")


def test_package_with_mp4_publishes_hls_and_records_the_downloads(cloud, source_clip):
    src = upload_source(cloud, source_clip, "talks/a.mp4")
    done = run_hlskit("package", src, *PACKAGE, *KEY_URL, "--content-id", "dl", "--ladder", "LD", "--mp4")
    assert done.returncode == 0, done.stderr
    [run] = cloud.store.runs("dl")
    assert run.state.value == "Published" and not run.code  # the MP4 job succeeded too

    [call] = submits(cloud)
    hls, mp4 = json.loads(call["Outputs"])
    assert hls["Container"] == {"Format": "m3u8"} and "Encryption" in hls
    assert (mp4["Container"], mp4["TemplateId"]) == ({"Format": "mp4"}, "S00000001-200010")
    assert unquote(mp4["OutputObject"]) == f"hls/dl/{run.run_id}/downloads/LD.mp4"

    master = m3u8.loads(cloud.oss.get("out-bucket", "hls/dl/master.m3u8").decode())
    assert [p.uri for p in master.playlists] == [f"{run.run_id}/LD/index.m3u8"]  # the MP4 is not a variant
    manifest = json.loads(cloud.oss.get("out-bucket", "hls/dl/hlskit.json"))
    [download] = manifest["downloads"]
    data = cloud.oss.get("out-bucket", f"hls/dl/{run.run_id}/downloads/LD.mp4")
    assert download["uri"] == f"{run.run_id}/downloads/LD.mp4" and download["state"] == "TranscodeSuccess"
    assert download["bytes"] == len(data) > 0


@pytest.mark.parametrize(
    ("options", "sentence"),
    [
        (("--format", "fmp4"), FMP4_REFUSED),
        (("--codec", "h264,av1"), AV1_REFUSED),
        (("--codec", "h264,hevc"), HEVC_HLS_REFUSED),
    ],
)
def test_package_refuses_what_mps_cannot_make_before_anything_is_created(cloud, source_clip, options, sentence):
    src = upload_source(cloud, source_clip, "talks/r.mp4")
    done = run_hlskit("package", src, *PACKAGE, *KEY_URL, "--content-id", "no", "--ladder", "LD", *options)
    assert done.returncode == 2 and done.stderr.strip() == f"error: {sentence}"
    assert cloud.mps.calls == [] and cloud.store.runs("no") == []


def test_no_wait_then_status_wait_records_the_downloads(cloud, source_clip):
    src = upload_source(cloud, source_clip, "talks/b.mp4")
    done = run_hlskit("package", src, *PACKAGE, *KEY_URL, "--content-id", "dl2", "--ladder", "LD", "--mp4", "--no-wait")
    assert done.returncode == 0, done.stderr
    done = run_hlskit("status", "dl2", "--wait", "--json")
    assert done.returncode == 0, done.stderr
    [run] = json.loads(done.stdout)
    assert run["state"] == "Published" and [j["state"] for j in run["jobs"]] == ["TranscodeSuccess"] * 2
    manifest = json.loads(cloud.oss.get("out-bucket", "hls/dl2/hlskit.json"))
    [download] = manifest["downloads"]
    data = cloud.oss.get("out-bucket", f"hls/dl2/{run['run_id']}/downloads/LD.mp4")
    assert download["uri"] == f"{run['run_id']}/downloads/LD.mp4" and download["state"] == "TranscodeSuccess"
    assert download["bytes"] == len(data) > 0
