"""hlskit package on real FFmpeg output: playlists, encryption, alignment, bad inputs, atomicity."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import m3u8
import pytest

from hlskit.domain.runs import JobState, RunState
from hlskit.hls.crypto import decrypt_segment
from hlskit.hls.playlist import round_half_up
from hlskit.stores.jobs import JobStore
from hlskit.stores.keys import KeyStore
from tests.conftest import HLSKIT, run_hlskit
from tests.tsutil import first_pts, starts_with_idr, ts_sync_ok

pytestmark = pytest.mark.slow


def media_playlists(pkg_dir: Path) -> dict[str, m3u8.M3U8]:
    return {d.name: m3u8.load(str(d / "index.m3u8")) for d in sorted(pkg_dir.iterdir()) if (d / "index.m3u8").is_file()}


def test_one_job_per_definition_with_vod_playlists(packaged):
    manifest = packaged.manifest
    assert [d["name"] for d in manifest["definitions"]] == ["LD", "SD", "HD"]
    assert len({d["job_id"] for d in manifest["definitions"]}) == 3
    assert all(d["state"] == "TranscodeSuccess" for d in manifest["definitions"])
    store = JobStore(packaged.home / "jobs.db")
    jobs = store.list(packaged.content_id)
    assert sorted(j.definition for j in jobs) == ["HD", "LD", "SD"]
    assert all(j.state == JobState.SUCCESS and j.percent == 100 for j in jobs)
    playlists = media_playlists(packaged.dir)
    assert set(playlists) == {"LD", "SD", "HD"}
    for name, pl in playlists.items():
        text = (packaged.dir / name / "index.m3u8").read_text()
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in text and text.rstrip().endswith("#EXT-X-ENDLIST")
        assert pl.is_endlist and pl.playlist_type == "vod"
        assert all(round_half_up(s.duration) <= pl.target_duration for s in pl.segments)
        assert [s.uri for s in pl.segments] == [f"index-{i:05d}.ts" for i in range(1, len(pl.segments) + 1)]


def test_every_segment_decrypts_with_the_stored_key_and_starts_with_idr(packaged):
    keys = KeyStore(packaged.home / "keys.db", packaged.home / "master.key")
    for name, pl in media_playlists(packaged.dir).items():
        for seg in pl.segments:
            key_tag = seg.key
            assert key_tag.method == "AES-128" and key_tag.iv.startswith("0x") and len(key_tag.iv) == 34
            cid, kid = key_tag.uri.rstrip("/").split("/")[-2:]
            assert cid == packaged.content_id
            key = keys.get(cid, kid)
            cipher = (packaged.dir / name / seg.uri).read_bytes()
            plain = decrypt_segment(cipher, key, bytes.fromhex(key_tag.iv[2:]))  # PKCS#7 checked here
            assert ts_sync_ok(plain), f"{name}/{seg.uri} is not TS after decryption"
            assert starts_with_idr(plain), f"{name}/{seg.uri} does not start with an IDR frame"


def test_definitions_have_identical_segment_boundaries(packaged):
    keys = KeyStore(packaged.home / "keys.db", packaged.home / "master.key")
    playlists = media_playlists(packaged.dir)
    durations = {n: [round(s.duration, 3) for s in pl.segments] for n, pl in playlists.items()}
    assert len(set(map(tuple, durations.values()))) == 1, durations
    starts = {}
    for name, pl in playlists.items():
        key = keys.get(packaged.content_id, pl.segments[0].key.uri.split("/")[-1])
        starts[name] = [
            first_pts(decrypt_segment((packaged.dir / name / s.uri).read_bytes(), key, bytes.fromhex(s.key.iv[2:])))
            for s in pl.segments
        ]
    ref = starts["LD"]
    for name, pts in starts.items():
        assert all(abs(a - b) <= 1 / 30 for a, b in zip(pts, ref)), (name, pts, ref)


def test_no_file_in_the_package_contains_the_data_key(packaged):
    keys = KeyStore(packaged.home / "keys.db", packaged.home / "master.key")
    secrets = []
    for rec in keys.list(packaged.content_id):
        raw = keys.get(rec.content_id, rec.key_id)
        if raw:
            secrets += [
                raw,
                raw.hex().encode(),
                raw.hex().upper().encode(),
                base64.b64encode(raw).rstrip(b"="),
                base64.urlsafe_b64encode(raw).rstrip(b"="),
            ]
    assert secrets
    for path in packaged.out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(s in data for s in secrets), f"{path} contains the data key"
    manifest_text = (packaged.dir / "hlskit.json").read_text()
    assert "key_id" in manifest_text and all(s.decode() not in manifest_text for s in secrets[1:2])


def tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


@pytest.mark.parametrize("kind", ["text", "empty", "truncated", "truncated-tail", "audio-only"])
def test_bad_inputs_exit_2_with_one_sentence_and_leave_out_unchanged(kind, tmp_path, ffmpeg, make_clip):
    out = tmp_path / "out"
    (out / "keep").mkdir(parents=True)
    (out / "keep" / "file.txt").write_text("existing package")
    before = tree(out)
    bad = tmp_path / f"{kind}.mp4"
    if kind == "text":
        bad.write_text("this is not a video\n")
    elif kind == "empty":
        bad.write_bytes(b"")
    elif kind.startswith("truncated"):
        good = make_clip(tmp_path / "good.mp4", seconds=2)
        data = good.read_bytes()
        bad.write_bytes(data[: len(data) // 2] if kind == "truncated" else data[: int(len(data) * 0.95)])
    else:
        subprocess.run(
            [ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", "sine=d=2", "-c:a", "aac", str(bad)], check=True
        )
    done = run_hlskit("package", str(bad), "--out", str(out), env={"HLSKIT_HOME": str(tmp_path / "home")})
    assert done.returncode == 2, done.stderr
    lines = [l for l in done.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in done.stderr, done.stderr
    assert str(bad) in lines[0]
    assert tree(out) == before


def test_small_source_yields_only_ld_and_progress_is_shown(tmp_path, make_clip):
    src = make_clip(tmp_path / "small.mp4", width=640, height=360, seconds=2)
    done = run_hlskit(
        "package",
        str(src),
        "--out",
        str(tmp_path / "out"),
        "--content-id",
        "small",
        "--segment-duration",
        "1",
        env={"HLSKIT_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out" / "small").iterdir() if p.is_dir()) == ["LD"]
    assert "100%" in done.stderr  # plain progress lines when not on a terminal


def test_rotated_phone_clip_gets_portrait_rungs(tmp_path, make_clip, hlskit_env):
    from hlskit.domain.plan import PackageOptions
    from hlskit.engines import get_engine
    from hlskit.pipeline import run_package
    from hlskit.pipeline.plan import plan_package
    from hlskit.pipeline.probe import probe

    phone = make_clip(tmp_path / "phone.mp4", width=1920, height=1080, seconds=1, rotate=90)
    plan = plan_package(
        str(phone), str(tmp_path / "out"), hlskit_env, PackageOptions(), "r1", get_engine("local", hlskit_env)
    )
    assert [(r.name, r.width, r.height) for r in plan.rungs] == [
        ("LD", 360, 640),
        ("SD", 478, 848),
        ("HD", 720, 1280),
        ("FHD", 1080, 1920),
    ]
    small = make_clip(tmp_path / "small-phone.mp4", width=320, height=180, seconds=2, rotate=90)
    result = run_package(
        str(small),
        str(tmp_path / "out"),
        hlskit_env,
        PackageOptions(segment_duration=1, encrypt=False, content_id="phone"),
    )
    seg = Path(result.dir) / "LD" / "index-00001.ts"
    info = probe(seg)
    assert (info.video.display_width, info.video.display_height) == (180, 320)


def test_a_failing_definition_fails_alone_and_says_why(tmp_path, make_clip, ffmpeg):
    """FFmpeg wrapped so that any process encoding SD (its -var_stream_map name) fails: LD and HD must still be published."""
    wrapper = tmp_path / "ffmpeg-failing-sd"
    wrapper.write_text(
        f'#!/bin/sh\ncase "$*" in *"name:SD"*) echo "SD: No space left on device" >&2; exit 1;; esac\n'
        f'exec "{ffmpeg}" "$@"\n'
    )
    wrapper.chmod(0o755)
    src = make_clip(tmp_path / "in.mp4", width=960, height=540, seconds=2)
    env = {"HLSKIT_HOME": str(tmp_path / "home"), "HLSKIT_FFMPEG": str(wrapper)}
    done = run_hlskit(
        "package",
        str(src),
        "--out",
        str(tmp_path / "out"),
        "--content-id",
        "c",
        "--segment-duration",
        "1",
        "--json",
        env=env,
    )
    assert done.returncode == 1
    manifest = json.loads((tmp_path / "out" / "c" / "hlskit.json").read_text())
    states = {d["name"]: (d["state"], d["message"]) for d in manifest["definitions"]}
    assert states["LD"][0] == "TranscodeSuccess" and states["SD"][0] == "TranscodeFail"
    assert "No space left on device" in states["SD"][1]
    assert not (tmp_path / "out" / "c" / "SD").exists()
    assert "SD failed" in done.stderr


def _package_in_background(tmp_path, make_clip, content_id):
    src = make_clip(tmp_path / "long.mp4", width=1280, height=720, seconds=20)
    env = {**os.environ, "HLSKIT_HOME": str(tmp_path / "home"), "HLSKIT_X264_PRESET": "medium"}
    proc = subprocess.Popen(
        [
            *HLSKIT,
            "package",
            str(src),
            "--out",
            str(tmp_path / "out"),
            "--content-id",
            content_id,
            "--segment-duration",
            "2",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    store = JobStore(tmp_path / "home" / "jobs.db")
    deadline = time.time() + 60
    while time.time() < deadline:
        jobs = store.list(content_id) if (tmp_path / "home" / "jobs.db").exists() else []
        if jobs and all(j.state == JobState.TRANSCODING for j in jobs):
            return proc, store, env
        time.sleep(0.2)
    proc.kill()
    pytest.fail("packaging never started")


def test_cancel_refuses_an_encoding_job_and_cancels_the_run(tmp_path, make_clip):
    """As MPS's CancelJob: a job that is encoding cannot be cancelled alone; its run can, and that is no failure."""
    proc, store, env = _package_in_background(tmp_path, make_clip, "cx")
    sd = next(j for j in store.list("cx") if j.definition == "SD")
    refused = subprocess.run([*HLSKIT, "cancel", sd.job_id[:12]], env=env, capture_output=True, text=True)
    assert refused.returncode == 2 and f"hlskit cancel {sd.run_id}" in refused.stderr
    assert "Traceback" not in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    done = subprocess.run([*HLSKIT, "cancel", sd.run_id], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.count("TranscodeCancelled") == 3, done.stdout + done.stderr
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 3 and "was cancelled" in err and "failed" not in err, err
    assert not (tmp_path / "out").exists()  # nothing published: the --out folder the run made is gone too
    [run] = store.runs("cx")
    assert run.state == RunState.CANCELLED
    assert {j.state for j in store.run_jobs(run.run_id)} == {JobState.CANCELLED}
    keys = KeyStore(tmp_path / "home" / "keys.db", tmp_path / "home" / "master.key")
    assert keys.list("cx") and all(r.revoked for r in keys.list("cx"))


def test_interrupted_run_leaves_nothing_visible(tmp_path, make_clip):
    proc, store, env = _package_in_background(tmp_path, make_clip, "ix")
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert not (tmp_path / "out").exists()  # nothing published: the --out folder the run made is gone too
    assert all(j.state == JobState.FAIL and j.code == "Interrupted" for j in store.list("ix"))
    keys = KeyStore(tmp_path / "home" / "keys.db", tmp_path / "home" / "master.key")
    assert keys.list("ix") and all(r.revoked for r in keys.list("ix"))  # no live key of a run that did not publish
    # and status in a new process sees the same truth
    done = subprocess.run([*HLSKIT, "status", "ix", "--json"], env=env, capture_output=True, text=True)
    [run] = json.loads(done.stdout)
    assert run["state"] == "Interrupted" and {j["state"] for j in run["jobs"]} == {"TranscodeFail"}


def test_output_failing_validation_is_not_published(tmp_path, make_clip, ffmpeg):
    """FFmpeg wrapped to drop the forced keyframe grid and give SD another GOP: segments misalign."""
    wrapper = tmp_path / "ffmpeg-misaligned"
    wrapper.write_text(f"""#!{sys.executable}
import os, sys
args, out, outputs, i = sys.argv[1:], [], 0, 0
while i < len(args):
    a = args[i]
    name = a.split(":")[0]  # -g:v:1: options carry their stream specifier
    if name == "-force_key_frames":
        i += 2
        continue
    if name in ("-g", "-keyint_min"):
        outputs += name == "-g"
        out += [a, "45" if outputs == 2 else args[i + 1]]
        i += 2
        continue
    out.append(a)
    i += 1
os.execv({ffmpeg!r}, [{ffmpeg!r}, *out])
""")
    wrapper.chmod(0o755)
    src = make_clip(tmp_path / "in.mp4", width=960, height=540, seconds=4)
    env = {"HLSKIT_HOME": str(tmp_path / "home"), "HLSKIT_FFMPEG": str(wrapper)}
    done = run_hlskit(
        "package", str(src), "--out", str(tmp_path / "out"), "--content-id", "bad", "--segment-duration", "2", env=env
    )
    assert done.returncode == 1
    assert "fails validation" in done.stderr and "T4" in done.stderr, done.stderr  # SD cut at 3 s, LD at 2 s
    assert not (tmp_path / "out").exists()  # nothing published: the --out folder the run made is gone too


def test_content_id_rule_is_the_same_for_package_as_for_the_routes(tmp_path, make_clip):
    """Dots are allowed (the key, media and player routes accept them too: tests/server/test_content_ids.py);
    a trailing newline, which a `$`-anchored pattern lets through, is refused before anything is written."""
    src = make_clip(tmp_path / "in.mp4", seconds=2)
    env = {"HLSKIT_HOME": str(tmp_path / "home")}
    out = tmp_path / "out"
    bad = run_hlskit("package", str(src), "--out", str(out), "--content-id", "x\n", env=env)
    assert bad.returncode == 2 and "content id 'x\\n' is not valid" in bad.stderr and "Traceback" not in bad.stderr
    assert not out.exists()
    good = run_hlskit(
        "package", str(src), "--out", str(out), "--content-id", "talk.v2", "--segment-duration", "1", env=env
    )
    assert good.returncode == 0, good.stderr
    manifest = json.loads((out / "talk.v2" / "hlskit.json").read_text())
    assert manifest["content_id"] == "talk.v2" and manifest["keys"][0]["uri"].endswith(
        f"/talk.v2/{manifest['keys'][0]['key_id']}"
    )
