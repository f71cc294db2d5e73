"""Finish one package run, the same way for every engine:
manifest → stitch → validate → publish → revoke the replaced package's keys → notify.

A run publishes when at least one definition succeeded and the stitched package validates
(Apple's "several bit rates", AHS-9.9, is only a warning: a small source legitimately gets one
rung). Otherwise nothing is published, the run's own keys are revoked and the run ends Failed, or
Cancelled when the user cancelled it (:func:`abandon`, the one teardown). Only one process
finishes a run (JobStore.claim_finish). ``hlskit stitch`` on a published package goes through the
same stitch → validate → write steps (:func:`stitch_and_check`, :func:`write_package`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..domain.errors import HlskitError, JobError, os_error_sentence
from ..domain.manifest import Manifest
from ..domain.manifest_records import RenditionEntry, Validation
from ..domain.names import MASTER
from ..domain.runs import Job, JobState, Run, RunState
from ..domain.tracks import AUDIO_GROUP, SUBTITLES_GROUP
from ..hls.groups import AUDIO, RenditionSource
from ..hls.master import START_DEFINITION, MasterInfo
from ..hls.source import KeyResolver
from ..hls.stitch import stitch
from ..hls.validate import Report, validate
from ..hls.write import CONTENT_TYPE, with_vod_type
from ..notify import Notifier
from ..stores.jobs import JobStore
from ..stores.keys import KeyStore
from .master import write_iframes
from .publish import Destination

Progress = Callable[[str, float], None]


class RunCancelled(HlskitError):
    """The user cancelled the run (`hlskit cancel`); nothing was published. Exit code 3."""

    exit_code = 3


@dataclass
class PackageResult:
    content_id: str
    run_id: str
    dir: str  # where the package is (a folder or an oss:// location)
    manifest: Manifest
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
    progress: Progress | None = None


def finish_run(
    run: Run, jobs: list[Job], dest: Destination, manifest: Manifest, resolver: KeyResolver, ctx: Finisher
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
        manifest.refresh(jobs)
        refused = _not_publishable(run, jobs, manifest)
        if refused is not None:
            raise refused
        master, report = stitch_and_check(dest, manifest, resolver, ctx.progress)
        write_package(dest, master, manifest, report)
        dest.publish()
    except BaseException as exc:
        state = RunState.CANCELLED if isinstance(exc, RunCancelled) else RunState.FAILED
        if isinstance(exc, KeyboardInterrupt):
            state = RunState.INTERRUPTED
        code = getattr(exc, "code", "") or type(exc).__name__
        message = getattr(exc, "message", "") or str(exc)
        if isinstance(exc, OSError):  # EACCES, EROFS, ENOSPC while writing or renaming: one sentence
            code, message = "PublishFail", os_error_sentence(exc, "publishing the package")
        abandon(run, ctx.jobs, ctx.keys, dest, state, code, message)
        ctx.notifier.package_ended(run.content_id, jobs, code=code, message=message, output=dest.final)
        if isinstance(exc, OSError):
            raise JobError(message, code=code) from None
        raise
    keep_only_published_keys(ctx.keys, manifest)
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


def stitch_and_check(
    dest: Destination,
    manifest: Manifest | None,
    resolver: KeyResolver,
    progress: Progress | None,
    items: list[tuple[str, str]] | None = None,
) -> tuple[MasterInfo, Report]:
    """Stitch the manifest's finished definitions (or ``items``: (name, playlist path)), write their
    I-frame playlists (nothing points at them yet) and validate the master before it is written.
    Raises JobError when the package has a MUST finding."""
    if items is None:
        assert manifest is not None
        items = [(d.name, f"{dest.master_dir}/{d.playlist}") for d in manifest.done()]
    for _, playlist in items:  # MPS leaves out EXT-X-PLAYLIST-TYPE; our own playlists have it
        fixed = with_vod_type(dest.storage.read_text(playlist))
        if fixed is not None:
            dest.storage.write_text(playlist, fixed, CONTENT_TYPE)
    start = (manifest.start_definition if manifest else "") or START_DEFINITION  # the master's first variant
    renditions = _rendition_sources(manifest.done_renditions(), dest.master_dir) if manifest else []
    master = stitch(dest.storage, dest.master_dir, items, resolver, progress, start, renditions)
    write_iframes(dest.storage, master)
    # No time budget: this is our own storage, and a long title must not fail to publish on a clock.
    report = validate(
        master.path, storage=dest.storage, key_resolver=resolver, master_text=master.text, time_budget=None
    )
    _gate(report)
    return master, report


def _rendition_sources(renditions: list[RenditionEntry], master_dir: str) -> list[RenditionSource]:
    """What the master says of each rendition. AUTOSELECT=YES for one of each language (and kind): the
    default one, else the first that is no commentary. A player choosing by its user's language must be
    able to tell the candidates apart (RFC 8216 §4.3.4.1.1), so a second English track (a commentary)
    is picked only by hand."""

    def kind(r: RenditionEntry) -> tuple:
        return (r.type, r.language, r.forced, r.characteristics)

    chosen: dict[tuple, RenditionEntry] = {}
    for r in sorted(renditions, key=lambda r: (not r.default, r.commentary)):  # stable: the first of each rank
        if not r.commentary or r.default:
            chosen.setdefault(kind(r), r)
    return [
        RenditionSource(
            r.type,
            AUDIO_GROUP if r.type == AUDIO else SUBTITLES_GROUP,
            r.name,
            f"{master_dir}/{r.playlist}",
            language=r.language,
            default=r.default,
            autoselect=chosen.get(kind(r)) is r,
            forced=r.forced,
            characteristics=r.characteristics,
            channels="2" if r.type == AUDIO else None,  # AAC stereo (engines.encode)
        )
        for r in renditions
    ]


def write_package(dest: Destination, master: MasterInfo, manifest: Manifest | None, report: Report) -> None:
    """The manifest (with the master's figures and the findings), then the master last: on OSS its
    upload is what publishes the package."""
    if manifest is not None:
        manifest.master = master.record(stitched_at=_now())
        manifest.validation = Validation(
            [f"{f.rule}: {f.message}" for f in report.must], [f"{f.rule}: {f.message}" for f in report.should]
        )
        dest.write_manifest(manifest)
    dest.storage.write_text(master.path, master.text, CONTENT_TYPE)


def abandon(
    run: Run, store: JobStore, keys: KeyStore, dest: Destination | None, state: RunState, code: str, message: str
) -> None:
    """The one teardown of a run that will not publish: what it wrote goes, its unfinished jobs and
    the run end, and its keys are revoked (no live key of an unpublished run)."""
    if dest is not None:
        dest.discard()
    for job in store.run_jobs(run.run_id):
        if not job.state.finished:
            store.update(job.job_id, state=JobState.FAIL, code=code, message=message)
    keys.revoke_run(run.run_id)
    store.end_run(run.run_id, state, code, message)


def keep_only_published_keys(keys: KeyStore, manifest: Manifest) -> None:
    """Publishing replaced any earlier package of this content id: only the new package's keys stay live."""
    keys.revoke(manifest.content_id, keep=manifest.key_ids())


def _not_publishable(run: Run, jobs: list[Job], manifest: Manifest) -> HlskitError | None:
    """Why nothing may be published, or None. A cancel at any phase (encode, encrypt, remux) cancels
    the whole run, even after some definitions finished: the user asked for no package."""
    if any(j.state == JobState.CANCELLED for j in jobs):
        return RunCancelled(
            f"run {run.run_id} of {run.content_id} was cancelled (`hlskit cancel`); nothing was published.",
            code="Cancelled",
        )
    if manifest.done():
        return None
    reasons = {j.definition: (j.message or j.state.value).rstrip(".") for j in jobs}
    if len(set(reasons.values())) == 1:  # one cause (a broker away, a missing secret): said once
        return JobError(
            f"every definition failed, nothing was published: {next(iter(reasons.values()))}.", code="TranscodeFail"
        )
    listed = "; ".join(f"{name}: {reason}" for name, reason in reasons.items())
    return JobError(f"every definition failed, nothing was published ({listed}).", code="TranscodeFail")


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
