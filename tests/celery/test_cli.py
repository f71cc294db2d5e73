"""The Celery engine from the command line: package --no-wait and status --wait, status's chunk
lines, --dry-run, `hlskit worker`'s refusals and `hlskit doctor`'s broker and worker checks."""

from __future__ import annotations

import json
import re

import pytest

from tests.celery.cluster import Redis, free_port
from tests.celery.conftest import make_source
from tests.conftest import run_hlskit

pytestmark = [pytest.mark.slow, pytest.mark.db]


@pytest.fixture(scope="module")
def clip(ffmpeg, tmp_path_factory):
    return make_source(ffmpeg, tmp_path_factory.mktemp("src") / "clip.mp4", 8)


def _args(cluster, clip, content_id: str) -> list[str]:
    return [str(clip), "--engine", "celery", "--chunk-seconds", "2", "--segment-duration", "2", "--ladder"] + [
        str(cluster.ladder),
        "--out",
        str(cluster.out),
        "--content-id",
        content_id,
        "--no-encrypt",
    ]


def test_submit_then_status_wait_publishes_and_status_lists_each_chunk_and_its_worker(cluster, clip):
    cluster.workers.ensure(["w1", "w2"])
    env = cluster.env()
    submitted = run_hlskit("package", *_args(cluster, clip, "cli"), "--no-wait", env=env)
    assert submitted.returncode == 0, submitted.stderr
    run_id = re.search(r"submitted run (\w+);", submitted.stdout).group(1)
    waited = run_hlskit("status", run_id, "--wait", env=env)
    assert waited.returncode == 0, waited.stdout + waited.stderr
    assert (cluster.out / "cli" / "master.m3u8").is_file()
    shown = run_hlskit("status", run_id, env={**env, "COLUMNS": "250"})  # rich's table: no wrapping
    assert "4/4 chunks done on" in shown.stdout
    for name in ("c00000", "c00001", "c00002", "c00003", "sprite/00", "audio/und"):
        assert name in shown.stdout
    [run] = json.loads(run_hlskit("status", run_id, "--json", env=env).stdout)
    chunks = {c["name"]: c for c in run["chunks"]}
    assert {c["state"] for c in chunks.values()} == {"Done"}
    assert all(c["worker"].split("@")[0] in ("w1", "w2") for c in chunks.values())
    assert [chunks[f"c0000{i}"]["start"] for i in range(4)] == [0.0, 2.0, 4.0, 6.0]


def test_dry_run_prints_the_first_chunks_command(cluster, clip):
    shown = run_hlskit("package", *_args(cluster, clip, "dry"), "--dry-run", env=cluster.env())
    assert shown.returncode == 0, shown.stderr
    assert "-output_ts_offset" in shown.stdout and "-t 1.980" in shown.stdout
    assert not (cluster.out / "dry").exists()


def test_the_engine_needs_a_broker_said_in_one_sentence(cluster, clip):
    env = {**cluster.env(), "HLSKIT_BROKER_URL": ""}
    done = run_hlskit("package", *_args(cluster, clip, "nobroker"), env=env)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: the celery engine needs a broker: set broker_url (HLSKIT_BROKER_URL or hlskit.toml) "
        "to a Redis URL such as redis://127.0.0.1:6379/0."
    )
    worker = run_hlskit("worker", env=env)
    assert worker.returncode == 2 and worker.stderr.count("\n") == 1 and "needs a broker" in worker.stderr


def test_a_worker_refuses_to_start_without_its_broker_or_with_no_concurrency(cluster):
    away = f"redis://:s3cret@127.0.0.1:{free_port()}/0"
    done = run_hlskit("worker", env={**cluster.env(), "HLSKIT_BROKER_URL": away}, timeout=60)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "does not answer" in done.stderr and "s3cret" not in done.stderr and ":***@" in done.stderr
    zero = run_hlskit("worker", "--concurrency", "0", env=cluster.env())
    assert zero.returncode == 2 and "--concurrency must be a whole number, 1 or more, got 0." in zero.stderr
    assert "Usage:" in run_hlskit("worker", "--help").stdout and "hlskit worker --concurrency" in (
        run_hlskit("worker", "--help").stdout
    )


def test_doctor_checks_the_broker_and_that_a_worker_answers(cluster, tmp_path):
    cluster.workers.ensure(["w1", "w2"])
    report = json.loads(run_hlskit("doctor", "--json", env=cluster.env()).stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["broker"]["status"] == "ok"
    assert (
        checks["workers"]["status"] == "ok"
        and "w1@" in checks["workers"]["detail"]
        and "w2@" in (checks["workers"]["detail"])
    )
    lonely = Redis(tmp_path)  # a broker no worker listens to
    lonely.start()
    try:
        env = {**cluster.env(), "HLSKIT_BROKER_URL": lonely.url, "HLSKIT_ENGINE": "celery"}
        done = run_hlskit("doctor", env=env)
        assert done.returncode == 1
        assert "FAIL  workers       no hlskit worker answers a ping on " + lonely.url in done.stdout
    finally:
        lonely.kill()
    done = run_hlskit("doctor", env={**cluster.env(), "HLSKIT_BROKER_URL": lonely.url})
    assert done.returncode == 1 and f"FAIL  broker        the broker {lonely.url} does not answer" in done.stdout
