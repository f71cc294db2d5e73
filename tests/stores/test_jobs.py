"""The job store on SQLite: one active run per content id, runs that end once, jobs whose final
state sticks, lookups by prefix, and recovery of runs whose process died."""

from __future__ import annotations

import sqlite3
import time

import pytest

from hlskit.domain.configs import StoreConfig
from hlskit.domain.errors import InputError
from hlskit.domain.runs import ContentBusy, Job, JobState, Run, RunState, new_job_id, new_run_id, this_owner
from hlskit.stores.jobs import JobStore


def job(cid: str = "c", definition: str = "LD", **kw) -> Job:
    return Job(new_job_id(), cid, definition, **kw)


def run(cid: str = "c", owner: str | None = None, **kw) -> Run:
    return Run(new_run_id(), cid, owner=this_owner() if owner is None else owner, **kw)


def test_start_run_records_the_run_and_its_jobs_in_order(jobs):
    batch = [job(definition=d) for d in ("LD", "SD", "HD", "LD.mp4")]
    for j in batch:
        j.created_at = 5.0  # one instant: insertion order decides
    r = jobs.start_run(run(engine="mts", out="oss://b/p"), batch)
    assert [j.definition for j in jobs.run_jobs(r.run_id)] == ["LD", "SD", "HD", "LD.mp4"]
    assert all(j.run_id == r.run_id for j in batch)
    stored = jobs.get_run(r.run_id)
    assert (stored.state, stored.engine, stored.out, stored.finished_at) == (RunState.RUNNING, "mts", "oss://b/p", None)


@pytest.mark.parametrize("state", [RunState.RUNNING, RunState.FINISHING])
def test_an_active_run_keeps_its_content_id_busy_with_a_sentence(jobs, state):
    first = jobs.start_run(run(engine="mts"), [job()])
    if state == RunState.FINISHING:
        assert jobs.claim_finish(first.run_id)
    with pytest.raises(ContentBusy) as caught:
        jobs.start_run(run(), [job()])
    assert caught.value.message == (
        f"content id c is being packaged by run {first.run_id} (mts, {state.value}): wait for it "
        f"(`hlskit status {first.run_id} --wait`), cancel it (`hlskit cancel {first.run_id}`), "
        "or choose another --content-id."
    )
    assert caught.value.code == "ContentBusy" and caught.value.exit_code == 2
    assert len(jobs.runs("c")) == 1 and len(jobs.list("c")) == 1  # the refused run left nothing
    jobs.start_run(run("other"), [job("other")])  # another content id is free


@pytest.mark.parametrize("ended", [RunState.PUBLISHED, RunState.FAILED, RunState.CANCELLED, RunState.INTERRUPTED])
def test_an_ended_run_frees_its_content_id(jobs, ended):
    first = jobs.start_run(run(created_at=1.0), [job()])
    jobs.end_run(first.run_id, ended)
    second = jobs.start_run(run(created_at=2.0), [job()])
    assert [r.run_id for r in jobs.runs("c")] == [first.run_id, second.run_id]


def test_a_run_ends_once_and_only_one_process_finishes_it(jobs):
    r = jobs.start_run(run(), [job()])
    assert jobs.claim_finish(r.run_id) and not jobs.claim_finish(r.run_id)
    assert jobs.get_run(r.run_id).state == RunState.FINISHING
    ended = jobs.end_run(r.run_id, RunState.PUBLISHED, "PartialFail", "HD failed")
    assert (ended.state, ended.code, ended.message) == (RunState.PUBLISHED, "PartialFail", "HD failed")
    assert ended.finished_at >= ended.created_at
    again = jobs.end_run(r.run_id, RunState.FAILED, "X", "y")
    assert (again.state, again.code) == (RunState.PUBLISHED, "PartialFail")
    assert not jobs.claim_finish(r.run_id)


def test_a_finished_job_keeps_its_state_but_other_fields_still_change(jobs):
    j = jobs.add(job())
    started = jobs.update(j.job_id, state=JobState.TRANSCODING, percent=10)
    assert started.started_at is not None and started.finished_at is None
    done = jobs.update(j.job_id, state=JobState.SUCCESS, percent=100, output="/o/LD/index.m3u8")
    assert done.finished_at is not None
    late = jobs.update(j.job_id, state=JobState.FAIL, code="X", message="late", remote_id="mps-1")
    assert (late.state, late.code, late.message, late.remote_id) == (JobState.SUCCESS, "", "", "mps-1")
    assert late.finished_at == done.finished_at


def test_updates_accept_only_job_fields_and_known_jobs(jobs):
    j = jobs.add(job())
    with pytest.raises(ValueError, match="not job fields: evil, state2"):
        jobs.update(j.job_id, evil=1, state2="x")
    with pytest.raises(InputError, match="no job nope: list jobs with `hlskit status`"):
        jobs.update("nope", percent=1)


def test_jobs_are_found_by_id_prefix_or_mps_job_id(jobs):
    a = jobs.add(job(remote_id="88c6ca184c0e47098a5b665e2a126797"))
    b = jobs.add(Job("f" * 32, "c", "SD"))
    assert jobs.find_job(a.job_id).job_id == a.job_id
    assert jobs.find_job("88c6ca184c0e47098a5b665e2a126797").job_id == a.job_id
    assert jobs.find_job(b.job_id[:6]).job_id == b.job_id
    with pytest.raises(InputError, match="no job zzz: list runs and jobs"):
        jobs.find_job("zzz")


def test_an_ambiguous_prefix_asks_for_more_characters(jobs):
    a, b = jobs.add(Job("abc1" + "0" * 28, "c", "LD")), jobs.add(Job("abc2" + "0" * 28, "c", "SD"))
    with pytest.raises(InputError, match="abc matches 2 jobs: give more characters of the job id"):
        jobs.find_job("abc")
    assert jobs.find_job("abc2").job_id == b.job_id and jobs.find_job("abc1").job_id == a.job_id


def test_runs_are_listed_by_id_prefix_content_id_or_one_of_their_jobs(jobs):
    one = jobs.start_run(run("talk", created_at=1.0), [j1 := job("talk")])
    two = jobs.start_run(run("lecture", created_at=2.0), [job("lecture", remote_id="mps-job-9")])  # listed by creation
    assert [r.run_id for r in jobs.runs()] == [one.run_id, two.run_id]
    assert [r.run_id for r in jobs.runs("lecture")] == [two.run_id]
    assert [r.run_id for r in jobs.runs(one.run_id[:5])] == [one.run_id]
    assert [r.run_id for r in jobs.runs(j1.job_id)] == [one.run_id]
    assert [r.run_id for r in jobs.runs("mps-job-9")] == [two.run_id]
    assert jobs.runs("none") == []


def test_cancel_marks_an_unfinished_job_cancelled_by_user(jobs):
    j = jobs.add(job())
    c = jobs.cancel(j.job_id)
    assert (c.state, c.code, c.message) == (JobState.CANCELLED, "Cancelled", "cancelled by user")


def test_recover_interrupts_a_dead_local_run_and_fails_its_unfinished_jobs(jobs, dead_owner):
    done, lost = job(definition="LD"), job(definition="HD")
    r = jobs.start_run(run(owner=dead_owner), [done, lost])
    jobs.update(done.job_id, state=JobState.SUCCESS)
    jobs.update(lost.job_id, state=JobState.TRANSCODING)
    [ended] = jobs.recover()
    assert ended.run_id == r.run_id and ended.state == RunState.INTERRUPTED and ended.code == "Interrupted"
    assert jobs.get(done.job_id).state == JobState.SUCCESS
    failed = jobs.get(lost.job_id)
    assert (
        failed.state == JobState.FAIL and failed.code == "Interrupted" and "package the source again" in failed.message
    )
    assert jobs.recover() == []  # once


def test_recover_leaves_live_and_other_host_runs_alone(jobs):
    mine = jobs.start_run(run("a"), [job("a")])
    theirs = jobs.start_run(run("b", owner="render-7.example:4242"), [job("b")])
    ownerless = jobs.start_run(run("c", owner=""), [job("c")])
    assert jobs.recover() == []
    assert {jobs.get_run(r.run_id).state for r in (mine, theirs, ownerless)} == {RunState.RUNNING}


def test_a_finishing_run_whose_package_is_in_place_ends_published(jobs, dead_owner):
    r = jobs.start_run(run(owner=dead_owner), [job()])
    jobs.claim_finish(r.run_id)
    with sqlite3.connect(jobs.path) as db:  # the finishing process then died: its owner is gone
        db.execute("UPDATE runs SET owner=? WHERE run_id=?", (dead_owner, r.run_id))
    [ended] = jobs.recover(published=lambda run: run.run_id == r.run_id)
    assert ended.state == RunState.PUBLISHED and ended.message == "published; its process then stopped"


def test_a_detached_run_is_not_interrupted_and_a_dead_finisher_hands_it_back(jobs, dead_owner):
    """MPS jobs live on after the process that submitted or was finishing them: `status --wait` goes on."""
    running = jobs.start_run(run("a", owner=dead_owner, engine="mts"), [job("a", engine="mts")])
    finishing = jobs.start_run(run("b", owner=dead_owner, engine="mts"), [job("b", engine="mts")])
    jobs.claim_finish(finishing.run_id)
    with sqlite3.connect(jobs.path) as db:
        db.execute("UPDATE runs SET owner=? WHERE run_id=?", (dead_owner, finishing.run_id))
    assert jobs.recover(detached=lambda run: run.engine == "mts") == []
    assert jobs.get_run(running.run_id).state == RunState.RUNNING
    assert jobs.get_run(finishing.run_id).state == RunState.RUNNING  # claimable again
    assert all(j.state == JobState.SUBMITTED for j in jobs.list())
    assert jobs.claim_finish(finishing.run_id)


def test_the_store_opens_from_its_config_and_survives_reopening(tmp_path):
    config = StoreConfig(jobs=tmp_path / "j.db", keys=tmp_path / "k.db")
    first = JobStore.open(config)
    r = first.start_run(run(), [job()])
    again = JobStore.open(config)
    assert again.get_run(r.run_id).run_id == r.run_id and again.path == tmp_path / "j.db"
    assert repr(again) == f"JobStore('sqlite:///{tmp_path / 'j.db'}')"


def test_job_timestamps_are_set_by_state(jobs):
    before = time.time()
    j = jobs.add(job())
    t = jobs.update(j.job_id, state=JobState.TRANSCODING)
    f = jobs.update(j.job_id, state=JobState.CANCELLED)
    assert before <= t.started_at <= f.finished_at
