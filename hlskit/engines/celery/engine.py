"""The ``celery`` engine: a title cut into chunks, encoded by many workers behind a Celery queue.

Submitting a run cuts the title into chunks of whole segments (:mod:`.chunks`), writes what the
run needs into its work folder on shared storage (:mod:`.work`), records one job-store row per
chunk and sends one task per chunk, per audio rendition and for the sprite (workers:
:mod:`.tasks`). Following it waits for the chunks (:mod:`.follow`), then stitches each
definition's chunks together, encrypts them and cuts the subtitles on the following host
(:mod:`.assemble`): workers never see a data key or the master key. Jobs stay one per definition,
as MPS's: Submitted, Transcoding while their chunks run, TranscodeSuccess or TranscodeFail once
assembled. Finishing (stitch, validate, publish) is the pipeline's, as for every engine.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import shutil
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from ... import __version__
from ...domain.chunks import AUDIO, THUMBNAILS, VIDEO, Chunk, ChunkState, chunk_name, sprite_row_name
from ...domain.configs import CeleryConfig
from ...domain.errors import HlskitError, InputError, JobError
from ...domain.manifest import build_manifest
from ...domain.media import MediaInfo
from ...domain.names import MANIFEST, SOURCE_COPY, run_staging
from ...domain.plan import PackagePlan, ProgressCallback
from ...domain.runs import Job, JobState
from ...storage import LocalStorage, is_remote
from ...stores.db import mask_url
from ...stores.jobs import JobStore
from ...stores.keys import KeyStore
from ..base import ABSOLUTE, FOLDER, ROOT_RELATIVE, Capabilities, Engine, EngineReport
from ..colour import can_tone_map, hdr_kind, hdr_note
from ..encode import build_encode, ffmpeg_exe
from ..encoders import check_rate_control
from ..seekable import has_index, reading, seekable
from ..thumbnails import layout_for
from .app import TASK, broker_identity, broker_url, make_app
from .assemble import assemble_run
from .chunks import Span, audio_args, chunk_args, chunk_seconds, cut, sprite_rows, title_length
from .follow import Follower
from .signing import sign, task_secret
from .work import RunFile, Task, claim_assembly, folder_of, read_run_file, work_dir, write_run_file


class CeleryEngine(Engine):
    name = "celery"
    capabilities = Capabilities(
        formats=("ts", "fmp4"),
        codecs=("h264", "hevc", "av1"),
        download_codecs=("h264", "hevc", "av1"),
        outputs=(FOLDER,),  # a folder every worker sees (shared storage)
        key_urls=(ABSOLUTE, ROOT_RELATIVE),
        key_rotation=True,
        explicit_iv=True,
        thumbnails=True,
        renditions=True,
        detached=True,
        cancel="run",  # every chunk encodes every definition: the run stops as a whole
        muxed_audio=False,  # audio is one task per rendition, never cut at chunk edges
    )

    def __init__(self, config: CeleryConfig):
        check_rate_control(config.ffmpeg.x264_preset, config.ffmpeg.rate_control, config.ffmpeg.crf)
        self.config = config
        self.ffmpeg = ffmpeg_exe(config.ffmpeg)
        self._app: Any = None

    @property
    def app(self) -> Any:
        if self._app is None:
            self._app = make_app(self.config)
        return self._app

    @functools.cached_property
    def secret(self) -> bytes:
        """The task secret, read once (a run sends hundreds of tasks), when the first is sent."""
        return task_secret(self.config)

    # --- planning hooks ---------------------------------------------------------------------

    def check_source(self, media: MediaInfo, source: str) -> None:
        if is_remote(source):
            raise InputError(
                f"the celery engine reads sources from shared storage, not {source}: copy it into a folder "
                "every worker mounts at the same path and give that path."
            )
        kind = hdr_kind(media)
        if kind and not can_tone_map(self.ffmpeg):
            raise InputError(
                f"{source} is HDR ({kind}) and this FFmpeg has no zscale/tonemap filters to make SDR from it: "
                "set the ffmpeg setting to a build with zimg (e.g. the bundled one), or convert the source to SDR first."
            )

    def check_plan(self, plan: PackagePlan) -> None:
        broker_url(self.config)
        chunk_seconds(self.config.chunk_seconds, plan.segment_duration)

    def command(self, plan: PackagePlan) -> list[str]:
        """The first chunk's FFmpeg command (every chunk's differs only in -ss, -t and the offset)."""
        shared = _shared(plan)
        assert plan.media is not None
        if not has_index(plan.media):  # what submit will make: chunks read a MOV copy (engines.seekable)
            shared = reading(shared, (work_dir(plan.staging) / SOURCE_COPY).resolve())
        span = cut(shared, chunk_seconds(self.config.chunk_seconds, plan.segment_duration))[0]
        c = self.config.ffmpeg
        textdir = work_dir(plan.staging) / "text"
        return chunk_args(shared, span, self.ffmpeg, c.x264_preset, textdir, c.rate_control, c.crf)[0]

    # --- running ------------------------------------------------------------------------------

    def run(self, plan: PackagePlan, store: JobStore, progress: ProgressCallback) -> EngineReport:
        """Submit, then follow every chunk and assemble the definitions."""
        try:
            self.submit(plan, store)
        except HlskitError as exc:  # nothing (or not everything) reached the broker: the run fails
            for job in plan.all_jobs():
                store.update(job.job_id, state=JobState.FAIL, code=exc.code or "SubmitFailed", message=exc.message)
            return EngineReport([store.get(j.job_id) or j for j in plan.all_jobs()])
        report = self.follow(list(plan.all_jobs()), store, progress, plan.out)
        used = {k for made in [*report.outputs.values(), *report.audio.values()] for k in made.key_ids}
        if report.outputs:  # keys made for segments that did not come to be are left out (and revoked)
            plan.keys[:] = [k for k in plan.keys if k.key_id in used]
        return report

    def submit(self, plan: PackagePlan, store: JobStore) -> list[Job]:
        """Write the run's work folder, record its chunks and send one task per chunk."""
        seconds = chunk_seconds(self.config.chunk_seconds, plan.segment_duration)
        work = work_dir(plan.staging)
        for sub in ("chunks", "text", "subtitles"):
            (work / sub).mkdir(parents=True, exist_ok=True)
        # Every chunk starts inside the title: its source must be one -ss cuts on exact frames.
        shared = seekable(_shared(plan), (work / SOURCE_COPY).resolve(), ffmpeg_exe(self.config.ffmpeg))
        assert shared.media is not None
        spans = cut(shared, seconds, video_start(shared.source, shared.media.video.index))
        tasks = self._tasks(shared, spans)
        if plan.schedule.encrypt:  # every key now, where the key maker is: the follower only reads them
            for index in range(plan.schedule.keys_needed(_most_segments(plan, spans))):
                plan.key(index)
        run = RunFile(
            version=__version__,
            run_id=plan.run_id,
            content_id=plan.content_id,
            staging=plan.staging,
            format=plan.format,
            segment_duration=plan.segment_duration,
            seconds=title_length(plan),
            definitions=[r.name for r in plan.rungs],
            jobs={r.name: plan.jobs[r.name].job_id for r in plan.rungs},
            audio=[{"slug": a.slug, "folder": a.folder, "job_id": plan.audio_jobs[a.slug].job_id} for a in plan.audio],
            subtitles=[{"slug": s.slug, "folder": s.folder} for s in plan.subtitles],
            downloads={name: job.job_id for name, job in plan.mp4_jobs.items()},
            default_audio=next((a.folder for a in plan.audio if a.default), None),
            key_url=plan.key_url,
            schedule=dataclasses.asdict(plan.schedule),
            keys=[{"key_id": k.key_id, "iv": k.iv.hex()} for k in plan.keys],
            chunk_seconds=seconds,
            tasks=tasks,
            thumbnails=dataclasses.asdict(self._layout(plan)) if plan.media else None,
            notes=[hdr_note(plan.media, plan.rungs)] if plan.media and hdr_kind(plan.media) else [],
        )
        for s in plan.subtitles:
            (work / "subtitles" / f"{s.slug}.vtt").write_text(s.webvtt, encoding="utf-8")
        # The manifest as at submit, so `hlskit status --wait` can finish a run whose `package` stopped waiting.
        manifest = build_manifest(plan, plan.all_jobs(), engine=self.name, explicit_iv=True)
        LocalStorage().write_text(str(Path(plan.staging) / MANIFEST), manifest.dumps())
        spans_by_name = {chunk_name(s.index): s for s in spans}
        length = title_length(plan)
        store.chunks.add(
            [
                Chunk(
                    plan.run_id,
                    t.name,
                    t.kind,
                    spans_by_name[t.name].start if t.kind == VIDEO else 0.0,
                    spans_by_name[t.name].length if t.kind == VIDEO else length,
                    task_id=task_id(plan.run_id, t.name),
                )
                for t in tasks
            ]
        )
        try:
            run.broker_id = broker_identity(self.config)
        except OSError as exc:
            raise JobError(self.unreachable(exc), code="BrokerUnavailable") from None
        write_run_file(run)
        for t in tasks:
            self.send(run, t)
        return [store.get(j.job_id) or j for j in plan.all_jobs()]

    def _tasks(self, shared: PackagePlan, spans: list[Span]) -> list[Task]:
        """The sprite's rows first and the audio renditions next (an audio rendition is the whole
        title on one worker, so it starts early), then the video chunks in order."""
        c = self.config.ffmpeg
        textdir = work_dir(shared.staging) / "text"
        length = title_length(shared)
        tasks = []
        if shared.media is not None:
            layout = self._layout(shared)
            for row, command in enumerate(sprite_rows(shared, layout, self.ffmpeg)):
                seconds = min(layout.columns * layout.interval, length - row * layout.columns * layout.interval)
                tasks.append(Task(sprite_row_name(row), THUMBNAILS, [command[1:]], [], [], seconds))
        for a in shared.audio:
            command = audio_args(shared, a, spans[0], self.ffmpeg, c.x264_preset, textdir)
            tasks.append(Task(a.job_name, AUDIO, [command[1:]], [a.folder], [shared.audio_jobs[a.slug].job_id], length))
        if any(w.kind == "text" for w in shared.watermarks):  # drawtext reads its text from files
            scratch = textdir / "unused"
            build_encode(shared, shared.rungs, self.ffmpeg, c.x264_preset, scratch, textdir, create=True, audio=[])
            shutil.rmtree(scratch, ignore_errors=True)
        jobs = [shared.jobs[r.name].job_id for r in shared.rungs]
        for span in spans:
            commands = chunk_args(shared, span, self.ffmpeg, c.x264_preset, textdir, c.rate_control, c.crf)
            outputs = [r.name for r in shared.rungs]
            tasks.append(Task(chunk_name(span.index), VIDEO, [a[1:] for a in commands], outputs, jobs, span.length))
        return tasks

    @staticmethod
    def _layout(plan: PackagePlan) -> Any:
        assert plan.media is not None
        return layout_for(title_length(plan), plan.media.video.display_width, plan.media.video.display_height)

    def send(self, run: RunFile, task: Task) -> None:
        """Send one task to the broker (again, after a broker restart or a lost worker)."""
        kwargs = {
            "version": run.version,
            "run_id": run.run_id,
            "staging": run.staging,
            "name": task.name,
            "kind": task.kind,
            "commands": task.commands,
            "outputs": task.outputs,
            "jobs": task.jobs,
            "seconds": task.seconds,
        }
        kwargs["signature"] = sign(self.secret, kwargs)
        try:
            self.app.send_task(TASK, kwargs=kwargs, task_id=task_id(run.run_id, task.name), queue=self.config.queue)
        except Exception as exc:  # kombu's OperationalError after its own retries
            raise JobError(self.unreachable(exc), code="BrokerUnavailable") from None

    def unreachable(self, exc: BaseException) -> str:
        return (
            f"the broker {mask_url(broker_url(self.config))} does not answer ({str(exc).strip() or type(exc).__name__}): "
            "start Redis there, or fix broker_url"
        )

    def follow(self, jobs: list[Job], store: JobStore, progress: ProgressCallback, package: str) -> EngineReport:
        """Wait for the run's chunks, then assemble, encrypt and report its definitions."""
        first = jobs[0]
        staging = run_staging(package, first.run_id)
        run = read_run_file(staging)
        if run is None:
            why = f"the run's work folder {work_dir(staging)} is gone, so its chunks cannot be assembled; package the source again"
            for job in jobs:
                store.update(job.job_id, state=JobState.FAIL, code="ChunksMissing", message=why)
            return EngineReport([store.get(j.job_id) or j for j in jobs])
        follower = Follower(self, run, store, progress)
        follower.wait()
        if follower.gave_up:  # the broker stayed away: the run ends here, in that one sentence
            for job in store.run_jobs(run.run_id):
                store.update(job.job_id, state=JobState.FAIL, code="BrokerUnavailable", message=follower.gave_up)
            return EngineReport(store.run_jobs(run.run_id))
        while not claim_assembly(staging):  # another follower assembles it: wait until it is done
            current = store.get_run(run.run_id)
            if current is None or current.state.finished or read_run_file(staging) is None:
                return EngineReport(store.run_jobs(run.run_id))
            time.sleep(1)
        assert self.config.store is not None
        keys = KeyStore.open(self.config.store)
        return assemble_run(run, store, keys, self.ffmpeg, package, progress)

    def cancel(self, job: Job) -> None:
        """Revoke the run's tasks: queued ones are dropped; running ones stop within a second or
        two, when they see the job cancelled in the store (which the pipeline marks next)."""
        assert self.config.store is not None
        store = JobStore.open(self.config.store)
        chunks = store.chunks.of_run(job.run_id)
        waiting = [c for c in chunks if c.state in (ChunkState.QUEUED, ChunkState.RETRYING)]
        ids = [c.task_id for c in chunks if not c.state.finished and c.task_id]
        if ids:
            try:
                self.app.control.revoke(ids)
            except Exception:  # the broker is away: the workers still see the cancel in the store
                pass
        for c in waiting:  # a revoked task never runs, so it would never say so itself
            store.chunks.update(c.run_id, c.name, state=ChunkState.CANCELLED, message="revoked: the run was cancelled")


def task_id(run_id: str, name: str) -> str:
    return f"hlskit-{run_id}-{folder_of(name)}"


def video_start(source: str, stream: int) -> Fraction:
    """When the source's first video frame is, after the container's start (seconds; 0 when unknown)."""
    try:
        with av.open(source, metadata_errors="ignore") as container:
            video = container.streams[stream]
            if video.start_time is None or video.time_base is None:
                return Fraction(0)
            first = Fraction(video.start_time) * video.time_base
            origin = Fraction(container.start_time or 0, 1_000_000)
            return max(Fraction(0), first - origin)
    except (av.FFmpegError, IndexError):
        return Fraction(0)


def _shared(plan: PackagePlan) -> PackagePlan:
    """The plan with absolute paths: workers run its commands from another folder, or host."""
    audio = [dataclasses.replace(a, input=str(Path(a.input).resolve())) for a in plan.audio]
    marks = [dataclasses.replace(w, image=str(Path(w.image).resolve())) if w.image else w for w in plan.watermarks]
    return dataclasses.replace(plan, source=str(Path(plan.source).resolve()), audio=audio, watermarks=marks)


def _most_segments(plan: PackagePlan, spans: list[Span]) -> int:
    """At least as many segments as any definition will have (each chunk but the last is whole
    segments; the last may end with a short one): data keys are made for these, and the ones no
    segment uses are left out of the package at the end (and revoked)."""
    whole = sum(round(s.length / plan.segment_duration) for s in spans[:-1])
    return whole + math.ceil(spans[-1].length / plan.segment_duration) + 1
