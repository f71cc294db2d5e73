"""`hlskit package` and `hlskit status --wait` with the mts engine, end to end through the CLI.

The SDKs talk to the local MPS/OSS stand-ins (tests/mts/mts_standins.py), never to Alibaba Cloud.
"""

from __future__ import annotations

import json

import m3u8
import pytest

from tests.conftest import run_hlskit
from tests.mts.test_mts_engine import upload_source

pytestmark = pytest.mark.slow


def test_package_from_oss_to_oss_stitches_and_uploads_the_master(cloud, source_clip):
    src = upload_source(cloud, source_clip, "talks/a.mp4")
    done = run_hlskit(
        "package",
        src,
        "--engine",
        "mts",
        "--out",
        "oss://out-bucket/hls/",
        "--content-id",
        "talk",
        "--ladder",
        "LD,SD",
        "--segment-duration",
        "2",
        "--key-url",
        "https://keys.example.com/keys",
    )
    assert done.returncode == 0, done.stderr
    assert "TranscodeSuccess" in done.stdout and cloud.settings.mts_access_key_secret not in done.stdout + done.stderr
    master = m3u8.loads(cloud.oss.get("out-bucket", "hls/talk/master.m3u8").decode())
    [run] = cloud.store.runs("talk")
    # the 320x180 stand-in source caps SD at LD's size, so only LD is made (never encoded twice);
    # each run writes under its own prefix, and the master (uploaded last) points at it
    assert [p.uri for p in master.playlists] == [f"{run.run_id}/LD/index.m3u8"]
    assert run.state.value == "Published"
    assert master.playlists[0].stream_info.codecs.startswith("avc1.")  # read from the media MPS wrote
    manifest = json.loads(cloud.oss.get("out-bucket", "hls/talk/hlskit.json"))
    assert manifest["engine"] == "mts" and manifest["source"]["path"] == src
    assert all(k.get("iv") is None for k in manifest["keys"])  # MPS takes no IV
    assert "Signature" not in json.dumps(manifest)  # the signed probe URL never lands in the manifest


def test_no_wait_then_status_wait_finishes_the_package(cloud, source_clip):
    src = upload_source(cloud, source_clip, "talks/b.mp4")
    done = run_hlskit(
        "package",
        src,
        "--engine",
        "mts",
        "--out",
        "oss://out-bucket/hls",
        "--content-id",
        "later",
        "--ladder",
        "LD",
        "--segment-duration",
        "2",
        "--no-wait",
    )
    assert done.returncode == 0, done.stderr
    assert "Submitted" in done.stdout and cloud.oss.get("out-bucket", "hls/later/master.m3u8") is None
    done = run_hlskit("status", "later", "--wait", "--json")
    assert done.returncode == 0, done.stderr
    [run] = json.loads(done.stdout)
    assert run["state"] == "Published" and [j["state"] for j in run["jobs"]] == ["TranscodeSuccess"]
    assert cloud.oss.get("out-bucket", "hls/later/master.m3u8") is not None


def test_mts_engine_needs_an_oss_output(cloud, source_clip, tmp_path):
    done = run_hlskit("package", str(source_clip), "--engine", "mts", "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "give --out oss://" in done.stderr
    assert not (tmp_path / "out").exists()


def test_no_wait_with_notify_sends_events_when_status_wait_sees_the_jobs_end(cloud, source_clip, monkeypatch):
    import threading
    from http.server import ThreadingHTTPServer

    from tests.notify.conftest import SECRET, Receiver, _handler

    rx = Receiver()
    rx.gate.set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rx))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    monkeypatch.setenv("HLSKIT_NOTIFY_SECRET", SECRET)
    try:
        src = upload_source(cloud, source_clip, "talks/c.mp4")
        done = run_hlskit(
            "package",
            src,
            "--engine",
            "mts",
            "--out",
            "oss://out-bucket/hls",
            "--content-id",
            "hook",
            "--ladder",
            "LD",
            "--segment-duration",
            "2",
            "--no-wait",
            "--notify",
            url,
        )
        assert done.returncode == 0, done.stderr
        assert rx.requests == []  # nothing has ended yet
        done = run_hlskit("status", "hook", "--wait")
        assert done.returncode == 0, done.stderr
    finally:
        server.shutdown()
    events = sorted(rx.accepted.values(), key=lambda e: e["type"])
    assert [(e["type"], e["state"], e["contentId"]) for e in events] == [
        ("Package", "Success", "hook"),
        ("Transcode", "Success", "hook"),
    ]
    assert events[1]["definition"] == "LD"


def _definition_of(job: dict) -> str:
    return json.loads(job["Output"]["UserData"])["definition"]


def test_second_run_after_a_failed_definition_gets_a_validated_master(cloud, source_clip):
    """Finishing looks at one run: the first run's failed definition does not block the second run."""
    src = upload_source(cloud, source_clip, "talks/r.mp4")
    args = (
        "package",
        src,
        "--engine",
        "mts",
        "--out",
        "oss://out-bucket/hls",
        "--content-id",
        "retry",
        "--ladder",
        "ladder.toml",
        "--segment-duration",
        "2",
    )
    ladder = cloud.settings.home / "ladder.toml"
    ladder.write_text(
        '[[definition]]\nname = "LD"\nwidth = 256\nvideo_kbps = 200\naudio_kbps = 64\n'
        'template_id = "S00000001-100010"\n'
        '[[definition]]\nname = "SD"\nwidth = 320\nvideo_kbps = 400\naudio_kbps = 64\n'
        'template_id = "S00000001-100020"\n'
    )
    args = tuple(str(ladder) if a == "ladder.toml" else a for a in args)
    cloud.mps.fail_rule = lambda job: ("InvalidParameter.Bad", "bad output") if _definition_of(job) == "SD" else None
    first = run_hlskit(*args)
    assert first.returncode == 1 and "SD" in first.stderr, first.stderr  # LD published, SD failed

    cloud.mps.fail_rule = lambda job: None
    second = run_hlskit(*args)
    assert second.returncode == 0, second.stderr
    run1, run2 = cloud.store.runs("retry")
    assert (run1.state.value, run1.code) == ("Published", "PartialFail") and run2.state.value == "Published"
    master = cloud.oss.get("out-bucket", "hls/retry/master.m3u8").decode()
    assert sorted(line for line in master.splitlines() if line.endswith("index.m3u8")) == [
        f"{run2.run_id}/LD/index.m3u8",
        f"{run2.run_id}/SD/index.m3u8",
    ]
    manifest = json.loads(cloud.oss.get("out-bucket", "hls/retry/hlskit.json"))
    assert manifest["run_id"] == run2.run_id and manifest["validation"]["must_fix"] == []
    assert [v["definition"] for v in manifest["master"]["variants"]] and "BANDWIDTH=" in master
    # only the published run's key is live; the replaced package's key was revoked
    live = {r.key_id for r in cloud.keystore.list("retry") if not r.revoked}
    assert live == {k["key_id"] for k in manifest["keys"]} and len(cloud.keystore.list("retry")) == 2


def test_a_run_whose_every_definition_failed_publishes_nothing_and_leaves_no_live_key(cloud, source_clip):
    src = upload_source(cloud, source_clip, "talks/f.mp4")
    cloud.mps.fail_rule = lambda job: ("InvalidParameter.Bad", "bad output")
    done = run_hlskit(
        "package",
        src,
        "--engine",
        "mts",
        "--out",
        "oss://out-bucket/hls",
        "--content-id",
        "dud",
        "--ladder",
        "LD",
        "--segment-duration",
        "2",
    )
    assert done.returncode == 1 and "nothing was published" in done.stderr and "Traceback" not in done.stderr
    [run] = cloud.store.runs("dud")
    assert run.state.value == "Failed"
    assert cloud.oss.get("out-bucket", "hls/dud/master.m3u8") is None
    assert [r.revoked for r in cloud.keystore.list("dud")] == [True]
