"""Stitching: failures are one clear sentence and leave nothing behind; the CLI's exit codes."""
from __future__ import annotations

import json
import secrets
import shutil
import subprocess

import pytest

from hlskit.domain.errors import InputError
from hlskit.hls.master import stitch_package, stitch_playlists
from tests.conftest import run_hlskit
from tests.hls.streams import encrypt_playlist


def _written(folder):
    return sorted(p.name for p in folder.rglob("*.m3u8") if p.name != "index.m3u8")


def test_codecs_unreadable_without_the_key_fails_cleanly(ladder, tmp_path):
    shutil.copytree(ladder, tmp_path / "s")
    key = secrets.token_bytes(16)
    for d in ("LD", "HD"):
        encrypt_playlist(tmp_path / "s" / d / "index.m3u8", key, "https://keys.example.test/c/k")
    with pytest.raises(InputError) as err:
        stitch_playlists([str(tmp_path / "s" / d / "index.m3u8") for d in ("LD", "HD")],
                         str(tmp_path / "s" / "master.m3u8"), key_resolver=lambda uri: None)
    assert err.value.message.startswith("CODECS of LD cannot be read: the key https://keys.example.test/c/k")
    assert key.hex() not in err.value.message
    assert _written(tmp_path / "s") == []  # no master, no I-frame playlist


def test_codecs_of_unsupported_video_fail_with_the_definition_named(ffmpeg, tmp_path):
    folder = tmp_path / "SD"
    folder.mkdir()
    subprocess.run([ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-t", "2",
                    "-c:v", "mpeg2video", "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod",
                    str(folder / "index.m3u8")], check=True, capture_output=True)
    with pytest.raises(InputError, match=r"^CODECS of SD cannot be read from .*stream type 0x02 is not H\.264 or AAC"):
        stitch_playlists([str(folder / "index.m3u8")], str(tmp_path / "master.m3u8"))
    assert not (tmp_path / "master.m3u8").exists()


def test_unfinished_playlist_is_refused(ladder, tmp_path):
    shutil.copytree(ladder, tmp_path / "s")
    media = tmp_path / "s" / "HD" / "index.m3u8"
    media.write_text(media.read_text().replace("#EXT-X-ENDLIST\n", ""))
    with pytest.raises(InputError, match=r"\(HD\) has no EXT-X-ENDLIST"):
        stitch_package(tmp_path / "s")


def test_package_manifest_picks_finished_definitions_and_records_master(ladder, tmp_path):
    shutil.copytree(ladder, tmp_path / "s")
    manifest = {"hlskit": 1, "content_id": "c", "definitions": [
        {"name": "LD", "state": "TranscodeSuccess", "playlist": "LD/index.m3u8"},
        {"name": "HD", "state": "TranscodeFail", "playlist": None},
    ], "master": None}
    (tmp_path / "s" / "hlskit.json").write_text(json.dumps(manifest))
    info = stitch_package(tmp_path / "s")
    assert [v.definition for v in info.variants] == ["LD"]
    text = (tmp_path / "s" / "master.m3u8").read_text()
    assert "HD/" not in text and "LD/index.m3u8" in text
    recorded = json.loads((tmp_path / "s" / "hlskit.json").read_text())["master"]
    assert recorded["variants"][0]["bandwidth"] == info.variants[0].bandwidth
    assert recorded["variants"][0]["iframe"]["uri"] == "LD/iframes.m3u8"


def test_start_variant_nearest_2mbps_without_hd(ladder, tmp_path):
    shutil.copytree(ladder, tmp_path / "s")
    (tmp_path / "s" / "HD").rename(tmp_path / "s" / "SD")
    info = stitch_package(tmp_path / "s")
    assert [v.definition for v in info.variants] == ["SD", "LD"]  # 700k rung is nearer 2 Mb/s


def test_cli_exit_codes_and_json(ladder, tmp_path):
    shutil.copytree(ladder, tmp_path / "s")
    env = {"HLSKIT_HOME": str(tmp_path / "home")}
    done = run_hlskit("stitch", str(tmp_path / "s"), env=env)
    assert done.returncode == 0, done.stderr
    assert "BANDWIDTH=" in done.stdout and (tmp_path / "s" / "master.m3u8").exists()
    ok = run_hlskit("validate", str(tmp_path / "s" / "master.m3u8"), "--json", env=env)
    assert ok.returncode == 0, ok.stdout
    report = json.loads(ok.stdout)
    assert report["must_fix"] == 0 and len(report["variants"]) == 2
    media = tmp_path / "s" / "LD" / "index.m3u8"
    media.write_text(media.read_text().replace("#EXT-X-ENDLIST\n", ""))
    bad = run_hlskit("validate", str(tmp_path / "s" / "master.m3u8"), env=env)
    assert bad.returncode == 1 and "[P3]" in bad.stdout and "MUST fix: 1" in bad.stdout
    gone = run_hlskit("validate", str(tmp_path / "nope.m3u8"), env=env)
    assert gone.returncode == 2 and gone.stderr.startswith("error: cannot read") and "Traceback" not in gone.stderr
    usage = run_hlskit("stitch", str(media), env=env)
    assert usage.returncode == 2 and "needs -o" in usage.stderr
