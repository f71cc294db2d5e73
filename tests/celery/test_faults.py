"""The Celery engine's faults, with the real broker and real workers: a cancel, a broker that
restarts empty, a chunk that fails three times, a worker of another hlskit version, and a broker
that never comes back. (A worker killed with -9 mid-run: test_e2e.py.)"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hlskit
from hlskit.domain.chunks import VIDEO, ChunkState
from hlskit.domain.errors import JobError
from hlskit.domain.names import run_staging
from hlskit.domain.plan import PackageOptions
from hlskit.domain.runs import JobState, RunState
from hlskit.engines.celery import follow
from hlskit.engines.celery.app import TASK, make_app
from hlskit.engines.encode import ffmpeg_exe
from hlskit.hls.validate import validate
from hlskit.pipeline import cancel, follow_runs, run_package, submit_package
from hlskit.pipeline.finish import RunCancelled
from hlskit.stores.jobs import JobStore
from hlskit.stores.keys import KeyStore
from tests.celery.conftest import frames_of, make_source

pytestmark = [pytest.mark.slow, pytest.mark.db]
SECONDS, FPS, CHUNK = 40, 25, 4


@pytest.fixture(scope="module")
def source(ffmpeg, tmp_path_factory) -> Path:
    return make_source(ffmpeg, tmp_path_factory.mktemp("src") / "forty.mp4", SECONDS, FPS)


def _options(cluster, content_id: str, **more) -> PackageOptions:
    return PackageOptions(ladder=str(cluster.ladder), engine="celery", content_id=content_id, **more)


def _wait(store: JobStore, run_id: str, test, what: str, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        chunks = store.chunks.of_run(run_id)
        if test(chunks):
            return chunks
        time.sleep(0.1)
    pytest.fail(f"never {what}: {[(c.name, c.state.value, c.worker) for c in store.chunks.of_run(run_id)]}")


def test_cancel_revokes_queued_chunks_and_stops_running_ones(cluster, source):
    cluster.workers.ensure(["w1", "w2"])
    # Two 20 s chunks at x264's slowest preset: each encodes for seconds, so the cancel finds them running.
    settings = cluster.settings(chunk_seconds=20, x264_preset="veryslow")
    store = JobStore.open(settings.store_config())
    [job, *_] = submit_package(str(source), str(cluster.out), settings, _options(cluster, "cancel-me"))
    running = _wait(
        store,
        job.run_id,
        lambda cs: any(c.kind == VIDEO and c.state == ChunkState.RUNNING for c in cs),
        "ran a video chunk",
    )
    was_running = [c.name for c in running if c.kind == VIDEO and c.state == ChunkState.RUNNING]
    outcome = cancel(job.run_id, settings)
    assert outcome.refused == [] and {j.state for j in outcome.cancelled} == {JobState.CANCELLED}
    ended = _wait(store, job.run_id, lambda cs: not any(c.state == ChunkState.RUNNING for c in cs), "stopped", 60)
    by_name = {c.name: c for c in ended}
    assert any(by_name[n].state == ChunkState.CANCELLED for n in was_running), [by_name[n] for n in was_running]
    assert any(c.state == ChunkState.CANCELLED and c.message.startswith("revoked") for c in ended)
    assert not all(c.state == ChunkState.DONE for c in ended if c.kind == VIDEO)
    with pytest.raises(RunCancelled):  # `hlskit status --wait` says so, exit code 3
        follow_runs([job.run_id], settings)
    run = store.get_run(job.run_id)
    assert run is not None and run.state == RunState.CANCELLED
    assert not (cluster.out / "cancel-me").exists()
    assert not Path(run_staging(str(cluster.out / "cancel-me"), job.run_id)).exists()
    assert all(k.revoked for k in KeyStore.open(settings.store_config()).list("cancel-me"))


def test_a_broker_that_restarts_empty_gets_the_unfinished_chunks_again(cluster, source):
    cluster.workers.ensure(["w1", "w2"])
    settings = cluster.settings(chunk_seconds=CHUNK)
    store = JobStore.open(settings.store_config())
    [job, *_] = submit_package(str(source), str(cluster.out), settings, _options(cluster, "restart", encrypt=False))
    _wait(
        store,
        job.run_id,
        lambda cs: any(c.state == ChunkState.DONE for c in cs) and sum(c.state == ChunkState.QUEUED for c in cs) >= 3,
        "finished a chunk with three still queued",
    )
    cluster.redis.restart()  # no persistence: the queued tasks are gone
    with socket.create_connection(("127.0.0.1", cluster.redis.port)) as s:
        s.sendall(b"LLEN hlskit\r\n")  # the queue (a Redis list named after it)
        assert s.recv(64).startswith(b":0"), "the restarted broker still holds tasks"
    [run] = follow_runs([job.run_id], settings)
    assert run.state == RunState.PUBLISHED, run.message
    master = cluster.out / "restart" / "master.m3u8"
    assert validate(str(master)).must == []
    assert frames_of(cluster.out / "restart" / "hi" / "index.m3u8") == SECONDS * FPS
    assert all(c.state == ChunkState.DONE for c in store.chunks.of_run(job.run_id))


BROKEN_FFMPEG = """#!{python}
# FFmpeg, except that the chunk starting at 4 s is pointed at a file that does not exist.
import os, sys
args = sys.argv[1:]
if "-ss" in args and args[args.index("-ss") + 1] == "4.000":
    args[args.index("-i") + 1] = "/nonexistent/hlskit-test/source.mp4"
os.execv({real!r}, [{real!r}, *args])
"""


def test_a_chunk_failing_three_times_fails_its_definitions_with_ffmpegs_sentence(cluster, source, tmp_path):
    wrapper = tmp_path / "ffmpeg"
    wrapper.write_text(BROKEN_FFMPEG.format(python=sys.executable, real=ffmpeg_exe()))
    wrapper.chmod(0o755)
    for name in ("f1", "f2"):  # workers of their own queue, whose FFmpeg fails on that chunk
        cluster.workers.start(name, {"HLSKIT_FFMPEG": str(wrapper), "HLSKIT_CELERY_QUEUE": "flaky"})
    try:
        cluster.workers.wait_ready(["f1", "f2"])
        settings = cluster.settings(chunk_seconds=CHUNK, celery_queue="flaky")
        with pytest.raises(JobError) as failed:
            run_package(str(source), str(cluster.out), settings, _options(cluster, "flaky"))
    finally:
        cluster.workers.kill("f1")
        cluster.workers.kill("f2")
    message = failed.value.message
    assert message.startswith(
        "every definition failed, nothing was published (lo: chunk c00001 (4.0-8.0 s) failed 3 times"
    )
    assert "/nonexistent/hlskit-test/source.mp4" in message and "No such file or directory" in message  # FFmpeg's
    store = JobStore.open(settings.store_config())
    [run] = store.runs("flaky")
    chunks = {c.name: c for c in store.chunks.of_run(run.run_id)}
    assert chunks["c00001"].state == ChunkState.FAILED and chunks["c00001"].attempts == 3
    assert all(c.state == ChunkState.DONE for n, c in chunks.items() if c.kind == VIDEO and n != "c00001")
    assert run.state == RunState.FAILED and not (cluster.out / "flaky").exists()
    assert all(k.revoked for k in KeyStore.open(settings.store_config()).list("flaky"))


def test_a_worker_of_another_version_refuses_in_one_sentence(cluster, source, monkeypatch):
    cluster.workers.ensure(["w1", "w2"])
    before = {n: len(cluster.workers.log(n)) for n in ("w1", "w2")}
    monkeypatch.setattr("hlskit.engines.celery.engine.__version__", "0.0.1-other")  # tasks sent by "another" hlskit
    settings = cluster.settings(chunk_seconds=CHUNK)
    with pytest.raises(JobError) as failed:
        run_package(str(source), str(cluster.out), settings, _options(cluster, "other-version"))
    assert "but this task was sent by hlskit 0.0.1-other: install the same hlskit version on every worker" in (
        failed.value.message
    )
    logs = "".join(cluster.workers.log(n)[before[n] :] for n in ("w1", "w2"))
    refusals = [line for line in logs.splitlines() if "refused" in line]
    assert refusals and all(line.rstrip().endswith("and on the host that packages.") for line in refusals)
    assert "Traceback" not in logs
    assert not (cluster.out / "other-version").exists()


def test_a_task_not_signed_with_the_task_secret_never_runs(cluster, source, tmp_path):
    """Whoever reaches the broker without the secret cannot make a worker run FFmpeg: a forged task
    that would write a file is refused in one log line, and a run sent with another secret fails in
    one sentence with nothing published."""
    cluster.workers.ensure(["w1", "w2"])
    before = {n: len(cluster.workers.log(n)) for n in ("w1", "w2")}
    target = tmp_path / "forged.png"
    forged = {
        "version": hlskit.__version__,
        "run_id": "forged",
        "staging": str(tmp_path),
        "name": "c00000",
        "kind": VIDEO,
        "commands": [["-f", "lavfi", "-i", "color=red:s=16x16", "-frames:v", "1", str(target)]],
        "outputs": [],
        "jobs": [],
        "seconds": 1.0,
    }
    app = make_app(cluster.settings().celery_config())
    app.send_task(TASK, kwargs={**forged, "signature": "0" * 64})
    app.send_task(TASK, kwargs=forged)  # no signature at all
    settings = cluster.settings(chunk_seconds=CHUNK, task_secret="another secret of 32+ characters, not theirs")
    with pytest.raises(JobError) as failed:
        run_package(str(source), str(cluster.out), settings, _options(cluster, "other-secret"))
    assert "refused a task whose signature does not match its task secret: set the same task_secret" in (
        failed.value.message
    )
    assert not (cluster.out / "other-secret").exists()
    logs = "".join(cluster.workers.log(n)[before[n] :] for n in ("w1", "w2"))
    assert sum("refused a task whose signature" in line and "'forged'" in line for line in logs.splitlines()) == 2
    assert "Traceback" not in logs
    assert not target.exists()


def test_a_ts_source_with_sparse_keyframes_is_cut_on_exact_frames(cluster, ffmpeg, tmp_path):
    """MPEG-TS has no keyframe index: FFmpeg's -ss lands on the next keyframe (here up to 10 s late),
    so chunks overlapped and the package failed validation. The source is remuxed once into MOV."""
    cluster.workers.ensure(["w1", "w2"])
    ts = tmp_path / "capture.ts"
    subprocess.run(
        [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=24", "-f", "lavfi", "-i", "sine=f=500"]
        + ["-t", "12", "-c:v", "libx264", "-preset", "ultrafast", "-g", "240", "-c:a", "aac"]
        + ["-output_ts_offset", "3.2", "-f", "mpegts", str(ts)],
        check=True,
    )
    settings = cluster.settings(chunk_seconds=CHUNK)
    result = run_package(str(ts), str(cluster.out), settings, _options(cluster, "capture", encrypt=False))
    assert result.ok, [(j.definition, j.message) for j in result.failed]
    master = Path(result.dir) / "master.m3u8"
    assert validate(str(master)).must == []
    for name in ("lo", "hi"):
        assert frames_of(master.parent / name / "index.m3u8") == frames_of(ts) == 12 * 24
    assert not list(Path(result.dir).rglob("*.mov"))


def test_a_broker_that_stays_away_ends_the_run_in_one_sentence(cluster, source, monkeypatch):
    cluster.workers.ensure(["w1", "w2"])
    settings = cluster.settings(chunk_seconds=CHUNK)
    [job, *_] = submit_package(str(source), str(cluster.out), settings, _options(cluster, "no-broker"))
    cluster.redis.kill()
    monkeypatch.setattr(follow, "BROKER_GRACE", 5.0)
    try:
        [run] = follow_runs([job.run_id], settings)
    finally:
        cluster.redis.start()  # for whatever runs next
    assert run.state == RunState.FAILED
    assert f"the broker redis://127.0.0.1:{cluster.redis.port}/0 does not answer" in run.message
    assert (
        "start Redis there, or fix broker_url; it was away for over 5 s, so the run's unfinished chunks were given up"
        in (run.message)
    )
    assert run.message.startswith("every definition failed, nothing was published")
    assert not (cluster.out / "no-broker").exists()
