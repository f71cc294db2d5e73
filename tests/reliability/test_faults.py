"""Faults while packaging: signals during encoding and during encryption, disk full, read-only
output, a damaged job or key store. Each ends with a documented exit code and one sentence, no
FFmpeg left running, no live key of the run that did not publish, nothing visible under --out,
and the same command run again succeeds.

Concurrent runs of one content id are covered by tests/package/test_concurrency.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hlskit.domain.runs import JobState
from hlskit.stores.jobs import JobStore
from tests.conftest import HLSKIT, run_hlskit
from tests.reliability.helpers import (
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_JOB,
    EXIT_OK,
    SIGNALS,
    assert_outcome,
    ffmpeg_children,
    gone_within,
    live_keys,
    processes_mentioning,
    visible,
)

pytestmark = pytest.mark.slow


def _cmd(src: Path, out: Path, cid: str) -> list[str]:
    return ["package", str(src), "--out", str(out), "--content-id", cid, "--segment-duration", "1", "--ladder", "LD"]


def _start(tmp_path: Path, src: Path, cid: str, **env) -> subprocess.Popen:
    full = {**os.environ, "HLSKIT_HOME": str(tmp_path / "home"), **env}
    return subprocess.Popen(
        [*HLSKIT, *_cmd(src, tmp_path / "out", cid)],
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _again_succeeds(tmp_path: Path, src: Path, cid: str) -> None:
    """The same command again publishes exactly one package and leaves nothing else behind."""
    done = run_hlskit(*_cmd(src, tmp_path / "out", cid), env={"HLSKIT_HOME": str(tmp_path / "home")})
    assert_outcome(done, EXIT_OK, tmp_path / "out", tmp_path / "home", str(tmp_path))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [cid]  # no staging left either
    manifest = json.loads((tmp_path / "out" / cid / "hlskit.json").read_text())
    assert live_keys(tmp_path / "home") == {(cid, k["key_id"]) for k in manifest["keys"]}


def _ended(proc: subprocess.Popen, sig: str, tmp_path: Path, cid: str) -> None:
    """After the signal: the exit, the store's truth, no orphan, no live key, nothing visible."""
    _, err = proc.communicate(timeout=60)
    home, out = tmp_path / "home", tmp_path / "out"
    if sig == "SIGKILL":
        assert proc.returncode == -9
        status = run_hlskit("status", cid, "--json", env={"HLSKIT_HOME": str(home)})  # notices the dead run
        assert status.returncode == 0, status.stderr
        [run] = json.loads(status.stdout)
        assert run["state"] == "Interrupted" and {j["state"] for j in run["jobs"]} == {"TranscodeFail"}
        assert not list(out.glob(".*.partial-*")), "status left the killed run's staging (clear segments) behind"
    else:
        assert proc.returncode == EXIT_INTERRUPTED, err
        assert [line for line in err.splitlines() if line.startswith("error:")] == [
            "error: interrupted; the run in progress was not published (`hlskit status` lists every run)."
        ], err
        assert "Traceback" not in err
        [run] = JobStore(home / "jobs.db").runs(cid)
        assert run.state.value == "Interrupted"
    assert not processes_mentioning(str(tmp_path)), "FFmpeg outlived hlskit"
    assert visible(out) == []
    assert live_keys(home) == set()


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory, ffmpeg) -> Path:
    from tests.reliability.inputs import clip

    return clip(ffmpeg, tmp_path_factory.mktemp("src") / "long.mp4", 640, 360, seconds=12)


@pytest.mark.parametrize("sig", list(SIGNALS))
def test_signal_during_encoding(sig, tmp_path, long_clip):
    src = tmp_path / "in.mp4"
    src.write_bytes(long_clip.read_bytes())
    proc = _start(tmp_path, src, "enc", HLSKIT_X264_PRESET="slower")
    store_path = tmp_path / "home" / "jobs.db"
    deadline, kids = time.time() + 60, []
    while time.time() < deadline and not kids:
        jobs = JobStore(store_path).list("enc") if store_path.exists() else []
        if jobs and all(j.state == JobState.TRANSCODING for j in jobs):
            kids = ffmpeg_children(proc.pid)
        time.sleep(0.1)
    assert kids, "FFmpeg never started"
    os.kill(proc.pid, SIGNALS[sig])
    assert gone_within(kids, 5), f"FFmpeg {kids} still runs after {sig} of hlskit"
    _ended(proc, sig, tmp_path, "enc")
    _again_succeeds(tmp_path, src, "enc")


# The playlists one FFmpeg run writes: hlskit gives one output path with %v, expanded to each name of
# -var_stream_map ("v:0,name:LD a:0,agroup:aud,name:audio-en").
PLAYLISTS = """
def playlists(argv):
    names = []
    if "-var_stream_map" in argv:
        stream_map = argv[argv.index("-var_stream_map") + 1]
        names = [p.split(":", 1)[1] for s in stream_map.split() for p in s.split(",") if p.startswith("name:")]
    found = []
    for arg in argv:
        if arg.endswith("ffmpeg.m3u8"):
            found += [arg.replace("%v", n) for n in names] if "%v" in arg else [arg]
    return found
"""

INFLATE = """#!{python}
# Real FFmpeg, then many more (hard-linked) segments in each playlist, so that encrypting them
# (hlskit.keys.protect, after FFmpeg has exited) takes long enough to be interrupted.
import ctypes, os, signal, subprocess, sys
{playlists}
libc = ctypes.CDLL(None)
code = subprocess.call([{ffmpeg!r}, *sys.argv[1:]], preexec_fn=lambda: libc.prctl(1, signal.SIGKILL))
for playlist in playlists(sys.argv[1:]) if code == 0 else []:
    folder = os.path.dirname(playlist)
    lines = open(playlist).read().splitlines()
    head = [l for l in lines if l.startswith("#") and not l.startswith(("#EXTINF", "#EXT-X-ENDLIST"))]
    segs = [(lines[i], lines[i + 1]) for i, l in enumerate(lines) if l.startswith("#EXTINF")]
    body = []
    for copy in range({copies}):
        for inf, name in segs:
            twin = f"x{{copy:04d}}-{{name}}"
            os.link(os.path.join(folder, name), os.path.join(folder, twin))
            body += [inf, twin]
    open(playlist, "w").write("\\n".join(head + body + ["#EXT-X-ENDLIST", ""]))
sys.exit(code)
"""


@pytest.mark.parametrize("sig", list(SIGNALS))
def test_signal_during_encryption(sig, tmp_path, ffmpeg, make_clip):
    src = make_clip(tmp_path / "in.mp4", width=320, height=180, seconds=2)
    wrapper = tmp_path / "ffmpeg-inflating"
    wrapper.write_text(INFLATE.format(python=sys.executable, ffmpeg=ffmpeg, copies=1500, playlists=PLAYLISTS))
    wrapper.chmod(0o755)
    proc = _start(tmp_path, src, "enc", HLSKIT_FFMPEG=str(wrapper))
    out = tmp_path / "out"
    deadline, caught = time.time() + 120, False
    while time.time() < deadline and proc.poll() is None:
        for ld in out.glob(".enc.partial-*/LD"):
            with contextlib.suppress(OSError):
                names = os.listdir(ld)
                encrypted = any(n.startswith("index-") for n in names)
                clear = any(n.startswith(("seg-", "x")) and n.endswith(".ts") for n in names)
                if encrypted and clear:  # hlskit.keys.protect is half-way through
                    os.kill(proc.pid, SIGNALS[sig])
                    caught = True
        if caught:
            break
        time.sleep(0.002)
    assert caught, "the run was never seen encrypting"
    _ended(proc, sig, tmp_path, "enc")
    _again_succeeds(tmp_path, src, "enc")


@contextlib.contextmanager
def _mounted(folder: Path, options: str):
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()}); needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_disk_full_ends_the_definition_with_disk_full(tmp_path, make_clip):
    """FFmpeg's HLS muxer exits 0 on ENOSPC with an empty playlist: the job must say "disk full"."""
    src = make_clip(tmp_path / "in.mp4", width=640, height=360, seconds=4)
    with _mounted(tmp_path / "small", "size=96k") as small:
        done = run_hlskit(*_cmd(src, small, "full"), env={"HLSKIT_HOME": str(tmp_path / "home")})
        assert_outcome(done, EXIT_JOB, small, tmp_path / "home", str(tmp_path))
        assert "disk full" in done.stderr and "No space left on device" in done.stderr, done.stderr
        assert list(small.iterdir()) == []  # the staging folder is gone too
    [job] = JobStore(tmp_path / "home" / "jobs.db").list("full")
    assert job.state == JobState.FAIL and job.message.startswith("disk full"), job.message
    assert live_keys(tmp_path / "home") == set()
    big = tmp_path / "big-out"  # with room, the same command succeeds
    done = run_hlskit(*_cmd(src, big, "full"), env={"HLSKIT_HOME": str(tmp_path / "home")})
    assert_outcome(done, EXIT_OK, big, tmp_path / "home", str(tmp_path))


@pytest.mark.parametrize("where", ["folder", "under"])
def test_read_only_output(where, tmp_path, make_clip):
    src = make_clip(tmp_path / "in.mp4", seconds=1)
    with _mounted(tmp_path / "ro", "size=1m,ro") as ro:
        out = ro if where == "folder" else ro / "new" / "sub"
        done = run_hlskit(*_cmd(src, out, "ro"), env={"HLSKIT_HOME": str(tmp_path / "home")})
        assert_outcome(done, EXIT_INPUT, out, tmp_path / "home", str(tmp_path))
        assert "is not writable" in done.stderr, done.stderr
        assert list(ro.iterdir()) == []


@pytest.mark.parametrize("store", ["jobs.db", "keys.db"])
@pytest.mark.parametrize("damage", ["garbage", "pages"])
def test_damaged_store(store, damage, tmp_path, make_clip):
    """A damaged job or key store: `status` and `package` say so in one sentence (exit 2), nothing is written."""
    src = make_clip(tmp_path / "in.mp4", seconds=1)
    home, out = tmp_path / "home", tmp_path / "out"
    env = {"HLSKIT_HOME": str(home)}
    assert run_hlskit(*_cmd(src, out, "first"), env=env).returncode == 0
    path = home / store
    for extra in (path.with_name(store + "-wal"), path.with_name(store + "-shm")):
        extra.unlink(missing_ok=True)
    data = bytearray(path.read_bytes())
    if damage == "garbage":
        data = bytearray(b"this is not a database" * 200)
    else:  # keep the 100-byte header, damage every page after the first
        for at in range(4096, len(data), 512):
            data[at : at + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    before = sorted(p.name for p in out.iterdir())
    for args in (["status"], _cmd(src, out, "second")):
        done = run_hlskit(*args, env=env)
        err = done.stderr
        assert "Traceback" not in err, err
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        if done.returncode == 0:  # the damage missed every page this command reads
            continue
        assert done.returncode == EXIT_INPUT and len(errors) == 1, err
        assert "store" in errors[0] and ("move" in errors[0] or "restore" in errors[0]), err
    assert sorted(p.name for p in out.iterdir()) == before


def test_output_turns_read_only_while_encoding(tmp_path, long_clip):
    """The --out file system is remounted read-only mid-encode (EROFS): exit 1, one sentence, no live key."""
    src = tmp_path / "in.mp4"
    src.write_bytes(long_clip.read_bytes())
    with _mounted(tmp_path / "out", "size=64m") as out:
        proc = _start(tmp_path, src, "rofs", HLSKIT_X264_PRESET="slower")
        store_path = tmp_path / "home" / "jobs.db"
        deadline, kids = time.time() + 60, []
        while time.time() < deadline and not kids:
            jobs = JobStore(store_path).list("rofs") if store_path.exists() else []
            if jobs and all(j.state == JobState.TRANSCODING for j in jobs):
                kids = ffmpeg_children(proc.pid)
            time.sleep(0.1)
        assert kids, "FFmpeg never started"
        subprocess.run(["mount", "-o", "remount,ro", str(out)], check=True)
        _, err = proc.communicate(timeout=120)
        done = subprocess.CompletedProcess(proc.args, proc.returncode, "", err)
        assert_outcome(done, EXIT_JOB, out, tmp_path / "home", str(tmp_path))
        assert "Read-only file system" in err, err
        subprocess.run(["mount", "-o", "remount,rw", str(out)], check=True)
        _again_succeeds(tmp_path, src, "rofs")


TRUNCATE = """#!{python}
# Real FFmpeg, then the playlist cut after its first segment: what the HLS muxer leaves when writes
# fail but it still exits 0.
import subprocess, sys
{playlists}
code = subprocess.call([{ffmpeg!r}, *sys.argv[1:]])
for playlist in playlists(sys.argv[1:]) if code == 0 else []:
    lines = open(playlist).read().splitlines()
    open(playlist, "w").write("\\n".join(lines[:7]) + "\\n")
sys.exit(code)
"""


def test_ffmpeg_exiting_0_with_a_cut_playlist_is_no_success(tmp_path, ffmpeg, make_clip):
    src = make_clip(tmp_path / "in.mp4", seconds=3)
    wrapper = tmp_path / "ffmpeg-cut"
    wrapper.write_text(TRUNCATE.format(python=sys.executable, ffmpeg=ffmpeg, playlists=PLAYLISTS))
    wrapper.chmod(0o755)
    env = {"HLSKIT_HOME": str(tmp_path / "home"), "HLSKIT_FFMPEG": str(wrapper)}
    done = run_hlskit(*_cmd(src, tmp_path / "out", "cut"), env=env)
    assert_outcome(done, EXIT_JOB, tmp_path / "out", tmp_path / "home", str(tmp_path))
    assert "EXT-X-ENDLIST" in done.stderr, done.stderr
    [job] = JobStore(tmp_path / "home" / "jobs.db").list("cut")
    assert job.state == JobState.FAIL and job.code == "TranscodeFail"


FILL = """#!/bin/sh
# Real FFmpeg, then another process fills the disk before hlskit encrypts the segments.
"{ffmpeg}" "$@" || exit $?
dd if=/dev/zero of="{filler}" bs=4k 2>/dev/null
exit 0
"""


def test_disk_full_while_encrypting(tmp_path, ffmpeg, make_clip):
    src = make_clip(tmp_path / "in.mp4", seconds=2)
    with _mounted(tmp_path / "out", "size=4m") as out:
        wrapper = tmp_path / "ffmpeg-fill"
        wrapper.write_text(FILL.format(ffmpeg=ffmpeg, filler=out / ".filler"))
        wrapper.chmod(0o755)
        env = {"HLSKIT_HOME": str(tmp_path / "home"), "HLSKIT_FFMPEG": str(wrapper)}
        done = run_hlskit(*_cmd(src, out, "fill"), env=env)
        assert_outcome(done, EXIT_JOB, out, tmp_path / "home", str(tmp_path))
        assert "encrypting LD failed at" in done.stderr and "the disk is full" in done.stderr, done.stderr
        assert [p.name for p in out.iterdir()] == [".filler"]  # the staging folder is gone


def test_a_home_on_a_read_only_disk_is_not_called_damaged(tmp_path):
    """SQLite's "readonly database" (or "disk I/O error" on a full disk) is no damage: the advice to move
    the store aside would lose every key."""
    with _mounted(tmp_path / "home", "size=4m,mode=0700") as home:
        env = {"HLSKIT_HOME": str(home)}
        assert run_hlskit("keys", "list", env=env).returncode == 0  # makes keys.db
        subprocess.run(["mount", "-o", "remount,ro", str(home)], check=True)
        done = run_hlskit("keys", "list", env=env)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert "cannot be written" in done.stderr and "do not move it aside" in done.stderr, done.stderr
        assert "move it aside (hlskit starts a new one)" not in done.stderr
