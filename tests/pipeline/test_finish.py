"""Finishing that does not publish, against real SQLite stores: the one teardown (abandon), the
runs that must not publish, the one process that may finish, and which keys stay live."""

from __future__ import annotations

import pytest

from hlskit.domain.errors import JobError
from hlskit.domain.manifest import KeyEntry, Manifest, build_manifest
from hlskit.domain.runs import JobState, RunState
from hlskit.notify import Notifier
from hlskit.pipeline.finish import Finisher, RunCancelled, abandon, finish_run, keep_only_published_keys
from tests.plans import plan


def manifest_of(run, jobs, keys=()) -> Manifest:
    p = plan(("LD", "HD"))
    p.run_id, p.content_id = run.run_id, run.content_id
    p.jobs = {j.definition: j for j in jobs}
    m = build_manifest(p, jobs, engine="local")
    m.keys = [KeyEntry(k.key_id) for k in keys]
    return m


def test_abandon_removes_staging_fails_unfinished_jobs_revokes_the_run_keys_and_ends_the_run(stores):
    run, (ld, hd) = stores.start()
    published = stores.keys.create("talk", "an-earlier-run")
    mine = [stores.keys.create("talk", run.run_id) for _ in range(2)]
    stores.jobs.update(ld.job_id, state=JobState.SUCCESS)
    stores.jobs.update(hd.job_id, state=JobState.TRANSCODING)
    dest = stores.staging()
    abandon(run, stores.jobs, stores.keys, dest, RunState.FAILED, "ValidationFail", "the package fails validation")
    assert not (stores.out / ".talk.partial-1").exists() and list(stores.out.iterdir()) == []
    assert stores.jobs.get(ld.job_id).state == JobState.SUCCESS
    failed = stores.jobs.get(hd.job_id)
    assert (failed.state, failed.code, failed.message) == (
        JobState.FAIL,
        "ValidationFail",
        "the package fails validation",
    )
    assert all(stores.keys.get("talk", k.key_id) is None for k in mine)
    assert stores.keys.get("talk", published.key_id) == published.key  # another run's key is not ours to revoke
    ended = stores.jobs.get_run(run.run_id)
    assert (ended.state, ended.code) == (RunState.FAILED, "ValidationFail")


def test_abandon_without_a_destination_still_ends_everything(stores):
    run, jobs = stores.start()
    abandon(run, stores.jobs, stores.keys, None, RunState.INTERRUPTED, "Interrupted", "stopped")
    assert stores.jobs.get_run(run.run_id).state == RunState.INTERRUPTED
    assert {j.state for j in stores.jobs.run_jobs(run.run_id)} == {JobState.FAIL}


def test_publishing_keeps_only_the_new_package_keys_live(stores):
    old = [stores.keys.create("talk", "r1") for _ in range(2)]
    new = stores.keys.create("talk", "r2")
    other = stores.keys.create("movie", "r3")
    m = Manifest("talk", keys=[KeyEntry(new.key_id)])
    keep_only_published_keys(stores.keys, m)
    assert [stores.keys.is_live("talk", k.key_id) for k in old] == [False, False]
    assert stores.keys.is_live("talk", new.key_id) and stores.keys.is_live("movie", other.key_id)


def finisher(stores) -> Finisher:
    return Finisher(stores.jobs, stores.keys, Notifier([]))


def test_one_cause_of_every_failure_is_said_once(stores):
    run, jobs = stores.start()
    for j in jobs:
        j.state, j.message = JobState.FAIL, "the broker redis://h:6379/0 does not answer: start Redis there."
    with pytest.raises(JobError) as caught:
        finish_run(run, jobs, stores.staging(), manifest_of(run, jobs, []), lambda uri: None, finisher(stores))
    assert caught.value.message == (
        "every definition failed, nothing was published: the broker redis://h:6379/0 does not answer: start Redis there."
    )


def test_a_run_whose_every_definition_failed_publishes_nothing(stores):
    run, jobs = stores.start()
    key = stores.keys.create("talk", run.run_id)
    for j, why in zip(jobs, ("disk full", "")):
        j.state, j.message = JobState.FAIL, why
        stores.jobs.update(j.job_id, state=JobState.FAIL, message=why)
    dest = stores.staging()
    with pytest.raises(JobError) as caught:
        finish_run(run, jobs, dest, manifest_of(run, jobs, [key]), lambda uri: None, finisher(stores))
    assert caught.value.message == "every definition failed, nothing was published (LD: disk full; HD: TranscodeFail)."
    assert caught.value.code == "TranscodeFail"
    assert not (stores.out / "talk").exists() and not (stores.out / ".talk.partial-1").exists()
    assert stores.jobs.get_run(run.run_id).state == RunState.FAILED
    assert not stores.keys.is_live("talk", key.key_id)


def test_a_cancelled_job_cancels_the_whole_run_even_after_others_finished(stores):
    run, (ld, hd) = stores.start()
    ld.state, hd.state = JobState.SUCCESS, JobState.CANCELLED
    stores.jobs.update(ld.job_id, state=JobState.SUCCESS)
    stores.jobs.cancel(hd.job_id)
    dest = stores.staging()
    with pytest.raises(RunCancelled) as caught:
        finish_run(run, [ld, hd], dest, manifest_of(run, [ld, hd]), lambda uri: None, finisher(stores))
    assert caught.value.exit_code == 3 and caught.value.code == "Cancelled"
    assert caught.value.message == f"run {run.run_id} of talk was cancelled (`hlskit cancel`); nothing was published."
    ended = stores.jobs.get_run(run.run_id)
    assert (ended.state, ended.code) == (RunState.CANCELLED, "Cancelled")
    assert not (stores.out / ".talk.partial-1").exists()


def test_only_one_process_finishes_a_run(stores):
    run, jobs = stores.start()
    assert stores.jobs.claim_finish(run.run_id)  # another process is finishing it
    dest = stores.staging()
    with pytest.raises(JobError) as caught:
        finish_run(run, jobs, dest, manifest_of(run, jobs), lambda uri: None, finisher(stores))
    assert caught.value.code == "RunBusy"
    assert caught.value.message == (
        f"run {run.run_id} is already Finishing: another process finished it; see `hlskit status`."
    )
    assert (stores.out / ".talk.partial-1" / "LD").is_dir()  # the other process's staging is left alone
