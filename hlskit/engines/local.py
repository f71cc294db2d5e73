"""The local engine: FFmpeg on this machine, every definition in one process.

FFmpeg writes clear segments into staging (:mod:`.encode` builds its command); each segment is
encrypted as soon as FFmpeg has finished it, and each definition listed in its media playlist when
FFmpeg ends (:mod:`.segments`), its MP4 download remuxed from the clear segments first
(:mod:`.download`), and the seek-bar thumbnails made (:mod:`.thumbnails`).

If the shared process fails, each remaining definition is retried in a process of its own, so
one bad definition fails alone and says why while the others finish.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from ..domain.configs import FFmpegConfig
from ..domain.errors import HlskitError, InputError, os_error_sentence
from ..domain.ladder import Rung
from ..domain.manifest import download_uri
from ..domain.media import MediaInfo
from ..domain.names import MEDIA_PLAYLIST, SOURCE_COPY
from ..domain.outputs import DefinitionOutput, DownloadOutput
from ..domain.plan import PackagePlan, ProgressCallback
from ..domain.runs import Job, JobState, this_owner
from ..domain.tracks import AudioRendition
from ..hls.model import MediaPlaylist
from ..hls.playlist import parse
from ..stores.jobs import JobStore
from .base import ABSOLUTE, FOLDER, ROOT_RELATIVE, Capabilities, Engine, EngineReport
from .colour import can_tone_map, hdr_kind, hdr_note
from .download import remux_mp4
from .encode import FFMPEG_PLAYLIST, Encode, SpriteOutput, build_encode, ffmpeg_exe, output_seconds
from .encoders import check_rate_control
from .outcome import (
    check_output,
    decode_errors,
    disk_full,
    disk_full_reason,
    ffmpeg_reason,
    progress_percent,
    write_refused,
)
from .process import popen_tied
from .seekable import has_index, reading, seekable
from .segments import SegmentProtector, clear_media_start, finish_segments, write_subtitles
from .thumbnails import THUMB_STREAM, add_thumbnails, finish_track, sprite_layout


class LocalEngine(Engine):
    name = "local"
    capabilities = Capabilities(
        formats=("ts", "fmp4"),
        codecs=("h264", "hevc", "av1"),
        download_codecs=("h264", "hevc", "av1"),
        outputs=(FOLDER,),
        key_urls=(ABSOLUTE, ROOT_RELATIVE),
        key_rotation=True,
        explicit_iv=True,
        thumbnails=True,
        renditions=True,
        detached=False,
        cancel="run",  # one FFmpeg process encodes every definition: the run stops as a whole
    )

    def __init__(self, config: FFmpegConfig):
        check_rate_control(config.x264_preset, config.rate_control, config.crf)
        self.config = config
        self.ffmpeg = ffmpeg_exe(config)

    # --- planning hooks ---------------------------------------------------------------------

    def check_source(self, media: MediaInfo, source: str) -> None:
        kind = hdr_kind(media)
        if kind and not can_tone_map(self.ffmpeg):
            raise InputError(
                f"{source} is HDR ({kind}) and this FFmpeg has no zscale/tonemap filters to make SDR from it: "
                "set the ffmpeg setting to a build with zimg (e.g. the bundled one), or convert the source to SDR first."
            )

    def command(self, plan: PackagePlan) -> list[str]:
        # drawtext reads watermark text from files the real run writes in a temporary folder.
        textdir = Path(tempfile.gettempdir()) / "hlskit-text-<run>"
        assert plan.media is not None
        if plan.clip and not has_index(plan.media):  # as run() will: a clip reads a MOV copy (engines.seekable)
            plan = reading(plan, Path(plan.staging) / SOURCE_COPY)
        return self._build(plan, plan.rungs, textdir, create=False).args

    def _build(
        self,
        plan: PackagePlan,
        rungs: list[Rung],
        textdir: Path,
        create: bool = True,
        audio: list | None = None,
        sprite: SpriteOutput | None = None,
    ) -> Encode:
        c = self.config
        return build_encode(
            plan,
            rungs,
            self.ffmpeg,
            c.x264_preset,
            Path(plan.staging),
            textdir,
            rate_control=c.rate_control,
            crf=c.crf,
            create=create,
            audio=audio,
            sprite=sprite,
            stop_at_clip=True,
        )

    # --- running ------------------------------------------------------------------------------

    def run(self, plan: PackagePlan, store: JobStore, progress: ProgressCallback) -> EngineReport:
        # the sprite's tiles stream out of the encode into a private temporary folder, not the out
        # folder's file system: a file open there for the whole encode kept it from being remounted
        with tempfile.TemporaryDirectory(prefix="hlskit-thumbs-") as scratch:
            return self._run(plan, store, progress, Path(scratch) / THUMB_STREAM)

    def _run(self, plan: PackagePlan, store: JobStore, progress: ProgressCallback, thumbs: Path) -> EngineReport:
        staging = Path(plan.staging)
        # owner only until published (pipeline.publish): it holds clear segments before they are encrypted
        staging.mkdir(parents=True, exist_ok=True, mode=0o700)
        owner = this_owner()
        rungs, audio = list(plan.rungs), list(plan.audio)
        units = [*(plan.jobs[r.name] for r in rungs), *(plan.audio_jobs[a.slug] for a in audio)]
        for job in units:
            store.update(job.job_id, state=JobState.TRANSCODING, owner=owner, percent=0)
        shared: list[str] = []
        logs = {job.definition: shared for job in units}  # the FFmpeg log each output came from
        expected = output_seconds(plan)
        layout = sprite_layout(plan, expected)
        # The seek-bar sprite comes out of the same decode as the definitions (a second decode
        # cost a tenth of the package's time); a copy-only plan makes it apart, from keyframes.
        sprite = SpriteOutput(thumbs, layout) if any(not r.transmux for r in rungs) else None
        # Segments are encrypted while FFmpeg writes the next ones; the downloads remux clear ones.
        protectors = {
            folder: SegmentProtector(
                staging / folder, plan.format, plan.schedule, plan.key, keep_clear=bool(plan.mp4_jobs)
            )
            for folder in [*(r.name for r in rungs), *(a.folder for a in audio)]
        }
        copy = staging / SOURCE_COPY  # in staging: removed below, or with staging by a crashed run's teardown
        try:
            encoding = seekable(plan, copy, self.ffmpeg) if plan.clip else plan  # a clip starts on its exact frame
            errors = self._encode_all(
                encoding, rungs, encoding.audio, store, progress, shared, logs, sprite, protectors
            )
        finally:
            copy.unlink(missing_ok=True)
        errors = errors or {}
        report = EngineReport(jobs=[], warnings=self._notes(plan, max(logs.values(), key=len)))
        start = self._media_start(plan, rungs)  # before encryption: the clear first segment's timestamp
        for rung in rungs:
            job = plan.jobs[rung.name]
            output = self._finish_output(plan, job, protectors[rung.name], store, expected, errors, logs, report, rung)
            if output is not None:
                report.outputs[rung.name] = output
                progress(rung.name, 100.0)
        for rendition in audio:  # after the downloads, which remux the clear default audio
            job = plan.audio_jobs[rendition.slug]
            output = self._finish_output(plan, job, protectors[rendition.folder], store, expected, errors, logs, report)
            if output is not None:
                report.audio[rendition.slug] = output
                progress(job.definition, 100.0)
        for rung in rungs:  # no download without its definition: it ends as the definition did
            download = plan.mp4_jobs.get(rung.name)
            if download is not None and not _current(store, download).state.finished:
                if _cancelled(store, plan.jobs[rung.name]):
                    store.update(download.job_id, state=JobState.CANCELLED)
                else:
                    why = f"its definition {rung.name} failed, so there is nothing to remux"
                    store.update(download.job_id, state=JobState.FAIL, code="TranscodeFail", message=why)
        if report.outputs and plan.subtitles and start is not None:
            durations = _durations(next(iter(report.outputs.values())))
            for subs in plan.subtitles:
                report.subtitles[subs.slug] = write_subtitles(staging / subs.folder, subs.webvtt, durations, start)
        if report.outputs:  # seek-bar previews; a failure is a warning, never a failed package
            longest = max(o.duration for o in report.outputs.values())
            report.thumbnails = finish_track(plan, self.ffmpeg, thumbs, layout, longest) if sprite else None
            if report.thumbnails is None:  # not made in the encoding run (a copy, or a retried run)
                report.thumbnails, note = add_thumbnails(plan, self.ffmpeg, longest)
                report.warnings += [note] if note else []
        report.jobs = [_current(store, j) for j in plan.all_jobs()]
        return report

    @staticmethod
    def _media_start(plan: PackagePlan, rungs: list[Rung]) -> int | None:
        """MPEGTS for the subtitles' X-TIMESTAMP-MAP: the first video frame's timestamp (hls.vttsegments)."""
        if not plan.subtitles:
            return None
        for rung in rungs:
            try:
                return clear_media_start(Path(plan.staging) / rung.name / FFMPEG_PLAYLIST)
            except (OSError, ValueError):
                continue
        return None

    def _finish_output(
        self,
        plan: PackagePlan,
        job: Job,
        protector: SegmentProtector,
        store: JobStore,
        expected: float,
        errors: dict[str, str],
        logs: dict[str, list[str]],
        report: EngineReport,
        rung: Rung | None = None,
    ) -> DefinitionOutput | None:
        """Check FFmpeg's output of one definition (``rung``) or audio rendition, remux a definition's
        download, encrypt what ``protector`` has not; None when it failed or was cancelled."""
        folder = protector.folder
        if _cancelled(store, job):
            shutil.rmtree(folder, ignore_errors=True)
            return None
        outcome = check_output(folder / FFMPEG_PLAYLIST, expected, logs[job.definition], protector.taken())
        error = errors.get(job.definition)
        if error or not outcome.ok:
            shutil.rmtree(folder, ignore_errors=True)
            store.update(job.job_id, state=JobState.FAIL, code="TranscodeFail", message=error or outcome.reason)
            return None
        if rung is not None and rung.name in plan.mp4_jobs:  # from the clear segments, before they are encrypted
            made = self._download(plan, rung, store)
            if made is not None:
                report.downloads[rung.name] = made
        try:
            output = finish_segments(folder / FFMPEG_PLAYLIST, plan.schedule, plan.key, plan.key_url, protector.done)
        except Exception as exc:  # a disk error, say: this output fails, the others go on
            shutil.rmtree(folder, ignore_errors=True)
            if isinstance(exc, OSError):
                message = os_error_sentence(exc, f"encrypting {job.definition}")
            else:
                message = exc.message if isinstance(exc, HlskitError) else str(exc)
            store.update(job.job_id, state=JobState.FAIL, code="ProtectFail", message=message.rstrip("."))
            return None
        store.update(
            job.job_id,
            state=JobState.SUCCESS,
            percent=100,
            output=str(Path(plan.out) / folder.name / MEDIA_PLAYLIST),
            message="; ".join(report.warnings),
        )
        return output

    def _download(self, plan: PackagePlan, rung: Rung, store: JobStore) -> DownloadOutput | None:
        """The definition's MP4 download, a job of its own (MPS: one output per job)."""
        job = plan.mp4_jobs[rung.name]
        store.update(job.job_id, state=JobState.TRANSCODING, owner=this_owner(), percent=0)
        target = Path(plan.staging) / download_uri("", rung.name)
        default = next((a for a in plan.audio if a.default), None)  # renditions: the download gets the default audio
        audio = Path(plan.staging) / default.folder / FFMPEG_PLAYLIST if default else None
        failed = remux_mp4(self.ffmpeg, Path(plan.staging) / rung.name / FFMPEG_PLAYLIST, target, audio)
        if failed:
            store.update(job.job_id, state=JobState.FAIL, code="TranscodeFail", message=failed)
            return None
        store.update(
            job.job_id, state=JobState.SUCCESS, percent=100, output=str(Path(plan.out) / download_uri("", rung.name))
        )
        return DownloadOutput(target.stat().st_size)

    @staticmethod
    def _notes(plan: PackagePlan, log: list[str]) -> list[str]:
        """Warnings every definition carries: HDR tone-mapped, decode errors in the source."""
        media = plan.media
        notes = [hdr_note(media, plan.rungs)] if media and hdr_kind(media) else []
        codecs = {media.video.codec, media.audio.codec if media.audio else ""} if media else set()
        count = decode_errors(log, codecs)
        if count:
            notes.append(
                f"the source has damaged frames: FFmpeg reported {count} decode error(s) and concealed or "
                "dropped those frames, so check the source or package a clean copy"
            )
        return notes

    def _encode_all(
        self,
        plan: PackagePlan,
        rungs: list[Rung],
        audio: list[AudioRendition],
        store: JobStore,
        progress: ProgressCallback,
        shared: list[str],
        logs: dict[str, list[str]],
        sprite: SpriteOutput | None,
        protectors: dict[str, SegmentProtector],
    ) -> dict[str, str] | None:
        """Every output in one FFmpeg process; when that fails, each output alone, so that a
        failure stays with its own definition. The reasons of the outputs that failed."""
        with tempfile.TemporaryDirectory(prefix="hlskit-text-") as textdir:
            errors = self._encode(plan, rungs, audio, store, progress, Path(textdir), shared, protectors, sprite)
            if errors is not None and len(rungs) + len(audio) > 1:
                # The shared process failed: retry each output alone so a failure stays local.
                errors = {}
                alone: list[tuple[list[Rung], list[AudioRendition], Job]] = [
                    ([r], [], plan.jobs[r.name]) for r in rungs
                ] + [([], [a], plan.audio_jobs[a.slug]) for a in audio]
                for only_rungs, only_audio, job in alone:
                    if _cancelled(store, job):
                        continue
                    logs[job.definition] = []
                    tried = self._encode(
                        plan, only_rungs, only_audio, store, progress, Path(textdir), logs[job.definition], protectors
                    )
                    errors.update(tried or {})
        return errors

    def _encode(
        self,
        plan: PackagePlan,
        rungs: list[Rung],
        audio: list[AudioRendition],
        store: JobStore,
        progress: ProgressCallback,
        textdir: Path,
        stderr_lines: list[str],
        protectors: dict[str, SegmentProtector],
        sprite: SpriteOutput | None = None,
    ) -> dict[str, str] | None:
        """Run one FFmpeg process for ``rungs`` and ``audio`` renditions (and the ``sprite``),
        encrypting their segments as FFmpeg finishes them; None on success, else {job name: reason}.
        FFmpeg's log lines are added to ``stderr_lines``.
        """
        staging = Path(plan.staging)
        encode = self._build(plan, rungs, textdir, audio=audio, sprite=sprite)
        duration = output_seconds(plan)
        proc = popen_tied(encode.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
        assert proc.stdout is not None and proc.stderr is not None
        stderr = proc.stderr
        start = len(stderr_lines)
        reader = threading.Thread(target=lambda: stderr_lines.extend(stderr), daemon=True)
        reader.start()
        last_check, last_saved, pct = 0.0, 0.0, None
        jobs = [*(plan.jobs[r.name] for r in rungs), *(plan.audio_jobs[a.slug] for a in audio)]
        ids = [j.job_id for j in jobs]
        mine = [protectors[r.name] for r in rungs] + [protectors[a.folder] for a in audio]
        for protector in mine:
            protector.reset()  # a retry after a failed shared process writes these folders anew
        overlap = True
        try:
            for line in proc.stdout:  # FFmpeg's -progress key=value lines
                key, _, value = line.strip().partition("=")
                if key == "progress" and overlap:  # the end of a block, about every half second
                    overlap = _catch_up(mine)
                if (done := progress_percent(key, value, duration)) is not None:
                    pct = done
                elif key == "speed" and pct is not None:  # "1.84x": media seconds per wall-clock second
                    speed = float(value[:-1]) if re.fullmatch(r"\d+(\.\d+)?x", value) else None
                    for job in jobs:  # one process encodes them all: every output advances alike
                        progress(job.definition, pct, speed)
                now = time.monotonic()
                if pct is not None and now - last_saved > 2.0:  # `status` reads it; a store write costs an fsync
                    last_saved = now
                    store.set_percent(ids, int(pct))
                if now - last_check > 1.0:
                    last_check = now
                    if store.all_cancelled(ids):
                        proc.terminate()
            proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        reader.join(timeout=5)
        if proc.returncode == 0:
            return None
        if store.all_cancelled(ids):
            return {}
        if disk_full(stderr_lines[start:]):
            return {j.definition: disk_full_reason(staging / j.definition) for j in jobs}
        refused = write_refused(stderr_lines[start:], staging)
        if refused:
            return {j.definition: refused for j in jobs}
        reason = ffmpeg_reason(stderr_lines[start:], proc.returncode)
        return {j.definition: reason for j in jobs}

    def cancel(self, job: Job) -> None:
        """Nothing to ask: the running engine sees the job cancelled in the store within a second."""


def _catch_up(protectors: list[SegmentProtector]) -> bool:
    """Encrypt the segments FFmpeg has finished; False once that failed (a full disk, say): the
    finish then encrypts the rest, and reports the error if it persists."""
    try:
        for protector in protectors:
            protector.catch_up()
    except OSError:
        return False
    return True


def _current(store: JobStore, job: Job) -> Job:
    return store.get(job.job_id) or job


def _cancelled(store: JobStore, job: Job) -> bool:
    return _current(store, job).state == JobState.CANCELLED


def _durations(output: DefinitionOutput) -> list[float]:
    """The EXTINF durations of a finished definition's media playlist."""
    playlist = parse(Path(output.playlist).read_text(encoding="utf-8"), output.playlist)
    assert isinstance(playlist, MediaPlaylist)
    return [s.duration for s in playlist.segments]
