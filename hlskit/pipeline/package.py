"""One source to one published package: probe → plan → keys → engine → stitch → validate → publish → notify.

Everything is written to a staging folder beside the target (``out/.<content-id>.partial-<pid>``)
and renamed into place only when every job has ended, so a failed or interrupted run never
leaves a half-written package visible. Bad input is refused before ``out/`` is touched.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..domain.settings import Settings
from ..domain.plan import Clip, PackagePlan, Watermark
from ..engines import get_engine
from ..domain.errors import InputError, JobError
from ..domain.jobs import Job, JobState, JobStore, new_job_id, pid_alive, user_data
from ..domain.keys import DataKey, KeySchedule
from ..keys.store import KeyStore
from ..domain.ladder import choose_ladder, parse_ladder_option
from .probe import probe
from ..domain.manifest import MANIFEST, write_manifest
from ..storage import LocalStorage

SINGLE_VARIANT_RULE = "AHS-9.9"
_CONTENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass
class PackageOptions:
    ladder: str = "auto"
    segment_duration: int | None = None
    key_url: str | None = None
    encrypt: bool = True
    rotate_every: int | None = None
    clear_lead: int = 0
    watermarks: list[Watermark] = field(default_factory=list)
    clip: Clip | None = None
    content_id: str | None = None
    notify: list[str] = field(default_factory=list)
    engine: str | None = None


@dataclass
class PackageResult:
    content_id: str
    dir: str
    manifest: dict[str, Any]
    jobs: list[Job]
    master: Any = None      # hls.master.MasterInfo when stitched
    report: Any = None      # hls.validate.Report when validated

    @property
    def ok(self) -> bool:
        return all(j.state == JobState.SUCCESS for j in self.jobs)

    @property
    def failed(self) -> list[Job]:
        return [j for j in self.jobs if j.state != JobState.SUCCESS]


def default_content_id(source: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "-", Path(source).stem).strip("-").lower()[:40] or "video"
    return f"{stem}-{secrets.token_hex(3)}"


def check_options(options: PackageOptions, settings: Settings) -> tuple[int, str]:
    seg = options.segment_duration or settings.segment_duration
    if not isinstance(seg, int) or not 1 <= seg <= 60:
        raise InputError(f"--segment-duration must be a whole number of seconds from 1 to 60, got {seg}.")
    key_url = options.key_url or settings.key_url
    if options.encrypt and not re.match(r"^https?://[^/\s]+", key_url or ""):
        raise InputError(f"--key-url must be an http(s) URL such as http://127.0.0.1:8000/keys, got {key_url!r}.")
    if options.rotate_every is not None and options.rotate_every < 1:
        raise InputError("--rotate-key-every must be at least 1 segment.")
    if options.clear_lead < 0:
        raise InputError("--clear-lead must be 0 or more segments.")
    if options.content_id and not _CONTENT_ID.match(options.content_id):
        raise InputError(f"content id {options.content_id!r} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.")
    for wm in options.watermarks:
        if wm.kind == "image" and not Path(wm.image).is_file():
            raise InputError(f"watermark image {wm.image} does not exist: check the path.")
    return seg, key_url


def plan_package(source: str, out: str, settings: Settings, options: PackageOptions | None = None) -> PackagePlan:
    """Decide everything before anything runs; creates the jobs (Submitted) and the first data key."""
    options = options or PackageOptions()
    seg, key_url = check_options(options, settings)
    engine = options.engine or settings.engine
    remote = str(out).startswith("oss://")
    if engine == "mts" and not remote:
        raise InputError("the mts engine writes to OSS: give --out oss://bucket/prefix/.")
    if engine != "mts" and remote:
        raise InputError(f"the {engine} engine writes to a folder: give --out DIR, or add --engine mts for an oss:// output.")
    definitions = parse_ladder_option(options.ladder)
    media = _probe_source(source, settings)
    clip = options.clip
    if clip:
        if clip.seek < 0 or clip.seek >= media.duration:
            raise InputError(f"--clip starts at {clip.seek:g} s but {source} lasts {media.duration:.2f} s: choose a start inside the video.")
        if clip.duration is not None and (clip.duration <= 0 or clip.seek + clip.duration > media.duration + 0.05):
            raise InputError(f"--clip {clip.seek:g}+{clip.duration:g} s ends after the end of {source} ({media.duration:.2f} s): shorten the clip.")
    rungs = choose_ladder(media.video.display_width, media.video.display_height, definitions)
    content_id = options.content_id or default_content_id(source)
    if remote:
        # OSS has no rename: MPS writes in place and the master, uploaded last, makes it visible.
        final = staging = f"{str(out).rstrip('/')}/{content_id}"
    else:
        out_dir = Path(out)
        _sweep_stale_staging(out_dir)
        final, staging = str(out_dir / content_id), str(out_dir / f".{content_id}.partial-{os.getpid()}")
    settings.ensure_home()
    store = JobStore.from_settings(settings)
    jobs: dict[str, Job] = {}
    for rung in rungs:
        job = Job(job_id=new_job_id(), content_id=content_id, definition=rung.name, engine=engine,
                  source=source if "://" in source else str(Path(source).resolve()),
                  user_data=user_data(contentId=content_id, definition=rung.name),
                  notify=json.dumps(options.notify) if options.notify else "")
        jobs[rung.name] = store.add(job)
    schedule = KeySchedule(rotate_every=options.rotate_every, clear_lead=options.clear_lead,
                           encrypt=options.encrypt)
    plan = PackagePlan(
        content_id=content_id, source=str(source), media=media, rungs=rungs, jobs=jobs,
        segment_duration=seg, key_url=key_url, schedule=schedule, keys=[], staging=staging,
        out=final, watermarks=list(options.watermarks), clip=clip,
        user_data={"contentId": content_id},
    )
    if options.encrypt:
        keystore = KeyStore.from_settings(settings)
        if settings.mts_kms_key_id:
            from ..keys.kms import create_data_key

            plan.make_key = lambda: create_data_key(keystore, content_id, settings)
        else:
            plan.make_key = lambda: keystore.create(content_id)
        plan.key(0)
    return plan


def _probe_source(source: str, settings: Settings):
    """Probe a local file, or an oss:// object through a short-lived signed URL."""
    if not source.startswith("oss://"):
        return probe(source)
    from ..storage import open_storage

    storage, key = open_storage(source, settings)
    if not storage.exists(key):
        raise InputError(f"{source} does not exist: check the bucket and object key.")
    return dataclasses.replace(probe(storage.url(key), name=source), size=storage.size(key))


def _sweep_stale_staging(out_dir: Path) -> None:
    """Remove staging folders left by runs that were killed (their process no longer exists)."""
    if not out_dir.is_dir():
        return
    for stale in out_dir.glob(".*.partial-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


def run_package(source: str, out: str, settings: Settings, options: PackageOptions | None = None,
                progress: Callable[[str, float], None] | None = None) -> PackageResult:
    """Package one source and publish it; blocks until every job has ended."""
    from ..notify.delivery import Notifier

    options = options or PackageOptions()
    engine = get_engine(options.engine or settings.engine, settings)
    notifier = Notifier.from_targets(options.notify, settings)  # bad targets fail before any job exists
    plan = plan_package(source, out, settings, options)
    store = JobStore.from_settings(settings)
    try:
        try:
            jobs = engine.run(plan, store, progress or (lambda name, pct: None))
        except BaseException:
            if engine.name == "local":  # remote jobs keep running; `hlskit status --wait` follows them
                for job in plan.jobs.values():
                    current = store.get(job.job_id)
                    if current and not current.state.finished:
                        store.update(job.job_id, state=JobState.FAIL, code="Interrupted",
                                     message="packaging stopped before this job ended")
                shutil.rmtree(plan.staging, ignore_errors=True)
            raise
        for job in jobs:
            notifier.job_ended(job)
        try:
            if engine.name == "mts":
                result = finish_remote_package(plan, jobs, engine)
            else:
                result = finish_package(plan, jobs, settings)
        except JobError as exc:
            notifier.package_ended(plan.content_id, jobs, code=exc.code, message=exc.message)
            raise
        notifier.package_ended(result)
        return result
    finally:
        notifier.close()


def submit_package(source: str, out: str, settings: Settings, options: PackageOptions | None = None) -> list[Job]:
    """Plan and submit without waiting (mts engine); `hlskit status --wait` follows the jobs."""
    options = options or PackageOptions()
    engine = get_engine(options.engine or settings.engine, settings)
    if not hasattr(engine, "submit"):
        raise InputError(f"the {engine.name} engine runs jobs in this process: drop --no-wait, or use --engine mts.")
    plan = plan_package(source, out, settings, options)
    jobs = engine.submit(plan, JobStore.from_settings(settings))
    _write_remote_manifest(plan, jobs, settings)
    return jobs


def finish_remote_package(plan: PackagePlan, jobs: list[Job], engine) -> PackageResult:
    """OSS output: write the manifest, then stitch and upload the master when every definition succeeded."""
    manifest = _write_remote_manifest(plan, jobs, engine.settings)
    store = JobStore.from_settings(engine.settings)
    urls = engine.finish_packages(store, jobs)
    manifest["master"] = {"url": urls[0]} if urls else None
    return PackageResult(plan.content_id, plan.out, manifest, jobs)


def _write_remote_manifest(plan: PackagePlan, jobs: list[Job], settings: Settings) -> dict[str, Any]:
    from ..storage import open_storage

    manifest = build_manifest(plan, jobs)
    storage, prefix = open_storage(plan.out, settings)
    write_manifest(storage, prefix, manifest)
    return manifest


def key_resolver_for(keys: list[DataKey], key_url: str) -> Callable[[str], bytes]:
    """Resolve key URIs of this package from the keys in memory (stitching reads the first segment)."""
    by_uri = {k.uri(key_url): k.key for k in keys}

    def resolve(uri: str) -> bytes:
        try:
            return by_uri[uri]
        except KeyError:
            raise JobError(f"key URI {uri} is not one of this package's keys: repackage the source.")

    return resolve


def finish_package(plan: PackagePlan, jobs: list[Job], settings: Settings) -> PackageResult:
    """Write the manifest, stitch, validate and publish the finished definitions."""
    staging = Path(plan.staging)
    done = [j for j in jobs if j.state == JobState.SUCCESS]
    if not done:
        shutil.rmtree(staging, ignore_errors=True)
        reasons = "; ".join(f"{j.definition}: {j.message or j.state.value}" for j in jobs)
        raise JobError(f"every definition failed, nothing was published ({reasons}).", code="TranscodeFail")
    from ..hls.master import stitch_package
    from ..hls.validate import validate

    try:
        write_manifest(LocalStorage(), str(staging), build_manifest(plan, jobs))
        resolver = key_resolver_for(plan.keys, plan.key_url)
        master = stitch_package(staging, key_resolver=resolver)
        report = validate(str(staging / "master.m3u8"), key_resolver=resolver)
        # A one-rung ladder (a small source) is a choice, not a fault: Apple's "several bit rates"
        # (AHS-9.9) is reported, not blocking. Any other MUST finding means broken output.
        blocking = [f for f in report.must if f.rule != SINGLE_VARIANT_RULE]
        if blocking:
            rules = ", ".join(dict.fromkeys(f.rule for f in blocking[1:]))
            raise JobError(f"the package fails validation, nothing was published ({blocking[0].rule}: "
                           f"{blocking[0].message}{'; also ' + rules if rules else ''}); "
                           "run `hlskit validate` on a copy and report it as a bug.", code="ValidationFail")
        manifest = json.loads((staging / MANIFEST).read_text())
        manifest["validation"] = {"must_fix": [f"{f.rule}: {f.message}" for f in report.must],
                                  "should_fix": [f"{f.rule}: {f.message}" for f in report.should]}
        write_manifest(LocalStorage(), str(staging), manifest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    publish(staging, Path(plan.out))
    if plan.keys:
        KeyStore.from_settings(settings).revoke(plan.content_id, keep={k.key_id for k in plan.keys})
    return PackageResult(plan.content_id, plan.out, manifest, jobs, master, report)


def build_manifest(plan: PackagePlan, jobs: list[Job]) -> dict[str, Any]:
    by_name = {j.definition: j for j in jobs}
    definitions = []
    for rung in plan.rungs:
        job = by_name[rung.name]
        rendition = plan.renditions.get(rung.name)
        d = rung.definition
        definitions.append({
            "name": rung.name, "width": rung.width, "height": rung.height,
            "video_kbps": d.video_kbps, "audio_kbps": d.audio_kbps, "template_id": d.template_id,
            "job_id": job.job_id, "state": job.state.value, "code": job.code, "message": job.message,
            "playlist": f"{rung.name}/index.m3u8" if job.state == JobState.SUCCESS else None,
            "segments": rendition.segments if rendition else 0,
            "duration": round(rendition.duration, 6) if rendition else 0.0,
            "bytes": rendition.bytes if rendition else 0,
        })
    first_segment = {}
    count = max((r.segments for r in plan.renditions.values()), default=0)
    for i in range(count):
        index = plan.schedule.key_index(i)
        if index is not None and index not in first_segment:
            first_segment[index] = i
    engine = next(iter(plan.jobs.values())).engine
    return {
        "hlskit": 1,
        "content_id": plan.content_id,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "engine": engine,
        "source": plan.media.to_dict() if plan.media else {"uri": plan.source},
        "segment_duration": plan.segment_duration,
        "key_url": plan.key_url,
        "encryption": {
            "method": "AES-128" if plan.schedule.encrypt else "NONE",
            "rotate_every": plan.schedule.rotate_every,
            "clear_lead": plan.schedule.clear_lead,
        },
        # MPS takes no IV (players then use the media sequence number), so only local keys list one.
        "keys": [
            {"key_id": k.key_id, "uri": k.uri(plan.key_url), "first_segment": first_segment.get(i),
             **({"iv": k.iv_hex} if engine == "local" else {})}
            for i, k in enumerate(plan.keys)
        ],
        "clip": {"seek": plan.clip.seek, "duration": plan.clip.duration} if plan.clip else None,
        "watermarks": [wm.__dict__ for wm in plan.watermarks],
        "definitions": definitions,
        "master": None,
    }


def refresh_manifest(manifest: dict[str, Any], jobs: list[Job]) -> dict[str, Any]:
    """Bring a manifest written at submit time up to date with the jobs' final states."""
    by_id = {j.job_id: j for j in jobs}
    for d in manifest["definitions"]:
        job = by_id.get(d["job_id"])
        if job is not None:
            d.update(state=job.state.value, code=job.code, message=job.message,
                     playlist=f"{d['name']}/index.m3u8" if job.state == JobState.SUCCESS else None)
    return manifest


def publish(staging: Path, target: Path) -> None:
    """Rename staging into place; an existing package is swapped out, then removed."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
