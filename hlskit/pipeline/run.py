"""The spine of a package run: plan → start (claim the content id, keys) → engine → follow → finish.

Used by ``hlskit package``, ``hlskit submit`` (batch), ``hlskit status --wait`` and both engines;
engines only submit a plan, report how jobs went and cancel.
"""

from __future__ import annotations

import json
import posixpath
import time
from collections.abc import Callable
from pathlib import Path

from ..domain.errors import InputError, JobError, os_error_sentence
from ..domain.jobs import Job, JobState, JobStore, Run, RunState, new_run_id, this_owner
from ..domain.manifest import build_manifest
from ..domain.names import MANIFEST, MASTER, MEDIA_PLAYLIST
from ..domain.plan import PackageOptions, PackagePlan
from ..domain.settings import Settings
from ..engines import Engine, get_engine
from ..engines.thumbnails import add_thumbnails
from ..hls.stitch import MasterInfo, stitch, write_master
from ..keys.kms import create_data_key
from ..keys.resolve import local_key_resolver, memory_key_resolver, store_key_resolver
from ..keys.store import KeyStore
from ..notify import Notifier
from .finish import Finisher, PackageResult, finish_run
from .plan import plan_package
from .publish import Destination, destination, sweep_stale_staging

Progress = Callable[[str, float], None]


def _quiet(name: str, pct: float, speed: float | None = None) -> None:
    pass


def _published_manifest(run: Run) -> dict | None:
    """The manifest of ``run``'s local package when that package is the one in place (published)."""
    if run.engine != "local" or not run.out or run.out.startswith("oss://"):
        return None
    try:
        manifest = json.loads((Path(run.out) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("run_id") != run.run_id:
        return None
    return manifest if (Path(run.out) / MASTER).is_file() else None


def recover_runs(store: JobStore, keys: KeyStore) -> list[Run]:
    """End runs whose process died and revoke the keys they made; a run that had already published
    its package (killed between publishing and recording it) ends Published and keeps its keys."""
    lost = store.recover(published=lambda run: _published_manifest(run) is not None)
    for run in lost:
        manifest = _published_manifest(run) if run.state == RunState.PUBLISHED else None
        if manifest is not None:  # finish's last step: only this run's keys stay live
            keys.revoke(run.content_id, keep={k["key_id"] for k in manifest.get("keys", [])})
            continue
        keys.revoke_run(run.run_id)
        if run.engine == "local" and run.out and not run.out.startswith("oss://"):
            sweep_stale_staging(Path(run.out).parent)  # a killed run's staging may hold clear segments
    return lost


def start_run(
    source: str, out: str, settings: Settings, options: PackageOptions, store: JobStore, keys: KeyStore
) -> PackagePlan:
    """Plan, then record the run and its jobs (refused while another run of the content id is active)."""
    plan = plan_package(source, out, settings, options, new_run_id())
    if not out.startswith("oss://"):
        sweep_stale_staging(Path(out))
    recover_runs(store, keys)
    run = Run(
        run_id=plan.run_id,
        content_id=plan.content_id,
        engine=options.engine or settings.engine,
        out=plan.out,
        owner=this_owner(),
        notify=json.dumps(options.notify) if options.notify else "",
    )
    store.start_run(run, plan.all_jobs())
    if options.encrypt:
        if settings.mts_kms_key_id:
            plan.make_key = lambda: create_data_key(keys, plan.content_id, settings, plan.run_id)
        elif options.given_key is not None:  # --key-file: one key (rotation was refused in planning)
            plan.make_key = lambda: keys.add(plan.content_id, options.given_key, options.given_iv, plan.run_id)
        else:
            plan.make_key = lambda: keys.create(plan.content_id, plan.run_id)
        try:
            plan.key(0)
        except BaseException:
            _abandon(plan, store, keys, "KeyFail", "the first data key could not be made")
            raise
    return plan


def _abandon(
    plan: PackagePlan, store: JobStore, keys: KeyStore, code: str, message: str, state: RunState = RunState.FAILED
) -> None:
    """A run that stops before finishing: jobs and run end, its keys are revoked, staging goes."""
    for job in store.run_jobs(plan.run_id):
        if not job.state.finished:
            store.update(job.job_id, state=JobState.FAIL, code=code, message=message)
    keys.revoke_run(plan.run_id)
    store.end_run(plan.run_id, state, code, message)


def run_warnings(jobs: list[Job]) -> list[str]:
    """The distinct notes that finished jobs carry (each definition repeats the source's)."""
    return list(dict.fromkeys(w for j in jobs if j.state == JobState.SUCCESS for w in j.message.split("; ") if w))


def run_package(
    source: str, out: str, settings: Settings, options: PackageOptions | None = None, progress: Progress | None = None
) -> PackageResult:
    """Package one source and publish it; blocks until the run has ended."""
    options = options or PackageOptions()
    engine = get_engine(options.engine or settings.engine, settings)
    notifier = Notifier.from_targets(options.notify, settings)  # bad targets fail before any job exists
    store, keys = JobStore.from_settings(settings), KeyStore.from_settings(settings)
    try:
        plan = start_run(source, out, settings, options, store, keys)
        dest = destination(plan.staging, plan.out, settings)
        try:
            jobs = engine.run(plan, store, progress or _quiet)
            # Seek-bar previews into the package folder; a failure is a warning, never a failed package.
            thumbnails_note = add_thumbnails(plan, engine.ffmpeg) if engine.name == "local" else None
        except BaseException as exc:
            # Remote jobs keep running (`hlskit status --wait` follows them), unless the engine refused
            # the plan: then it submitted nothing and the run ends here.
            if engine.name == "local" or isinstance(exc, InputError):
                dest.discard()
                interrupted = isinstance(exc, KeyboardInterrupt)
                message = os_error_sentence(exc, "writing the package") if isinstance(exc, OSError) else str(exc)
                _abandon(
                    plan,
                    store,
                    keys,
                    "Interrupted" if interrupted else "EngineFail",
                    "packaging stopped before this job ended" if interrupted else message,
                    RunState.INTERRUPTED if interrupted else RunState.FAILED,
                )
                if isinstance(exc, OSError):
                    raise JobError(message, code="EngineFail") from None
            raise
        manifest = build_manifest(plan, jobs)
        warnings = run_warnings(jobs) + ([thumbnails_note] if thumbnails_note else [])
        if warnings:  # HDR tone-mapped, damaged source frames: kept with the package (hlskit.engines.local)
            manifest["warnings"] = warnings
        resolver = memory_key_resolver(plan.keys, plan.key_url)
        return finish_run(
            store.get_run(plan.run_id), jobs, dest, manifest, resolver, Finisher(store, keys, notifier, progress)
        )
    finally:
        notifier.close()


def submit_package(source: str, out: str, settings: Settings, options: PackageOptions | None = None) -> list[Job]:
    """Plan and submit without waiting (mts engine); `hlskit status --wait` follows and finishes the run."""
    options = options or PackageOptions()
    engine = get_engine(options.engine or settings.engine, settings)
    if not hasattr(engine, "submit"):
        raise InputError(f"the {engine.name} engine runs jobs in this process: drop --no-wait, or use --engine mts.")
    Notifier.from_targets(options.notify, settings).close()  # check the targets now
    store, keys = JobStore.from_settings(settings), KeyStore.from_settings(settings)
    plan = start_run(source, out, settings, options, store, keys)
    try:
        jobs = engine.submit(plan, store)
    except BaseException as exc:
        _abandon(plan, store, keys, getattr(exc, "code", "") or "SubmitFailed", getattr(exc, "message", str(exc)))
        raise
    dest = destination(plan.staging, plan.out, settings)
    dest.write_manifest(build_manifest(plan, jobs), folder=dest.staging)
    if all(j.state.finished for j in jobs):  # MPS refused every output: end the run now
        follow_runs([plan.run_id], settings)
    return jobs


def follow_runs(
    run_ids: list[str],
    settings: Settings,
    progress: Progress | None = None,
    engine_factory: Callable[[str, Settings], Engine] = get_engine,
) -> list[Run]:
    """Wait for runs to end, finishing those whose jobs ran on MPS; returns the runs as they ended.

    A local run is finished by the process running it; here we only wait (and notice when that
    process died). An mts run is followed on MPS and finished here, once, by whoever gets to it first.
    """
    store, keys = JobStore.from_settings(settings), KeyStore.from_settings(settings)
    for run_id in run_ids:
        run = store.get_run(run_id)
        if run is None or run.state.finished or run.engine == "local":
            continue
        engine = engine_factory(run.engine, settings)
        jobs = engine.wait(store, store.run_jobs(run_id), progress or _quiet)
        dest = _destination_of(run, settings)
        manifest = dest.read_manifest(dest.staging)
        if manifest is None:
            raise JobError(
                f"run {run_id} has no manifest at {run.out}/{run_id}/hlskit.json: it cannot be finished; "
                "package the source again.",
                code="ManifestMissing",
            )
        if manifest.get("downloads") and hasattr(engine, "downloads"):
            made = engine.downloads(jobs, run.out)
            for d in manifest["downloads"]:
                d["bytes"] = made.get(d["name"], {}).get("bytes", d.get("bytes", 0))
        notifier = Notifier.from_targets(json.loads(run.notify) if run.notify else [], settings)
        try:
            finish_run(run, jobs, dest, manifest, store_key_resolver(keys), Finisher(store, keys, notifier, progress))
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
    staging = posixpath.join(run.out, run.run_id) if run.out.startswith("oss://") else run.out
    return destination(staging, run.out, settings)


def restitch(package_dir: str, settings: Settings, progress: Progress | None = None) -> MasterInfo:
    """Stitch a published local package again (its keys from the key store) and record it in its manifest."""
    folder = Path(package_dir)
    if not folder.is_dir():
        raise InputError(f"package folder {package_dir} does not exist: pass the out/<content-id> folder.")
    dest = destination(str(folder.resolve()), str(folder.resolve()), settings)
    manifest = dest.read_manifest(dest.master_dir)
    if manifest is not None:
        names = [
            (d["name"], d["playlist"])
            for d in manifest.get("definitions", [])
            if d.get("state") == JobState.SUCCESS.value and d.get("playlist")
        ]
    else:
        names = sorted((p.parent.name, f"{p.parent.name}/{MEDIA_PLAYLIST}") for p in folder.glob(f"*/{MEDIA_PLAYLIST}"))
    items = [(name, f"{dest.master_dir}/{playlist}") for name, playlist in names]
    if not items:
        raise InputError(
            f"{package_dir} holds no finished definition (<DEF>/{MEDIA_PLAYLIST}): package a source first."
        )
    start = (manifest or {}).get("start_definition") or "lowest"  # as the package was planned
    info = stitch(dest.storage, dest.master_dir, items, local_key_resolver(settings), progress, start)
    if manifest is not None:
        manifest["master"] = {**info.to_manifest(), "stitched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        dest.write_manifest(manifest)
    write_master(dest.storage, info)
    return info
