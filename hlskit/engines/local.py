"""The local engine: FFmpeg on this machine.

All definitions of one source run in ONE FFmpeg process that decodes the source once, splits
the picture and scales/encodes each definition from it (one process per definition would decode
the source N times; bench/package.py measures both). Keyframes are forced on a fixed grid that
divides the segment duration, with scene-cut keyframes off, so every definition cuts its
segments at the same times. FFmpeg writes clear segments into staging; :mod:`hlskit.protect`
then encrypts them.

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
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..domain.errors import ConfigError, HlskitError, os_error_sentence
from ..domain.jobs import Job, JobState, JobStore, this_owner
from ..domain.ladder import Rung
from ..domain.manifest import download_uri
from ..domain.names import MEDIA_PLAYLIST
from ..domain.options import watermark_text
from ..domain.plan import PackagePlan, ProgressCallback, Watermark
from ..keys.protect import protect
from .colour import BT709_TAGS, HDR_TRANSFERS, hdr_kind, hdr_note, hdr_tags, keeps_hdr, tone_map_chain
from .download import remux_mp4
from .encoders import hls_args, video_args
from .outcome import check_output, decode_errors, disk_full, disk_full_reason, write_refused
from .process import popen_tied

FFMPEG_PLAYLIST = "ffmpeg.m3u8"
_CORNERS = {"TopLeft", "TopRight", "BottomLeft", "BottomRight"}


def ffmpeg_exe(settings=None) -> str:
    path = getattr(settings, "ffmpeg", None)
    if path:
        if not shutil.which(path) and not Path(path).is_file():
            raise ConfigError(
                f"FFmpeg binary {path} was not found: fix the ffmpeg setting or unset it to use the bundled one."
            )
        return path
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def gop_seconds(segment_duration: int) -> int:
    """The keyframe interval: 2 s when it divides the segment duration (Apple's advice), else 1 s."""
    return 2 if segment_duration % 2 == 0 else 1


def output_rate(frame_rate: str) -> Fraction:
    """Keep the source frame rate, capped at 60 fps as MPS does."""
    rate = Fraction(frame_rate)
    return rate if rate <= 60 else Fraction(60)


def _audio_rate(plan: PackagePlan) -> int:
    src = plan.media.audio.sample_rate if plan.media and plan.media.audio else 48000
    return src if src in (44100, 48000) else 48000


def _size(value: float, full: int) -> int:
    """MPS convention: a value below 1 is a fraction of the output size, otherwise pixels."""
    return int(round(value * full)) if 0 < value < 1 else int(round(value))


def _place(wm: Watermark, out_w: int, out_h: int, mark_w: str, mark_h: str) -> tuple[str, str]:
    dx, dy = _size(wm.dx, out_w), _size(wm.dy, out_h)
    x = f"{dx}" if wm.refer_pos.endswith("Left") else f"{out_w}-{mark_w}-{dx}"
    y = f"{dy}" if wm.refer_pos.startswith("Top") else f"{out_h}-{mark_h}-{dy}"
    return x, y


def _font_file() -> str | None:
    for candidate in (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/System/Library/Fonts/Supplemental/Arial.ttf",
        "C:/Windows/Fonts/arial.ttf",
    ):
        if Path(candidate).is_file():
            return candidate
    return None


def _escape_filter_path(path: str) -> str:
    return path.replace("\\", "/").replace(":", "\\:").replace("'", "\\'")


def _split_graph(head: str, keep: list[bool], transfer: str) -> list[str]:
    """The filter graph's first part: one decode split into ``[s<i>]`` per rung. Rungs that keep
    HDR take the source's pixels; the others are tone-mapped to SDR once, before their split."""
    sdr = [i for i, k in enumerate(keep) if not k]
    kept = [i for i, k in enumerate(keep) if k]

    def split(into: list[int]) -> str:
        return f"split={len(into)}" + "".join(f"[s{i}]" for i in into)

    tone = f"{tone_map_chain(transfer)}," if transfer in HDR_TRANSFERS else ""
    if not kept:
        return [f"{head},{tone}{split(sdr)}"]
    if not sdr:
        return [f"{head},{split(kept)}"]
    return [f"{head},split=2[sdr][hdr]", f"[sdr]{tone}{split(sdr)}", f"[hdr]{split(kept)}"]


@dataclass
class Encode:
    """One FFmpeg invocation: its arguments and the definitions it produces."""

    args: list[str]
    rungs: list[Rung]


def build_encode(
    plan: PackagePlan,
    rungs: list[Rung],
    ffmpeg: str,
    preset: str,
    outdir: Path,
    textdir: Path,
    *,
    rate_control: str = "abr",
    crf: int = 23,
    create: bool = True,
) -> Encode:
    """The FFmpeg command that encodes ``rungs`` from one decode of the source into ``outdir``.

    Each rung is encoded with its codec (:func:`hlskit.engines.encoders.video_args`) and muxed as
    ``plan.format`` segments. ``rate_control`` "abr" aims at each definition's rate (-b:v);
    "capped-crf" keeps quality constant (-crf) and lets the rate fall below the cap on easy content.

    Text watermarks are read by drawtext from files in ``textdir`` (kept out of the package).
    ``create=False`` (``--dry-run``) builds the same command without making folders or text files.
    """
    media = plan.media
    assert media is not None
    rate = output_rate(media.video.frame_rate)
    fps = float(rate)
    gop = gop_seconds(plan.segment_duration)
    gop_frames = max(1, round(fps * gop))
    args = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats", "-progress", "pipe:1"]
    if plan.clip:  # input options: seek and read only the clip; re-encoding makes it frame-accurate
        args += ["-ss", f"{plan.clip.seek:.3f}"]
        if plan.clip.duration:
            args += ["-t", f"{plan.clip.duration:.3f}"]
    args += ["-i", plan.source]
    images = [wm for wm in plan.watermarks if wm.kind == "image"]
    for wm in images:
        args += ["-i", wm.image]

    n = len(rungs)
    hdr = hdr_kind(media) is not None
    keep = [hdr and keeps_hdr(rung) for rung in rungs]  # HEVC/AV1 rungs keep HDR (engines.colour)
    graph = _split_graph(f"[0:v]fps={rate.numerator}/{rate.denominator}", keep, media.video.color_transfer or "")
    for j in range(len(images)):
        graph.append(f"[{j + 1}:v]format=rgba,split={n}" + "".join(f"[m{j}_{i}]" for i in range(n)))
    for i, rung in enumerate(rungs):
        chain = f"[s{i}]scale={rung.width}:{rung.height}:flags=bicubic,setsar=1"
        label = f"b{i}"
        graph.append(chain + f"[{label}]")
        for j, wm in enumerate(images):
            mark_w = max(2, _size(wm.width, rung.width))
            graph.append(f"[m{j}_{i}]scale={mark_w}:-1[mk{j}_{i}]")
            x, y = _place(wm, rung.width, rung.height, "w", "h")  # overlay's w/h: the mark's size
            graph.append(f"[{label}][mk{j}_{i}]overlay=x={x}:y={y}:format=auto[{label}w{j}]")
            label = f"{label}w{j}"
        for k, wm in enumerate(w for w in plan.watermarks if w.kind == "text"):
            textfile = textdir / f"text-{i}-{k}.txt"
            if create:
                textfile.write_text(watermark_text(wm, rung.name))
            size = _size(wm.width if wm.width else 0.05, rung.height)
            x, y = _place(wm, rung.width, rung.height, "tw", "th")
            font = _font_file()
            fontopt = f"fontfile='{_escape_filter_path(font)}':" if font else ""
            graph.append(
                f"[{label}]drawtext={fontopt}textfile='{_escape_filter_path(str(textfile))}':"
                f"fontsize={size}:fontcolor=white@0.85:borderw={max(1, size // 16)}:bordercolor=black@0.6:"
                f"x={x}:y={y}[{label}t{k}]"
            )
            label = f"{label}t{k}"
        # Overlays may leave alpha: the encoders need 4:2:0, 10-bit where HDR is kept.
        graph.append(f"[{label}]format={'yuv420p10le' if keep[i] else 'yuv420p'}[v{i}]")
    args += ["-filter_complex", ";".join(graph)]

    has_audio = plan.media.audio is not None
    for i, rung in enumerate(rungs):
        d = rung.definition
        folder = outdir / rung.name
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        args += ["-map", f"[v{i}]"]
        if has_audio:
            args += ["-map", "0:a:0"]
        args += video_args(
            rung, fps=fps, preset=preset, rate_control=rate_control, crf=crf, gop=gop, gop_frames=gop_frames
        )
        if keep[i]:
            args += hdr_tags(media.video.color_transfer or "", rung.codec)
        elif hdr:  # the pixels are SDR BT.709 now: say so in the VUI (ITU-T H.273 code points 1/1/1)
            args += BT709_TAGS
        if has_audio:
            args += ["-c:a", "aac", "-b:a", f"{d.audio_kbps}k", "-ac", "2", "-ar", str(_audio_rate(plan))]
        args += hls_args(plan.format, folder, plan.segment_duration, FFMPEG_PLAYLIST)
    return Encode(args, list(rungs))


class LocalEngine:
    name = "local"

    def __init__(self, settings):
        self.settings = settings
        self.ffmpeg = ffmpeg_exe(settings)
        self.preset = settings.x264_preset
        self.rate_control, self.crf = settings.rate_control, settings.crf
        self._procs: dict[str, subprocess.Popen] = {}

    def run(self, plan: PackagePlan, store: JobStore, progress: ProgressCallback) -> list[Job]:
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
                    if self._cancelled(store, plan, rung):
                        continue
                    logs[rung.name] = []
                    result = self._encode(plan, [rung], store, progress, Path(textdir), logs[rung.name])
                    if result:
                        errors.update(result)
        errors = errors or {}
        notes = self._notes(plan, max(logs.values(), key=len))
        expected = _expected_duration(plan)
        for rung in rungs:
            job = plan.jobs[rung.name]
            folder = staging / rung.name
            if self._cancelled(store, plan, rung):
                shutil.rmtree(folder, ignore_errors=True)
                continue
            outcome = check_output(folder / FFMPEG_PLAYLIST, expected, logs[rung.name])
            if rung.name in errors or not outcome.ok:
                message = errors.get(rung.name) or outcome.reason
                shutil.rmtree(folder, ignore_errors=True)
                store.update(job.job_id, state=JobState.FAIL, code="TranscodeFail", message=message)
                continue
            if rung.name in plan.mp4_jobs:  # from the clear segments, before they are encrypted
                self._download(plan, rung, store)
            try:
                rendition = protect(folder / FFMPEG_PLAYLIST, plan.schedule, plan.key, plan.key_url)
            except Exception as exc:  # a disk error, say: this definition fails, the others go on
                shutil.rmtree(folder, ignore_errors=True)
                if isinstance(exc, OSError):
                    message = os_error_sentence(exc, f"encrypting {rung.name}")
                else:
                    message = exc.message if isinstance(exc, HlskitError) else str(exc)
                store.update(job.job_id, state=JobState.FAIL, code="ProtectFail", message=message.rstrip("."))
                continue
            plan.renditions[rung.name] = rendition
            store.update(
                job.job_id,
                state=JobState.SUCCESS,
                percent=100,
                output=str(Path(plan.out) / rung.name / MEDIA_PLAYLIST),
                message="; ".join(notes),
            )
            progress(rung.name, 100.0)
        for rung in rungs:  # no download without its definition: it ends as the definition did
            job = plan.mp4_jobs.get(rung.name)
            if job is not None and not store.get(job.job_id).state.finished:  # type: ignore[union-attr]
                if self._cancelled(store, plan, rung):
                    store.update(job.job_id, state=JobState.CANCELLED)
                else:
                    why = f"its definition {rung.name} failed, so there is nothing to remux"
                    store.update(job.job_id, state=JobState.FAIL, code="TranscodeFail", message=why)
        return [store.get(j.job_id) for j in plan.all_jobs()]  # type: ignore[misc]

    def _download(self, plan: PackagePlan, rung: Rung, store: JobStore) -> None:
        """The definition's MP4 download, a job of its own (MPS: one output per job)."""
        job = plan.mp4_jobs[rung.name]
        store.update(job.job_id, state=JobState.TRANSCODING, owner=this_owner(), percent=0)
        target = Path(plan.staging) / download_uri("", rung.name)
        failed = remux_mp4(self.ffmpeg, Path(plan.staging) / rung.name / FFMPEG_PLAYLIST, target)
        if failed:
            store.update(job.job_id, state=JobState.FAIL, code="TranscodeFail", message=failed)
            return
        plan.downloads[rung.name] = {"bytes": target.stat().st_size}
        store.update(
            job.job_id, state=JobState.SUCCESS, percent=100, output=str(Path(plan.out) / download_uri("", rung.name))
        )

    @staticmethod
    def _notes(plan: PackagePlan, log: list[str]) -> list[str]:
        """Warnings every definition carries: HDR tone-mapped, decode errors in the source."""
        notes = [hdr_note(plan.media, plan.rungs)] if plan.media and hdr_kind(plan.media) else []
        media = plan.media
        codecs = {media.video.codec, media.audio.codec if media.audio else ""} if media else set()
        count = decode_errors(log, codecs)
        if count:
            notes.append(
                f"the source has damaged frames: FFmpeg reported {count} decode error(s) and concealed or "
                "dropped those frames, so check the source or package a clean copy"
            )
        return notes

    @staticmethod
    def _cancelled(store: JobStore, plan: PackagePlan, rung: Rung) -> bool:
        job = store.get(plan.jobs[rung.name].job_id)
        return job is not None and job.state == JobState.CANCELLED

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
        encode = build_encode(
            plan, rungs, self.ffmpeg, self.preset, staging, textdir, rate_control=self.rate_control, crf=self.crf
        )
        duration = _expected_duration(plan)
        proc = popen_tied(encode.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
        start = len(stderr_lines)
        reader = threading.Thread(target=lambda: stderr_lines.extend(proc.stderr), daemon=True)
        reader.start()
        last_check, pct = 0.0, None
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
                    if all(self._cancelled(store, plan, r) for r in rungs):
                        proc.terminate()
            proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        reader.join(timeout=5)
        if proc.returncode == 0:
            return None
        if all(self._cancelled(store, plan, r) for r in rungs):
            return {}
        if disk_full(stderr_lines[start:]):
            return {r.name: disk_full_reason(staging / r.name) for r in rungs}
        refused = write_refused(stderr_lines[start:], staging)
        if refused:
            return {r.name: refused for r in rungs}
        reason = _ffmpeg_reason(stderr_lines[start:], proc.returncode)
        return {r.name: reason for r in rungs}

    def cancel(self, job: Job) -> None:  # the running engine polls the store; nothing else to do
        pass


def _expected_duration(plan: PackagePlan) -> float:
    """Seconds the encode should last: the clip, or the source from the clip's start."""
    assert plan.media is not None
    if plan.clip and plan.clip.duration:
        return min(plan.clip.duration, plan.media.duration - plan.clip.seek)
    return plan.media.duration - (plan.clip.seek if plan.clip else 0.0)


def _ffmpeg_reason(lines: list[str], code: int) -> str:
    useful = [l.strip() for l in lines if l.strip()]
    return f"FFmpeg exited with code {code}: " + (" / ".join(useful[-3:]) if useful else "no message")
