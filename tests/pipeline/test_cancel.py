"""`hlskit cancel` against real stores with hand-made runs and jobs: a run is cancelled job by job;
a single job only while queued, as MPS's CancelJob; each refusal is a sentence."""

from __future__ import annotations

import pytest

from hlskit.domain.errors import InputError
from hlskit.domain.runs import Job, JobState, Run, RunState, this_owner
from hlskit.pipeline.cancel import cancel


def test_cancelling_a_run_cancels_its_unfinished_jobs(stores):
    run, (ld, sd) = stores.start(definitions=("LD", "SD"))
    stores.jobs.update(ld.job_id, state=JobState.SUCCESS)
    stores.jobs.update(sd.job_id, state=JobState.TRANSCODING)
    done = cancel(run.run_id[:6], stores.settings)
    assert done.run.run_id == run.run_id and done.refused == []
    assert [j.job_id for j in done.cancelled] == [sd.job_id]
    assert stores.jobs.get(sd.job_id).state == JobState.CANCELLED
    assert stores.jobs.get(ld.job_id).state == JobState.SUCCESS
    # The engine ends the run when it sees the cancel; until then it is still Running.
    assert stores.jobs.get_run(run.run_id).state == RunState.RUNNING


def test_a_queued_job_can_be_cancelled_alone(stores):
    run, (ld, hd) = stores.start()
    done = cancel(hd.job_id[:10], stores.settings)
    assert [j.job_id for j in done.cancelled] == [hd.job_id] and done.run.run_id == run.run_id
    assert (
        stores.jobs.get(hd.job_id).state == JobState.CANCELLED
        and stores.jobs.get(ld.job_id).state == JobState.SUBMITTED
    )


def test_an_encoding_local_job_is_refused_and_told_to_cancel_the_run(stores):
    run, (ld, hd) = stores.start()
    stores.jobs.update(hd.job_id, state=JobState.TRANSCODING)
    with pytest.raises(InputError) as caught:
        cancel(hd.job_id, stores.settings)
    assert caught.value.code == "PermissionDenied.JobInTranscoding"
    assert caught.value.message == (
        f"job {hd.job_id} (HD) is encoding together with the other definitions of run {run.run_id}: "
        f"cancel the whole run with `hlskit cancel {run.run_id}`."
    )
    assert stores.jobs.get(hd.job_id).state == JobState.TRANSCODING


def test_a_finished_job_or_run_has_nothing_to_cancel(stores):
    run, (ld, hd) = stores.start()
    stores.jobs.update(ld.job_id, state=JobState.SUCCESS)
    with pytest.raises(InputError, match=f"job {ld.job_id} \\(LD\\) already ended as TranscodeSuccess"):
        cancel(ld.job_id, stores.settings)
    stores.jobs.end_run(run.run_id, RunState.PUBLISHED)
    with pytest.raises(InputError) as caught:
        cancel(run.run_id, stores.settings)
    assert caught.value.message == f"run {run.run_id} of talk already ended as Published: nothing to cancel."


def test_an_ambiguous_or_unknown_reference_asks_for_more(stores):
    with pytest.raises(InputError, match="no job nothing-like-this"):
        cancel("nothing-like-this", stores.settings)
    a = Job("abc" + "1" * 29, "x", "LD")
    b = Job("abc" + "2" * 29, "y", "LD")
    stores.jobs.add(a)
    stores.jobs.add(b)
    with pytest.raises(InputError, match="abc matches 2 jobs"):
        cancel("abc", stores.settings)


def test_an_mts_job_without_an_mps_id_is_refused_by_the_engine_in_a_run_cancel(stores):
    """MPS cancels by its own JobId: a job MPS never accepted cannot be cancelled there, and the
    run's cancel says so per job instead of failing the whole command."""
    run, (ld,) = stores.start(definitions=("LD",), engine="mts")
    done = cancel(run.run_id, stores.settings)
    assert done.cancelled == []
    assert done.refused == [f"LD: job {ld.job_id} has no MPS job id (it was never accepted): nothing to cancel on MPS."]
    assert stores.jobs.get(ld.job_id).state == JobState.SUBMITTED


def test_an_empty_or_ambiguous_id_cancels_nothing(stores):
    stores.start()
    with pytest.raises(InputError, match="no run or job id given"):
        cancel("  ", stores.settings)  # was taken as a prefix of every run
    # a prefix that a run and a job of another run both start with: `hlskit cancel 0` picked the run.
    # "z" starts no generated id (they are hex), so the run made above never matches too
    stores.jobs.start_run(Run("za1run", "first", engine="local", owner=this_owner()), [Job("5job1", "first", "LD")])
    stores.jobs.start_run(Run("7b2run", "second", engine="local", owner=this_owner()), [Job("zc3job", "second", "LD")])
    with pytest.raises(InputError, match="z matches 1 run and 1 job.s.: give more characters"):
        cancel("z", stores.settings)
    assert {j.state for j in stores.jobs.list()} == {JobState.SUBMITTED}
    assert cancel("za", stores.settings).run.run_id == "za1run"  # unique now
