"""Finish a run's outputs on the following host: its chunks stitched into each definition,
downloads remuxed, every segment encrypted, subtitles cut, the sprite put in place.

Each definition's clear segments, chunk after chunk, are linked (a hard link: no copy) into
``<staging>/<definition>/`` in order and listed in one FFmpeg-style playlist, whose EXTINFs are
the chunks' own; chunk 0's initialization section serves the whole fMP4 definition (every
chunk's is the same encoder configuration). From there the local engine's steps apply unchanged:
:func:`hlskit.engines.outcome.check_output` (the whole title is there), the MP4 download from
the clear segments, :func:`hlskit.engines.segments.finish_segments` (each segment encrypted with
its schedule key, MPS names, the media playlist), :func:`~hlskit.engines.segments.write_subtitles`.
Data keys come from the key store by the ids the run file lists; they exist only in memory here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from ...domain.chunks import VIDEO, sprite_row_name
from ...domain.errors import HlskitError, JobError, os_error_sentence
from ...domain.keys import DataKey, KeySchedule
from ...domain.manifest import download_uri
from ...domain.names import MEDIA_PLAYLIST, SPRITE
from ...domain.names import THUMBNAILS as THUMBNAILS_TRACK
from ...domain.outputs import DownloadOutput
from ...domain.plan import ProgressCallback
from ...domain.runs import JobState
from ...hls.model import MediaPlaylist
from ...hls.playlist import parse, round_half_up
from ...hls.write import Entry, media_playlist
from ...keys.protect import KeyMaker
from ...stores.jobs import JobStore
from ...stores.keys import KeyStore
from ..base import EngineReport
from ..download import remux_mp4
from ..encode import FFMPEG_PLAYLIST
from ..encoders import SEGMENT_STEM
from ..outcome import check_output
from ..segments import clear_media_start, finish_segments, write_subtitles
from ..thumbnails import Layout, Thumbnails, track_text
from .chunks import SPRITE_ROW
from .work import RunFile, chunk_dir, chunk_record, remove_work, work_dir

CLEAR_INIT = "init-clear.mp4"  # chunk 0's init section, before finish_segments encrypts it as init.mp4


def assemble_run(
    run: RunFile, store: JobStore, keys: KeyStore, ffmpeg: str, package: str, progress: ProgressCallback
) -> EngineReport:
    """Turn a run's finished chunks into its definitions and renditions (see the module docstring)."""
    staging = Path(run.staging)
    jobs = {j.job_id: j for j in store.run_jobs(run.run_id)}
    report = EngineReport(jobs=[], warnings=list(run.notes))
    if any(j.state == JobState.CANCELLED for j in jobs.values()):  # the pipeline ends it as cancelled
        report.jobs = list(jobs.values())
        return report
    rows = {c.name: c for c in store.chunks.of_run(run.run_id)}
    video = [t.name for t in run.tasks if t.kind == VIDEO]
    outputs: dict[str, tuple[str, list[str]]] = {name: (run.jobs[name], video) for name in run.definitions}
    for a in run.audio:
        outputs[a["folder"]] = (a["job_id"], [a["folder"]])
    clear: dict[str, list[float]] = {}  # output → its segment durations, once assembled
    for out, (job_id, pieces) in outputs.items():
        try:
            clear[out] = _assemble(staging, out, pieces, rows, run.seconds)
        except JobError as exc:
            shutil.rmtree(staging / out, ignore_errors=True)
            store.update(job_id, state=JobState.FAIL, code="TranscodeFail", message=exc.message)
    for name, job_id in run.downloads.items():  # from the clear segments, before they are encrypted
        report.downloads.update(_download(run, staging, name, job_id, store, ffmpeg, name in clear, package))
    start = _media_start(staging, [d for d in run.definitions if d in clear]) if run.subtitles else None
    key_for = key_maker(run, keys)
    schedule = KeySchedule(**run.schedule)
    for out in list(clear):
        job_id = outputs[out][0]
        try:
            made = finish_segments(staging / out / FFMPEG_PLAYLIST, schedule, key_for, run.key_url)
        except (OSError, HlskitError) as exc:
            shutil.rmtree(staging / out, ignore_errors=True)
            why = os_error_sentence(exc, f"encrypting {out}") if isinstance(exc, OSError) else exc.message
            store.update(job_id, state=JobState.FAIL, code="ProtectFail", message=why.rstrip("."))
            del clear[out]
            continue
        (report.outputs if out in run.definitions else report.audio)[_slug(out)] = made
        store.update(
            job_id,
            state=JobState.SUCCESS,
            percent=100,
            output=str(Path(package) / out / MEDIA_PLAYLIST),
            message="; ".join(report.warnings),
        )
        progress(out, 100.0)
    definitions = [d for d in run.definitions if d in report.outputs]
    if definitions and start is not None:
        durations = clear[definitions[0]]
        for s in run.subtitles:
            webvtt = (work_dir(staging) / "subtitles" / f"{s['slug']}.vtt").read_text(encoding="utf-8")
            report.subtitles[s["slug"]] = write_subtitles(staging / s["folder"], webvtt, durations, start)
    if definitions and run.thumbnails is not None:
        longest = max(o.duration for o in report.outputs.values())
        report.thumbnails, note = _thumbnails(run, staging, rows, ffmpeg, longest)
        report.warnings += [note] if note else []
    remove_work(staging)
    report.jobs = store.run_jobs(run.run_id)
    return report


def _slug(out: str) -> str:
    """The report's key: a definition's name, or an audio rendition's slug (audio/<slug>)."""
    return out.split("/", 1)[1] if out.startswith("audio/") else out


def _assemble(staging: Path, out: str, pieces: list[str], rows: dict, seconds: float) -> list[float]:
    """Link ``out``'s clear segments from each piece into ``staging/out/`` and list them in its
    FFmpeg playlist; the segment durations, or JobError naming the chunk that is missing."""
    folder = staging / out
    shutil.rmtree(folder, ignore_errors=True)  # a follower that died half-way left a partial one
    folder.mkdir(parents=True)
    entries: list[Entry] = []
    init: Entry | None = None
    for name in pieces:
        record, row = chunk_record(staging, name), rows.get(name)
        span = f"{row.start:.1f}-{row.start + row.duration:.1f} s" if row is not None and row.kind == VIDEO else ""
        where = f"chunk {name}" + (f" ({span})" if span else "")
        if record is None:
            state = row.state.value if row is not None else "unknown"
            why = f": {row.message}" if row is not None and row.message else ""
            raise JobError(f"{where} did not finish ({state}{why})")
        failed = record.get("failed") or {}
        if out in failed:
            tries = record.get("attempts", 0)
            raise JobError(f"{where} failed {tries} time{'s' if tries != 1 else ''}: {failed[out]}")
        source = chunk_dir(staging, name) / out
        playlist = parse((source / FFMPEG_PLAYLIST).read_text(encoding="utf-8"), str(source / FFMPEG_PLAYLIST))
        if not isinstance(playlist, MediaPlaylist) or not playlist.segments:
            raise JobError(f"{where} lists no segment of {out}")
        first = playlist.segments[0].map
        if first is not None:
            made = source / Path(first.uri).name
            if init is None:
                _link(made, folder / CLEAR_INIT)
                init = Entry(CLEAR_INIT, 0.0)
            elif made.read_bytes() != (folder / CLEAR_INIT).read_bytes():
                # One init section serves every chunk: they must all be the same encoder configuration.
                raise JobError(
                    f"{where} was encoded with another configuration than chunk {pieces[0]} (its initialization "
                    "section differs): give every worker the same hlskit and FFmpeg, and package the source again"
                )
        for seg in playlist.segments:
            target = f"{SEGMENT_STEM}{len(entries):05d}{Path(seg.raw_uri).suffix}"  # as FFmpeg names them
            _link(source / seg.raw_uri, folder / target)
            entries.append(Entry(target, seg.duration))
    target_duration = max(1, *(round_half_up(e.duration) for e in entries))
    text = media_playlist(entries, target_duration=target_duration, version=7 if init else 3, init=init)
    (folder / FFMPEG_PLAYLIST).write_text(text, encoding="utf-8")
    outcome = check_output(folder / FFMPEG_PLAYLIST, seconds, [])
    if not outcome.ok:
        raise JobError(f"the chunks of {out} do not add up to the title: {outcome.reason}")
    return [e.duration for e in entries]


def _link(source: Path, target: Path) -> None:
    """A hard link (the chunk keeps its file until the work folder goes); a copy where the shared
    file system has no hard links."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def key_maker(run: RunFile, keys: KeyStore) -> KeyMaker:
    """Schedule index → the run's data key, read from the key store (memory only)."""
    made: dict[int, DataKey] = {}

    def key_for(index: int) -> DataKey:
        if index not in made:
            if index >= len(run.keys):
                raise JobError(f"run {run.run_id} made no data key for key index {index}: package the source again")
            entry = run.keys[index]
            plain = keys.get(run.content_id, entry["key_id"])
            if plain is None:
                raise JobError(
                    f"data key {entry['key_id']} of {run.content_id} is revoked or missing from the key store: "
                    "package the source again"
                )
            made[index] = DataKey(run.content_id, entry["key_id"], bytes.fromhex(entry["iv"]), plain)
        return made[index]

    return key_for


def _download(
    run: RunFile, staging: Path, name: str, job_id: str, store: JobStore, ffmpeg: str, ok: bool, package: str
) -> dict[str, DownloadOutput]:
    """A definition's MP4 download from its clear segments (and the default audio rendition's)."""
    if not ok:
        why = f"its definition {name} failed, so there is nothing to remux"
        store.update(job_id, state=JobState.FAIL, code="TranscodeFail", message=why)
        return {}
    store.update(job_id, state=JobState.TRANSCODING, percent=0)
    target = staging / download_uri("", name)
    audio = staging / run.default_audio / FFMPEG_PLAYLIST if run.default_audio else None
    if audio is not None and not audio.is_file():
        audio = None
    failed = remux_mp4(ffmpeg, staging / name / FFMPEG_PLAYLIST, target, audio)
    if failed:
        store.update(job_id, state=JobState.FAIL, code="TranscodeFail", message=failed)
        return {}
    store.update(job_id, state=JobState.SUCCESS, percent=100, output=str(Path(package) / download_uri("", name)))
    return {name: DownloadOutput(target.stat().st_size)}


def _media_start(staging: Path, definitions: list[str]) -> int | None:
    for name in definitions:
        try:
            return clear_media_start(staging / name / FFMPEG_PLAYLIST)
        except (OSError, ValueError):
            continue
    return None


def _thumbnails(
    run: RunFile, staging: Path, rows: dict, ffmpeg: str, duration: float
) -> tuple[dict | None, str | None]:
    """The sprite stacked from its rows' tasks into the package, and its WebVTT track; else a
    warning sentence (a package without previews still plays)."""
    assert run.thumbnails is not None
    layout = Layout(**run.thumbnails)
    names = [sprite_row_name(r) for r in range(layout.rows)]
    missing = [n for n in names if not (chunk_dir(staging, n) / SPRITE_ROW).is_file()]
    if missing:
        row = rows.get(missing[0])
        reason = row.message if row is not None and row.message else f"{missing[0]} did not finish"
        return None, f"no seek-bar thumbnails were made ({reason.rstrip('.')}): the package plays without them"
    inputs = [arg for n in names for arg in ("-i", str(chunk_dir(staging, n) / SPRITE_ROW))]
    stack = ["-filter_complex", f"vstack=inputs={len(names)}"] if len(names) > 1 else []
    args = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *inputs, *stack]
    done = subprocess.run([*args, "-frames:v", "1", "-q:v", "5", str(staging / SPRITE)], capture_output=True, text=True)
    if done.returncode != 0:
        (staging / SPRITE).unlink(missing_ok=True)
        last = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return (
            None,
            f"no seek-bar thumbnails were made (FFmpeg could not stack the sprite: {last}): the package plays without them",
        )
    (staging / THUMBNAILS_TRACK).write_text(track_text(layout, duration), encoding="utf-8")
    return Thumbnails(SPRITE, THUMBNAILS_TRACK, layout).to_manifest(), None
