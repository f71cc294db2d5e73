"""Stitching: failures are one clear sentence and leave nothing behind; the CLI's exit codes."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess

import pytest

from hlskit.domain.errors import InputError
from hlskit.hls.stitch import definitions_in, stitch
from hlskit.hls.validate import validate
from hlskit.pipeline.master import stitch_playlists, write_iframes, write_master
from hlskit.storage import LocalStorage
from tests.conftest import run_hlskit
from tests.hls.streams import encrypt_playlist

pytestmark = pytest.mark.slow


def _written(folder):
    return sorted(p.name for p in folder.rglob("*.m3u8") if p.name != "index.m3u8")


def stitch_folder(folder, key_resolver=None):
    """Stitch every <DEF>/index.m3u8 of a package folder and write the result."""
    storage = LocalStorage(folder)
    info = stitch(storage, "", definitions_in(storage, ""), key_resolver)
    write_master(storage, info)
    return info


def test_codecs_unreadable_without_the_key_fails_cleanly(ladder, tmp_path):
    shutil.copytree(ladder, tmp_path / "s")
    key = secrets.token_bytes(16)
    for d in ("LD", "HD"):
        encrypt_playlist(tmp_path / "s" / d / "index.m3u8", key, "https://keys.example.test/c/k")
    with pytest.raises(InputError) as err:
        stitch_playlists(
            [str(tmp_path / "s" / d / "index.m3u8") for d in ("LD", "HD")],
            str(tmp_path / "s" / "master.m3u8"),
            key_resolver=lambda uri: None,
        )
    assert err.value.message.startswith("CODECS of LD cannot be read: the key https://keys.example.test/c/k")
    assert key.hex() not in err.value.message
    assert _written(tmp_path / "s") == []  # no master, no I-frame playlist


def test_codecs_of_unsupported_video_fail_with_the_definition_named(ffmpeg, tmp_path):
    folder = tmp_path / "SD"
    folder.mkdir()
    subprocess.run(
        [
            ffmpeg,
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=25",
            "-t",
            "2",
            "-c:v",
            "mpeg2video",
            "-f",
            "hls",
            "-hls_time",
            "1",
            "-hls_playlist_type",
            "vod",
            str(folder / "index.m3u8"),
        ],
        check=True,
        capture_output=True,
    )
    with pytest.raises(InputError, match=r"^CODECS of SD cannot be read from .*stream type 0x02 is not H\.264 or AAC"):
        stitch_playlists([str(folder / "index.m3u8")], str(tmp_path / "master.m3u8"))
    assert not (tmp_path / "master.m3u8").exists()


def test_unfinished_playlist_is_refused(ladder, tmp_path):
    shutil.copytree(ladder, tmp_path / "s")
    media = tmp_path / "s" / "HD" / "index.m3u8"
    media.write_text(media.read_text().replace("#EXT-X-ENDLIST\n", ""))
    with pytest.raises(InputError, match=r"\(HD\) has no EXT-X-ENDLIST"):
        stitch_folder(tmp_path / "s")
    assert _written(tmp_path / "s") == []


def test_stitch_names_a_missing_path_and_a_file_that_is_no_playlist(tmp_path):
    video = tmp_path / "talk.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(64))
    env = {"HLSKIT_HOME": str(tmp_path / "home")}
    done = run_hlskit("stitch", str(tmp_path / "gone.mp4"), env=env)  # was "needs -o master.m3u8"
    assert done.returncode == 2 and f"{tmp_path / 'gone.mp4'} does not exist: pass a package folder" in done.stderr
    done = run_hlskit("stitch", str(video), "-o", str(tmp_path / "m.m3u8"), env=env)  # was "has no EXT-X-ENDLIST"
    assert done.returncode == 2 and "talk.mp4 (" in done.stderr, done.stderr
    assert "is not a playlist (no #EXTM3U first line)" in done.stderr, done.stderr
    assert not (tmp_path / "m.m3u8").exists()


def test_encrypted_package_without_a_key_source_fails_in_one_sentence(ladder, tmp_path):
    shutil.copytree(ladder, tmp_path / "s")
    key = secrets.token_bytes(16)
    for d in ("LD", "HD"):
        encrypt_playlist(tmp_path / "s" / d / "index.m3u8", key, "https://keys.example.test/c/k")
    with pytest.raises(InputError) as err:
        stitch_folder(tmp_path / "s", key_resolver=None)
    assert err.value.message.startswith("CODECS of HD cannot be read: its first segment is encrypted")
    assert "no key source was given" in err.value.message and err.value.message.count(". ") == 0
    assert _written(tmp_path / "s") == []


class RecordingStorage(LocalStorage):
    def __init__(self, root):
        super().__init__(root)
        self.writes = []

    def write_bytes(self, path, data, content_type=None):
        self.writes.append((path, content_type))
        super().write_bytes(path, data, content_type)


def test_stitch_writes_nothing_and_leaves_the_manifest_alone(ladder, tmp_path):
    shutil.copytree(ladder, tmp_path / "s")
    manifest = json.dumps({"hlskit": 1, "content_id": "c", "master": None})
    (tmp_path / "s" / "hlskit.json").write_text(manifest)
    storage = RecordingStorage(tmp_path / "s")
    info = stitch(storage, "", [("LD", "LD/index.m3u8")], None)
    assert storage.writes == [] and _written(tmp_path / "s") == []
    assert [v.definition for v in info.variants] == ["LD"]
    assert "HD/" not in info.text and "LD/index.m3u8" in info.text
    assert list(info.iframes) == ["LD/iframes.m3u8"] and "#EXT-X-I-FRAMES-ONLY" in info.iframes["LD/iframes.m3u8"]
    recorded = info.record()
    assert recorded.uri == "master.m3u8" and recorded.session_key is None
    assert recorded.variants[0].bandwidth == info.variants[0].bandwidth
    assert recorded.variants[0].iframe["uri"] == "LD/iframes.m3u8"
    write_master(storage, info)
    # I-frame playlists first, the master last: its appearance is what makes the package visible.
    assert storage.writes == [
        ("LD/iframes.m3u8", "application/vnd.apple.mpegurl"),
        ("master.m3u8", "application/vnd.apple.mpegurl"),
    ]
    assert (tmp_path / "s" / "master.m3u8").read_text() == info.text
    assert (tmp_path / "s" / "LD" / "iframes.m3u8").read_text() == info.iframes["LD/iframes.m3u8"]
    assert (tmp_path / "s" / "hlskit.json").read_text() == manifest


def test_master_validated_before_it_is_written(ladder, tmp_path):
    shutil.copytree(ladder, tmp_path / "s")
    storage = LocalStorage(tmp_path / "s")
    info = stitch(storage, "", definitions_in(storage, ""), None)
    write_iframes(storage, info)
    master = tmp_path / "s" / "master.m3u8"
    report = validate(str(master), master_text=info.text)
    assert not master.exists()
    assert report.kind == "master" and report.must == [], [(f.rule, f.message) for f in report.must]
    assert sorted(v.name for v in report.variants) == ["HD/index.m3u8", "LD/index.m3u8"]
    assert all(v.declared_bandwidth == v.measured_peak for v in report.variants)
    broken = validate(str(master), master_text=info.text.replace("#EXT-X-I-FRAME-STREAM-INF", "#X"))
    assert "AHS-6.1" in broken.rules("MUST")


def test_the_lowest_variant_comes_first_by_default(ladder, tmp_path):
    """Players that start with the first variant (stock hls.js) get a first frame fastest on a slow
    network from the lowest rung (measured: bench/RESULTS.md, "fast start")."""
    shutil.copytree(ladder, tmp_path / "s")
    (tmp_path / "s" / "HD").rename(tmp_path / "s" / "SD")
    info = stitch_folder(tmp_path / "s")
    assert [v.definition for v in info.variants] == ["LD", "SD"]


def test_cli_stitch_package_folder(ladder, tmp_path):
    """`hlskit stitch DIR` goes through the pipeline's restitch (it owns hlskit.json)."""
    shutil.copytree(ladder, tmp_path / "s")
    env = {"HLSKIT_HOME": str(tmp_path / "home")}
    done = run_hlskit("stitch", str(tmp_path / "s"), env=env)
    assert done.returncode == 0, done.stderr
    assert "BANDWIDTH=" in done.stdout and (tmp_path / "s" / "master.m3u8").exists()
    assert f"wrote {tmp_path / 's' / 'master.m3u8'}" in done.stdout
    assert run_hlskit("stitch", str(tmp_path / "s"), "-o", "x.m3u8", env=env).returncode == 2


def test_cli_exit_codes_and_json(ladder, tmp_path):
    shutil.copytree(ladder, tmp_path / "s")
    env = {"HLSKIT_HOME": str(tmp_path / "home")}
    done = run_hlskit(
        "stitch",
        *(str(tmp_path / "s" / d / "index.m3u8") for d in ("LD", "HD")),
        "-o",
        str(tmp_path / "s" / "master.m3u8"),
        env=env,
    )
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


def test_absolute_prefix_in_a_root_storage_gives_relative_uris(ladder, tmp_path):
    """LocalStorage() with absolute paths, as a local staging folder is stitched."""
    shutil.copytree(ladder, tmp_path / "s")
    folder = (tmp_path / "s").as_posix()
    info = stitch(LocalStorage(), folder + "/", [(d, f"{folder}/{d}/index.m3u8") for d in ("LD", "HD")], None)
    assert info.path == f"{folder}/master.m3u8"
    assert sorted(v.uri for v in info.variants) == ["HD/index.m3u8", "LD/index.m3u8"]
    assert sorted(v.iframe_uri for v in info.variants) == ["HD/iframes.m3u8", "LD/iframes.m3u8"]
    assert sorted(info.iframes) == [f"{folder}/HD/iframes.m3u8", f"{folder}/LD/iframes.m3u8"]
