"""Cancel a run or one job, saying exactly what happened.

As MPS's CancelJob does, a single job can be cancelled only while it is Submitted (queued). A job
that is encoding is refused with a sentence: an engine whose ``cancel`` capability is "queued"
(MPS) cannot stop it, and one whose capability is "run" (the local engine: one FFmpeg process
encodes every definition) stops the whole run instead. Cancelling a run cancels each unfinished
job: the engine drops it at its next check (about a second), the run ends Cancelled, nothing is
published and its keys are revoked. A user's cancel is reported as a cancel, never as a failure.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.errors import InputError
from ..domain.runs import Job, JobState, Run
from ..domain.settings import Settings
from ..engines import Engine, capabilities, get_engine
from ..stores.jobs import JobStore


@dataclass
class Cancelled:
    run: Run | None
    cancelled: list[Job]
    refused: list[str]  # one sentence per job that could not be cancelled


def cancel(ref: str, settings: Settings) -> Cancelled:
    """Cancel the run whose id (or unique prefix) is ``ref``, else the job ``ref``."""
    ref = ref.strip()
    if not ref:
        raise InputError("no run or job id given: pass one (or a unique prefix of it) from `hlskit status`.")
    store = JobStore.open(settings.store_config())
    runs = [r for r in store.runs(ref) if r.run_id.startswith(ref)]
    if len(runs) > 1:
        raise InputError(f"{ref} matches {len(runs)} runs: give more characters of the run id.")
    jobs = store.jobs_matching(ref)
    if runs and jobs and runs[0].run_id != ref:  # a prefix of a run and of another run's job
        raise InputError(
            f"{ref} matches 1 run and {len(jobs)} job(s): give more characters of the id (`hlskit status` lists them)."
        )
    if runs:
        return _cancel_run(runs[0], store, settings)
    job = store.find_job(ref)
    refusal = _refusal(job)
    if refusal:
        raise InputError(refusal, code="PermissionDenied.JobInTranscoding")
    cancelled = _cancel_job(job, store, get_engine(job.engine, settings))
    return Cancelled(store.get_run(job.run_id), [cancelled], [])


def _refusal(job: Job) -> str | None:
    if job.state.finished:
        return f"job {job.job_id} ({job.definition}) already ended as {job.state.value}: only unfinished jobs can be cancelled."
    if job.state == JobState.TRANSCODING and capabilities(job.engine).cancel == "run":
        return (
            f"job {job.job_id} ({job.definition}) is encoding together with the other definitions "
            f"of run {job.run_id}: cancel the whole run with `hlskit cancel {job.run_id}`."
        )
    return None


def _cancel_job(job: Job, store: JobStore, engine: Engine) -> Job:
    # Ask the engine first: MPS refuses unless the job is still Submitted, and that refusal is the answer.
    engine.cancel(job)
    return store.cancel(job.job_id)


def _cancel_run(run: Run, store: JobStore, settings: Settings) -> Cancelled:
    if run.state.finished:
        raise InputError(f"run {run.run_id} of {run.content_id} already ended as {run.state.value}: nothing to cancel.")
    done, refused = [], []
    engine = get_engine(run.engine, settings)
    for job in store.run_jobs(run.run_id):
        if job.state.finished:
            continue
        try:
            done.append(_cancel_job(job, store, engine))
        except InputError as exc:
            refused.append(f"{job.definition}: {exc.message}")
        except Exception as exc:  # MPS refusals arrive as other HlskitErrors
            refused.append(f"{job.definition}: {getattr(exc, 'message', exc)}")
    return Cancelled(store.get_run(run.run_id), done, refused)
