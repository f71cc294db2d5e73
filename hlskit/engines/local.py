"""The local engine: FFmpeg on this machine, every definition in one process.

FFmpeg writes clear segments into staging (:mod:`.encode` builds its command); each definition
is then encrypted and listed in its media playlist (:mod:`.segments`), its MP4 download remuxed
from the clear segments first (:mod:`.download`), and the seek-bar thumbnails made (:mod:`.thumbnails`).

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
from ..domain.names import MEDIA_PLAYLIST
from ..domain.outputs import DefinitionOutput, DownloadOutput
from ..domain.plan import PackagePlan, ProgressCallback
from ..domain.runs import Job, JobState, this_owner
from ..stores.jobs import JobStore
from .base import ABSOLUTE, FOLDER, ROOT_RELATIVE, Capabilities, Engine, EngineReport
from .colour import can_tone_map, hdr_kind, hdr_note
from .download import remux_mp4
from .encode import FFMPEG_PLAYLIST, build_encode, ffmpeg_exe
from .encoders import check_rate_control
from .outcome import check_output, decode_errors, disk_full, disk_full_reason, write_refused
from .process import popen_tied
from .segments import finish_segments
from .thumbnails import add_thumbnails


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
        return self._build(plan, plan.rungs, textdir, create=False).args

    def _build(self, plan: PackagePlan, rungs: list[Rung], textdir: Path, create: bool = True):
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
        )

    # --- running ------------------------------------------------------------------------------

    def run(self, plan: PackagePlan, store: JobStore, progress: ProgressCallback) -> EngineReport:
        staging = Path(plan.staging)
        staging.mkdir(parents=True, exist_ok=True)
        owner = this_owner()
        rungs = list(plan.rungs)
        for rung in rungs:
            store.update(plan.jobs[rung.name].job_id, state=JobState.TRANSCODING, owner=owner, percent=0)
        shared: list[str] = []
        logs = {rung.name: shared for rung in rungs}  # the FFmpeg log each definition's output came from
        with tempfile.TemporaryDirectory(prefix="hlskit-text-") as textdir:
            errors = self._encode(plan, rungs, store, progress, Path(textdir), shared)
            if errors is not None and len(rungs) > 1:
                # The shared process failed: retry each definition alone so a failure stays local.
                errors = {}
                for rung in rungs:
                    if _cancelled(store, plan.jobs[rung.name]):
                        continue
                    logs[rung.name] = []
                    result = self._encode(plan, [rung], store, progress, Path(textdir), logs[rung.name])
                    if result:
                        errors.update(result)
        errors = errors or {}
        report = EngineReport(jobs=[], warnings=self._notes(plan, max(logs.values(), key=len)))
        expected = _expected_duration(plan)
        for rung in rungs:
            output = self._finish_definition(
                plan, rung, store, expected, errors.get(rung.name), logs[rung.name], report
            )
            if output is not None:
                report.outputs[rung.name] = output
                progress(rung.name, 100.0)
        for rung in rungs:  # no download without its definition: it ends as the definition did
            job = plan.mp4_jobs.get(rung.name)
            if job is not None and not _current(store, job).state.finished:
                if _cancelled(store, plan.jobs[rung.name]):
                    store.update(job.job_id, state=JobState.CANCELLED)
                else:
                    why = f"its definition {rung.name} failed, so there is nothing to remux"
                    store.update(job.job_id, state=JobState.FAIL, code="TranscodeFail", message=why)
        if report.outputs:  # seek-bar previews; a failure is a warning, never a failed package
            longest = max(o.duration for o in report.outputs.values())
            report.thumbnails, note = add_thumbnails(plan, self.ffmpeg, longest)
            report.warnings += [note] if note else []
        report.jobs = [_current(store, j) for j in plan.all_jobs()]
        return report

    def _finish_definition(
        self,
        plan: PackagePlan,
        rung: Rung,
        store: JobStore,
        expected: float,
        error: str | None,
        log: list[str],
        report: EngineReport,
    ) -> DefinitionOutput | None:
        """Check FFmpeg's output of one definition, remux its download, encrypt it; None when it failed."""
        job = plan.jobs[rung.name]
        folder = Path(plan.staging) / rung.name
        if _cancelled(store, job):
            shutil.rmtree(folder, ignore_errors=True)
            return None
        outcome = check_output(folder / FFMPEG_PLAYLIST, expected, log)
        if error or not outcome.ok:
            shutil.rmtree(folder, ignore_errors=True)
            store.update(job.job_id, state=JobState.FAIL, code="TranscodeFail", message=error or outcome.reason)
            return None
        if rung.name in plan.mp4_jobs:  # from the clear segments, before they are encrypted
            made = self._download(plan, rung, store)
            if made is not None:
                report.downloads[rung.name] = made
        try:
            output = finish_segments(folder / FFMPEG_PLAYLIST, plan.schedule, plan.key, plan.key_url)
        except Exception as exc:  # a disk error, say: this definition fails, the others go on
            shutil.rmtree(folder, ignore_errors=True)
            if isinstance(exc, OSError):
                message = os_error_sentence(exc, f"encrypting {rung.name}")
            else:
                message = exc.message if isinstance(exc, HlskitError) else str(exc)
            store.update(job.job_id, state=JobState.FAIL, code="ProtectFail", message=message.rstrip("."))
            return None
        store.update(
            job.job_id,
            state=JobState.SUCCESS,
            percent=100,
            output=str(Path(plan.out) / rung.name / MEDIA_PLAYLIST),
            message="; ".join(report.warnings),
        )
        return output

    def _download(self, plan: PackagePlan, rung: Rung, store: JobStore) -> DownloadOutput | None:
        """The definition's MP4 download, a job of its own (MPS: one output per job)."""
        job = plan.mp4_jobs[rung.name]
        store.update(job.job_id, state=JobState.TRANSCODING, owner=this_owner(), percent=0)
        target = Path(plan.staging) / download_uri("", rung.name)
        failed = remux_mp4(self.ffmpeg, Path(plan.staging) / rung.name / FFMPEG_PLAYLIST, target)
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

    def _encode(
        self,
        plan: PackagePlan,
        rungs: list[Rung],
        store: JobStore,
        progress: ProgressCallback,
        textdir: Path,
        stderr_lines: list[str],
    ) -> dict[str, str] | None:
        """Run one FFmpeg process for ``rungs``; None on success, else {definition: reason}.

        FFmpeg's log lines are added to ``stderr_lines``.
        """
        staging = Path(plan.staging)
        encode = self._build(plan, rungs, textdir)
        duration = _expected_duration(plan)
        proc = popen_tied(encode.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
        assert proc.stdout is not None and proc.stderr is not None
        stderr = proc.stderr
        start = len(stderr_lines)
        reader = threading.Thread(target=lambda: stderr_lines.extend(stderr), daemon=True)
        reader.start()
        last_check, pct = 0.0, None
        jobs = [plan.jobs[r.name] for r in rungs]
        try:
            for line in proc.stdout:  # FFmpeg's -progress key=value lines
                key, _, value = line.strip().partition("=")
                if key == "out_time_us" and value.isdigit() and duration:
                    pct = min(99.0, int(value) / 1e6 / duration * 100)
                elif key == "speed" and pct is not None:  # "1.84x": media seconds per wall-clock second
                    speed = float(value[:-1]) if re.fullmatch(r"\d+(\.\d+)?x", value) else None
                    for rung in rungs:  # one process encodes them all: every definition advances alike
                        progress(rung.name, pct, speed)
                        store.update(plan.jobs[rung.name].job_id, percent=int(pct))
                now = time.monotonic()
                if now - last_check > 1.0:
                    last_check = now
                    if all(_cancelled(store, j) for j in jobs):
                        proc.terminate()
            proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        reader.join(timeout=5)
        if proc.returncode == 0:
            return None
        if all(_cancelled(store, j) for j in jobs):
            return {}
        if disk_full(stderr_lines[start:]):
            return {r.name: disk_full_reason(staging / r.name) for r in rungs}
        refused = write_refused(stderr_lines[start:], staging)
        if refused:
            return {r.name: refused for r in rungs}
        reason = _ffmpeg_reason(stderr_lines[start:], proc.returncode)
        return {r.name: reason for r in rungs}

    def cancel(self, job: Job) -> None:
        """Nothing to ask: the running engine sees the job cancelled in the store within a second."""


def _current(store: JobStore, job: Job) -> Job:
    return store.get(job.job_id) or job


def _cancelled(store: JobStore, job: Job) -> bool:
    return _current(store, job).state == JobState.CANCELLED


def _expected_duration(plan: PackagePlan) -> float:
    """Seconds the encode should last: the clip, or the source from the clip's start."""
    assert plan.media is not None
    if plan.clip and plan.clip.duration:
        return min(plan.clip.duration, plan.media.duration - plan.clip.seek)
    return plan.media.duration - (plan.clip.seek if plan.clip else 0.0)


def _ffmpeg_reason(lines: list[str], code: int) -> str:
    useful = [l.strip() for l in lines if l.strip()]
    return f"FFmpeg exited with code {code}: " + (" / ".join(useful[-3:]) if useful else "no message")
