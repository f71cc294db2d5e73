"""Cancel a run or one job, saying exactly what happened.

As MPS's CancelJob does, a single job can be cancelled only while it is Submitted (queued). A job
that is encoding is refused with a sentence: on MPS it cannot be stopped; locally every definition
of a run is encoded by one FFmpeg process, so the whole run is what can be cancelled. Cancelling a
run cancels each unfinished job: the local engine stops its FFmpeg process at its next check (about
a second), the run ends Cancelled, nothing is published and its keys are revoked. A user's cancel
is reported as a cancel, never as a failure.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.errors import InputError
from ..domain.jobs import Job, JobState, JobStore, Run
from ..domain.settings import Settings
from ..engines import get_engine


@dataclass
class Cancelled:
    run: Run | None
    cancelled: list[Job]
    refused: list[str]  # one sentence per job that could not be cancelled


def cancel(ref: str, settings: Settings) -> Cancelled:
    """Cancel the run whose id (or unique prefix) is ``ref``, else the job ``ref``."""
    store = JobStore.from_settings(settings)
    runs = [r for r in store.runs(ref) if r.run_id.startswith(ref)]
    if len(runs) > 1:
        raise InputError(f"{ref} matches {len(runs)} runs: give more characters of the run id.")
    if runs:
        return _cancel_run(runs[0], store, settings)
    job = store.find_job(ref)
    refusal = _refusal(job)
    if refusal:
        raise InputError(refusal, code="PermissionDenied.JobInTranscoding")
    _cancel_job(job, store, settings)
    return Cancelled(store.get_run(job.run_id), [store.get(job.job_id)], [])


def _refusal(job: Job) -> str | None:
    if job.state.finished:
        return f"job {job.job_id} ({job.definition}) already ended as {job.state.value}: only unfinished jobs can be cancelled."
    if job.state == JobState.TRANSCODING and job.engine == "local":
        return (
            f"job {job.job_id} ({job.definition}) is encoding in one FFmpeg process with the other definitions "
            f"of run {job.run_id}: cancel the whole run with `hlskit cancel {job.run_id}`."
        )
    return None


def _cancel_job(job: Job, store: JobStore, settings: Settings) -> None:
    if job.engine != "local":
        get_engine(job.engine, settings).cancel(job)  # MPS refuses unless Submitted: that error is the answer
    store.cancel(job.job_id)


def _cancel_run(run: Run, store: JobStore, settings: Settings) -> Cancelled:
    if run.state.finished:
        raise InputError(f"run {run.run_id} of {run.content_id} already ended as {run.state.value}: nothing to cancel.")
    done, refused = [], []
    for job in store.run_jobs(run.run_id):
        if job.state.finished:
            continue
        if job.engine == "local":
            done.append(store.cancel(job.job_id))
            continue
        try:
            _cancel_job(job, store, settings)
            done.append(store.get(job.job_id))
        except InputError as exc:
            refused.append(f"{job.definition}: {exc.message}")
        except Exception as exc:  # MPS refusals arrive as other HlskitErrors
            refused.append(f"{job.definition}: {getattr(exc, 'message', exc)}")
    return Cancelled(store.get_run(run.run_id), done, refused)
