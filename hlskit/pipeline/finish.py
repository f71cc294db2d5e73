"""Finish one package run, the same way for every engine:
manifest → stitch → validate → publish → revoke the replaced package's keys → notify.

A run publishes when at least one definition succeeded and the stitched package validates
(Apple's "several bit rates", AHS-9.9, is only a warning: a small source legitimately gets one
rung). Otherwise nothing is published, the run's own keys are revoked and the run ends Failed, or
Cancelled when the user cancelled it. Only one process finishes a run (JobStore.claim_finish).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..domain.errors import HlskitError, JobError, os_error_sentence
from ..domain.jobs import Job, JobState, JobStore, Run, RunState
from ..domain.manifest import refresh_manifest
from ..domain.names import MASTER
from ..hls.master import START_DEFINITION
from ..hls.source import KeyResolver
from ..hls.stitch import MasterInfo, stitch, write_iframes
from ..hls.validate import Report, validate
from ..hls.write import CONTENT_TYPE, with_vod_type
from ..keys.store import KeyStore
from ..notify import Notifier
from .publish import Destination


class RunCancelled(HlskitError):
    """The user cancelled the run (`hlskit cancel`); nothing was published. Exit code 3."""

    exit_code = 3


@dataclass
class PackageResult:
    content_id: str
    run_id: str
    dir: str  # where the package is (a folder or an oss:// location)
    manifest: dict[str, Any]
    jobs: list[Job]
    master: MasterInfo | None = None
    report: Report | None = None
    master_url: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(j.state == JobState.SUCCESS for j in self.jobs)

    @property
    def failed(self) -> list[Job]:
        return [j for j in self.jobs if j.state != JobState.SUCCESS]


@dataclass
class Finisher:
    """What finishing needs besides the run itself: the stores and who to tell."""

    jobs: JobStore
    keys: KeyStore
    notifier: Notifier
    progress: Callable[[str, float], None] | None = None


def finish_run(
    run: Run, jobs: list[Job], dest: Destination, manifest: dict[str, Any], resolver: KeyResolver, ctx: Finisher
) -> PackageResult:
    """Finish ``run`` whose ``jobs`` have all ended; raises JobError/RunCancelled when nothing was published."""
    if not ctx.jobs.claim_finish(run.run_id):
        current = ctx.jobs.get_run(run.run_id)
        raise JobError(
            f"run {run.run_id} is already {current.state.value if current else 'gone'}: "
            "another process finished it; see `hlskit status`.",
            code="RunBusy",
        )
    for job in jobs:
        ctx.notifier.job_ended(job)
    try:
        manifest = refresh_manifest(manifest, jobs)
        done = [d for d in manifest["definitions"] if d["state"] == JobState.SUCCESS.value]
        if not done:
            raise _nothing_succeeded(run, jobs)
        items = [(d["name"], f"{dest.master_dir}/{d['playlist']}") for d in done]
        for _, playlist in items:  # MPS leaves out EXT-X-PLAYLIST-TYPE; our own playlists have it
            fixed = with_vod_type(dest.storage.read_text(playlist))
            if fixed is not None:
                dest.storage.write_text(playlist, fixed, CONTENT_TYPE)
        start = manifest.get("start_definition") or START_DEFINITION  # the master's first variant
        master = stitch(dest.storage, dest.master_dir, items, resolver, ctx.progress, start)
        write_iframes(dest.storage, master)  # nothing points at them until the master is written
        master_path = f"{dest.master_dir}/{MASTER}"
        # No time budget: this is our own storage, and a long title must not fail to publish on a clock.
        report = validate(
            master_path, storage=dest.storage, key_resolver=resolver, master_text=master.text, time_budget=None
        )
        _gate(report)
        manifest["master"] = {**master.to_manifest(), "stitched_at": _now()}
        manifest["validation"] = {
            "must_fix": [f"{f.rule}: {f.message}" for f in report.must],
            "should_fix": [f"{f.rule}: {f.message}" for f in report.should],
        }
        dest.write_manifest(manifest)
        # The master last (its I-frame playlists are already written): on OSS its upload publishes.
        dest.storage.write_text(master.path, master.text, CONTENT_TYPE)
        dest.publish()
    except BaseException as exc:
        dest.discard()
        ctx.keys.revoke_run(run.run_id)
        cancelled = isinstance(exc, RunCancelled)
        state = RunState.CANCELLED if cancelled else RunState.FAILED
        if isinstance(exc, KeyboardInterrupt):
            state = RunState.INTERRUPTED
        code = getattr(exc, "code", "") or type(exc).__name__
        message = getattr(exc, "message", "") or str(exc)
        if isinstance(exc, OSError):  # EACCES, EROFS, ENOSPC while writing or renaming: one sentence
            code, message = "PublishFail", os_error_sentence(exc, "publishing the package")
        ctx.jobs.end_run(run.run_id, state, code, message)
        ctx.notifier.package_ended(run.content_id, jobs, code=code, message=message, output=dest.final)
        if isinstance(exc, OSError):
            raise JobError(message, code=code) from None
        raise
    # Publishing replaced any earlier package of this content id: only this run's keys stay live.
    ctx.keys.revoke(run.content_id, keep={k["key_id"] for k in manifest.get("keys", [])})
    failed = [j for j in jobs if j.state != JobState.SUCCESS]
    ctx.jobs.end_run(
        run.run_id,
        RunState.PUBLISHED,
        "PartialFail" if failed else "",
        ", ".join(j.definition for j in failed) + " failed" if failed else "",
    )
    result = PackageResult(
        run.content_id,
        run.run_id,
        dest.final if dest.local else run.out,
        manifest,
        jobs,
        master,
        report,
        master_url=dest.url(f"{dest.final}/{MASTER}"),
    )
    ctx.notifier.package_ended(result)
    return result


def _nothing_succeeded(run: Run, jobs: list[Job]) -> HlskitError:
    if jobs and all(j.state == JobState.CANCELLED for j in jobs):
        return RunCancelled(
            f"run {run.run_id} of {run.content_id} was cancelled (`hlskit cancel`); nothing was published.",
            code="Cancelled",
        )
    reasons = "; ".join(f"{j.definition}: {j.message or j.state.value}" for j in jobs)
    return JobError(f"every definition failed, nothing was published ({reasons}).", code="TranscodeFail")


def _gate(report: Report) -> None:
    """Any MUST finding blocks publishing (Apple's "several bit rates", AHS-9.9, is a SHOULD: a small
    source legitimately gets one rung)."""
    blocking = report.must
    if blocking:
        rules = ", ".join(dict.fromkeys(f.rule for f in blocking[1:]))
        raise JobError(
            f"the package fails validation, nothing was published ({blocking[0].rule}: "
            f"{blocking[0].message}{'; also ' + rules if rules else ''}); "
            "run `hlskit validate` on a copy and report it as a bug.",
            code="ValidationFail",
        )


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
