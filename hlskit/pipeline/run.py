"""The spine of a package run: plan → start (claim the content id, keys) → engine → follow → finish.

Used by ``hlskit package``, ``hlskit submit`` (batch), ``hlskit status --wait`` and ``hlskit
stitch``; engines only run or submit a plan, report how its jobs went and cancel. What an engine
can do is read from its capabilities, never from its name.
"""

from __future__ import annotations

import contextlib
import json
import posixpath
import time
from collections.abc import Callable
from pathlib import Path

from ..domain.errors import InputError, JobError, os_error_sentence
from ..domain.manifest import Manifest, build_manifest
from ..domain.names import MANIFEST, MASTER, MEDIA_PLAYLIST, run_staging
from ..domain.plan import PackageOptions, PackagePlan
from ..domain.runs import Job, Run, RunState, new_run_id, this_owner
from ..domain.settings import Settings
from ..engines import Engine, EngineReport, capabilities, engine_options, engines_where, get_engine
from ..hls.master import MasterInfo
from ..keys.kms import create_data_key
from ..keys.resolve import memory_key_resolver
from ..notify import Notifier
from ..storage import is_remote
from ..stores.jobs import JobStore
from ..stores.keys import KeyStore
from .finish import (
    Finisher,
    PackageResult,
    abandon,
    finish_run,
    keep_only_published_keys,
    stitch_and_check,
    write_package,
)
from .plan import plan_package
from .publish import Destination, destination, read_manifest_text, sweep_stale_staging

Progress = Callable[[str, float], None]


def _quiet(name: str, pct: float, speed: float | None = None) -> None:
    pass


def _detached(run: Run) -> bool:
    """Whether ``run``'s jobs live outside the process that started it (an unknown engine: assume so)."""
    try:
        return capabilities(run.engine).detached
    except InputError:
        return True


def _published_manifest(run: Run) -> Manifest | None:
    """The manifest of ``run``'s folder package when that package is the one in place (published)."""
    if not run.out or is_remote(run.out):
        return None
    try:
        manifest = Manifest.loads((Path(run.out) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.run_id != run.run_id:
        return None
    return manifest if (Path(run.out) / MASTER).is_file() else None


def recover_runs(store: JobStore, keys: KeyStore) -> list[Run]:
    """End runs whose process died and revoke the keys they made; a run that had already published
    its package (killed between publishing and recording it) ends Published and keeps its keys."""
    lost = store.recover(published=lambda run: _published_manifest(run) is not None, detached=_detached)
    for run in lost:
        manifest = _published_manifest(run) if run.state == RunState.PUBLISHED else None
        if manifest is not None:  # finish's last step
            keep_only_published_keys(keys, manifest)
            continue
        keys.revoke_run(run.run_id)
        if run.out and not is_remote(run.out):
            sweep_stale_staging(Path(run.out).parent)  # a killed run's staging may hold clear segments
    return lost


def start_run(
    source: str,
    out: str,
    settings: Settings,
    options: PackageOptions,
    store: JobStore,
    keys: KeyStore,
    engine: Engine,
) -> PackagePlan:
    """Plan, then record the run and its jobs (refused while another run of the content id is active)."""
    plan = plan_package(source, out, settings, options, new_run_id(), engine)
    if not is_remote(out):
        sweep_stale_staging(Path(out))
    recover_runs(store, keys)
    run = Run(
        run_id=plan.run_id,
        content_id=plan.content_id,
        engine=engine.name,
        out=plan.out,
        owner=this_owner(),
        notify=json.dumps(options.notify) if options.notify else "",
    )
    store.start_run(run, plan.all_jobs())
    if options.encrypt:
        kms = settings.kms_config()
        if kms:
            plan.make_key = lambda: create_data_key(keys, plan.content_id, kms, plan.run_id)
        elif options.given_key is not None:  # --key-file: one key (rotation was refused in planning)
            given, iv = options.given_key, options.given_iv
            plan.make_key = lambda: keys.add(plan.content_id, given, iv, plan.run_id)
        else:
            plan.make_key = lambda: keys.create(plan.content_id, plan.run_id)
        try:
            plan.key(0)
        except BaseException:
            abandon(run, store, keys, None, RunState.FAILED, "KeyFail", "the first data key could not be made")
            raise
    return plan


def manifest_of(plan: PackagePlan, report: EngineReport, engine: Engine) -> Manifest:
    """The run's manifest from its plan and what the engine reported."""
    manifest = build_manifest(
        plan,
        report.jobs,
        report.outputs,
        report.downloads,
        engine=engine.name,
        explicit_iv=engine.capabilities.explicit_iv,
        audio=report.audio,
        subtitles=report.subtitles,
    )
    manifest.thumbnails = report.thumbnails
    manifest.warnings = list(dict.fromkeys(plan.notes + report.warnings))  # each definition repeats the source's
    return manifest


def run_package(
    source: str, out: str, settings: Settings, options: PackageOptions | None = None, progress: Progress | None = None
) -> PackageResult:
    """Package one source and publish it; blocks until the run has ended."""
    options = options or PackageOptions()
    engine = get_engine(options.engine or settings.engine, settings)
    notifier = Notifier.from_targets(options.notify, settings.notify_config())  # bad targets fail before any job
    store, keys = JobStore.open(settings.store_config()), KeyStore.open(settings.store_config())
    made = None if is_remote(out) or Path(out).exists() else Path(out)  # the run makes --out: not left empty
    try:
        plan = start_run(source, out, settings, options, store, keys, engine)
        dest = destination(plan.staging, plan.out, settings)
        try:
            report = engine.run(plan, store, progress or _quiet)
        except BaseException as exc:
            # A detached engine's jobs keep running (`hlskit status --wait` follows them), unless it
            # refused the plan: then it submitted nothing and the run ends here.
            if not engine.capabilities.detached or isinstance(exc, InputError):
                interrupted = isinstance(exc, KeyboardInterrupt)
                message = os_error_sentence(exc, "writing the package") if isinstance(exc, OSError) else str(exc)
                abandon(
                    _run_of(store, plan),
                    store,
                    keys,
                    dest,
                    RunState.INTERRUPTED if interrupted else RunState.FAILED,
                    "Interrupted" if interrupted else "EngineFail",
                    "packaging stopped before this job ended" if interrupted else message,
                )
                if isinstance(exc, OSError):
                    raise JobError(message, code="EngineFail") from None
            raise
        resolver = memory_key_resolver(plan.keys, plan.key_url)
        finisher = Finisher(store, keys, notifier, progress)
        return finish_run(
            _run_of(store, plan), report.jobs, dest, manifest_of(plan, report, engine), resolver, finisher
        )
    finally:
        notifier.close()
        if made is not None:
            with contextlib.suppress(OSError):  # not empty (a package was published) or never made
                made.rmdir()


def _run_of(store: JobStore, plan: PackagePlan) -> Run:
    run = store.get_run(plan.run_id)
    assert run is not None, "a started run is in the store"
    return run


def submit_package(source: str, out: str, settings: Settings, options: PackageOptions | None = None) -> list[Job]:
    """Plan and submit without waiting (detached engines); `hlskit status --wait` follows and finishes the run."""
    options = options or PackageOptions()
    engine = get_engine(options.engine or settings.engine, settings)
    if not engine.capabilities.detached:
        others = engines_where(lambda caps: caps.detached)
        raise InputError(
            f"the {engine.name} engine runs jobs in this process: drop --no-wait"
            + (f", or use {engine_options(others)}." if others else ".")
        )
    Notifier.from_targets(options.notify, settings.notify_config()).close()  # check the targets now
    store, keys = JobStore.open(settings.store_config()), KeyStore.open(settings.store_config())
    plan = start_run(source, out, settings, options, store, keys, engine)
    try:
        jobs = engine.submit(plan, store)
    except BaseException as exc:
        code = getattr(exc, "code", "") or "SubmitFailed"
        abandon(_run_of(store, plan), store, keys, None, RunState.FAILED, code, getattr(exc, "message", str(exc)))
        raise
    dest = destination(plan.staging, plan.out, settings)
    report = EngineReport(jobs)
    dest.write_manifest(manifest_of(plan, report, engine), folder=dest.staging)
    if all(j.state.finished for j in jobs):  # the engine refused every job: end the run now
        follow_runs([plan.run_id], settings)
    return jobs


def follow_runs(
    run_ids: list[str],
    settings: Settings,
    progress: Progress | None = None,
    engine_factory: Callable[[str, Settings], Engine] = get_engine,
) -> list[Run]:
    """Wait for runs to end, finishing those whose jobs run detached; returns the runs as they ended.

    A run of an attached engine is finished by the process running it; here we only wait (and
    notice when that process died). A detached run is followed and finished here, once, by
    whoever gets to it first.
    """
    store, keys = JobStore.open(settings.store_config()), KeyStore.open(settings.store_config())
    for run_id in run_ids:
        run = store.get_run(run_id)
        if run is None or run.state.finished or not _detached(run):
            continue
        engine = engine_factory(run.engine, settings)
        dest = _destination_of(run, settings)
        manifest = dest.read_manifest(dest.staging)
        if manifest is None:
            raise JobError(
                f"run {run_id} has no manifest at {run.out}/{run_id}/{MANIFEST}: it cannot be finished; "
                "package the source again.",
                code="ManifestMissing",
            )
        report = engine.follow(store.run_jobs(run_id), store, progress or _quiet, run.out)
        manifest.record_downloads(report.downloads)
        manifest.record_outputs(report.outputs, report.audio, report.subtitles)  # engines that encrypt here
        manifest.thumbnails = report.thumbnails or manifest.thumbnails
        manifest.warnings = list(dict.fromkeys([*manifest.warnings, *report.warnings]))
        notifier = Notifier.from_targets(json.loads(run.notify) if run.notify else [], settings.notify_config())
        try:
            finisher = Finisher(store, keys, notifier, progress)
            finish_run(run, report.jobs, dest, manifest, keys.resolver(), finisher)
        except (JobError, InputError):
            ended = store.get_run(run_id)
            if ended is None or not ended.state.finished:
                raise
            # the run's state says how it ended (status shows it); go on with the other runs
        finally:
            notifier.close()
    while True:
        recover_runs(store, keys)
        runs = [store.get_run(r) for r in run_ids]
        if all(r is None or r.state.finished for r in runs):
            return [r for r in runs if r is not None]
        time.sleep(1)


def _destination_of(run: Run, settings: Settings) -> Destination:
    if is_remote(run.out):
        staging = posixpath.join(run.out, run.run_id)
    else:  # a detached engine writing a folder (Celery workers on shared storage): see plan._locations
        staging = run_staging(run.out, run.run_id)
    return destination(staging, run.out, settings)


def restitch(package_dir: str, settings: Settings, progress: Progress | None = None) -> MasterInfo:
    """Stitch a published folder package again (its keys from the key store), validate it and write
    its master and manifest, as finishing does: a package that fails validation keeps its old master."""
    folder = Path(package_dir)
    if not folder.is_dir():
        raise InputError(f"package folder {package_dir} does not exist: pass the out/<content-id> folder.")
    where = str(folder.resolve())
    dest = destination(where, where, settings)
    path = folder / MANIFEST
    manifest = read_manifest_text(path.read_text(encoding="utf-8"), str(path)) if path.is_file() else None
    if manifest is not None:
        items = [(d.name, f"{dest.master_dir}/{d.playlist}") for d in manifest.done()]
    else:  # a folder of definitions without a manifest: every <DEF>/index.m3u8
        found = sorted(p.parent.name for p in folder.glob(f"*/{MEDIA_PLAYLIST}"))
        items = [(name, f"{dest.master_dir}/{name}/{MEDIA_PLAYLIST}") for name in found]
    if not items:
        raise InputError(
            f"{package_dir} holds no finished definition (<DEF>/{MEDIA_PLAYLIST}): package a source first."
        )
    resolver = KeyStore.open(settings.store_config()).resolver()
    master, report = stitch_and_check(dest, manifest, resolver, progress, items)
    write_package(dest, master, manifest, report)
    return master
