"""A run killed between publishing its package and recording it: recovery keeps what players use.

The package is real (a real FFmpeg run); the kill is simulated by a second run whose process is
gone while it was Finishing, since no signal lands reliably inside that narrow window.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import hlskit.stores.jobs as jobs_module
from hlskit.domain.plan import PackageOptions
from hlskit.domain.runs import Job, JobState, Run, RunState, new_job_id, new_run_id, this_owner
from hlskit.pipeline import run_package
from hlskit.pipeline.run import recover_runs
from hlskit.stores.jobs import JobStore
from hlskit.stores.keys import KeyStore

pytestmark = pytest.mark.slow


@pytest.fixture
def killed_while_finishing(tmp_path, make_clip, hlskit_env, monkeypatch):
    """A published package (run A), then run B of the same content, Finishing, whose process died."""
    src = make_clip(tmp_path / "c.mp4", seconds=1)
    first = run_package(str(src), str(tmp_path / "out"), hlskit_env, PackageOptions(ladder="LD", content_id="k"))
    pkg = Path(first.dir)
    store, keys = JobStore.open(hlskit_env.store_config()), KeyStore.open(hlskit_env.store_config())
    run = Run(new_run_id(), "k", engine="local", out=str(pkg), owner=this_owner())
    job = Job(job_id=new_job_id(), content_id="k", definition="LD", engine="local", run_id=run.run_id)
    store.start_run(run, [job])
    store.update(job.job_id, state=JobState.SUCCESS)
    assert store.claim_finish(run.run_id)
    key = keys.create("k", run.run_id)
    monkeypatch.setattr(jobs_module, "owner_alive", lambda owner: False)  # its process is gone
    return first, run, key, pkg, store, keys


def test_a_run_that_had_published_ends_published_and_keeps_its_key(killed_while_finishing):
    first, run, key, pkg, store, keys = killed_while_finishing
    manifest = json.loads((pkg / "hlskit.json").read_text())  # B's package is the one in place
    manifest.update(run_id=run.run_id, keys=[{"key_id": key.key_id}])
    (pkg / "hlskit.json").write_text(json.dumps(manifest))
    [ended] = recover_runs(store, keys)
    assert ended.run_id == run.run_id and ended.state == RunState.PUBLISHED
    assert keys.get("k", key.key_id) == key.key  # the published package still plays
    old = first.manifest.keys[0].key_id
    assert keys.get("k", old) is None  # the package it replaced is revoked, as finishing would have


def test_a_run_that_had_not_published_is_interrupted_and_loses_its_keys(killed_while_finishing):
    first, run, key, pkg, store, keys = killed_while_finishing  # the folder still holds run A's package
    [ended] = recover_runs(store, keys)
    assert ended.state == RunState.INTERRUPTED
    assert keys.get("k", key.key_id) is None
    old = first.manifest.keys[0].key_id
    assert keys.get("k", old) is not None  # the live package keeps playing
