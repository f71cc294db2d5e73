"""The package manifest, hlskit.json, as a typed and versioned value (:class:`Manifest`).

It names jobs, definitions, key ids and key URIs (never keys) and the measured figures of the
master; the pipeline writes it, ``hlskit status``, the server and the mts follow-up read it back.
Every read goes through :meth:`Manifest.from_dict`, which reads each manifest hlskit has written
(version 1 had no ``format``, ``media_dir``, ``downloads``…: they take their defaults) and keeps
keys it does not know in :attr:`Manifest.extra`, so a manifest written by a newer hlskit survives
a rewrite by this one.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .keys import KeySchedule
from .manifest_records import (
    DefinitionRecord,
    DownloadRecord,
    Encryption,
    KeyEntry,
    MasterRecord,
    RenditionEntry,
    Validation,
    from_dict,
)
from .names import DOWNLOADS, MEDIA_PLAYLIST, MP4_SUFFIX
from .outputs import DefinitionOutput, DownloadOutput
from .plan import PackagePlan
from .runs import Job, JobState

VERSION = 2  # 2: typed manifest (downloads, thumbnails, warnings, quality, validation in one schema)


@dataclass
class Manifest:
    content_id: str
    run_id: str = ""
    created_at: str = ""
    engine: str = "local"
    source: dict[str, Any] = field(default_factory=dict)  # MediaInfo.to_dict(), or {"uri": …} when not probed here
    media_dir: str = ""  # where definitions live, relative to the master ("" or "<run-id>/" on OSS)
    segment_duration: int = 0
    format: str = "ts"
    start_definition: str = "lowest"  # the master's first variant: a definition name or "lowest"
    key_url: str = ""
    encryption: Encryption = field(default_factory=Encryption)
    keys: list[KeyEntry] = field(default_factory=list)
    per_title: dict[str, Any] | None = None
    clip: dict[str, Any] | None = None  # {"seek", "duration"}
    watermarks: list[dict[str, Any]] = field(default_factory=list)
    definitions: list[DefinitionRecord] = field(default_factory=list)
    downloads: list[DownloadRecord] = field(default_factory=list)  # --mp4 (clear: see engines/download.py)
    renditions: list[RenditionEntry] = field(default_factory=list)  # audio languages and subtitles, if any
    thumbnails: dict[str, Any] | None = None  # seek-bar previews: sprite.jpg + thumbnails.vtt beside the master
    master: MasterRecord | None = None
    validation: Validation | None = None
    warnings: list[str] = field(default_factory=list)  # HDR tone-mapped, damaged source frames, no thumbnails
    quality: dict[str, Any] | None = None  # `hlskit quality`'s report
    version: int = VERSION
    extra: dict[str, Any] = field(default_factory=dict)  # keys this hlskit does not know, kept as they were

    # --- reading and writing -----------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any) -> Manifest:
        """A manifest from parsed JSON; ValueError when it is not an hlskit manifest."""
        if not isinstance(data, dict) or not isinstance(data.get("content_id"), str):
            raise ValueError("not an hlskit manifest (no content_id)")
        if not isinstance(data.get("definitions", []), list):
            raise ValueError("not an hlskit manifest (definitions is not a list)")
        names = {f.name for f in dataclasses.fields(cls)} - {"version", "extra"}
        nested = {"encryption", "keys", "definitions", "downloads", "renditions", "master", "validation", "warnings"}
        raw = {k: v for k, v in data.items() if k in names}
        try:
            m = cls(**{k: v for k, v in raw.items() if k not in nested})
            m.version = int(data.get("hlskit", 1))
            m.extra = {k: v for k, v in data.items() if k not in names and k != "hlskit"}
            m.encryption = from_dict(Encryption, raw.get("encryption") or {})
            m.keys = [from_dict(KeyEntry, k) for k in raw.get("keys") or []]
            m.definitions = [from_dict(DefinitionRecord, d) for d in raw.get("definitions") or []]
            m.downloads = [from_dict(DownloadRecord, d) for d in raw.get("downloads") or []]
            m.renditions = [from_dict(RenditionEntry, r) for r in raw.get("renditions") or []]
            m.master = MasterRecord.from_dict(raw["master"]) if raw.get("master") else None
            m.validation = _validation(raw["validation"]) if raw.get("validation") else None
            m.warnings = [str(w) for w in raw.get("warnings") or []]
        except (TypeError, ValueError) as exc:  # a field of the wrong kind
            raise ValueError(f"not an hlskit manifest ({exc})") from None
        return m

    @classmethod
    def loads(cls, text: str) -> Manifest:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg})") from None

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """The manifest file at ``path``: OSError when it cannot be read, ValueError when it is not one."""
        try:
            return cls.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise ValueError("not text") from None

    def to_dict(self) -> dict[str, Any]:
        data = {"hlskit": VERSION}
        for f in dataclasses.fields(self):
            if f.name not in ("version", "extra"):
                data[f.name] = _plain(getattr(self, f.name))
        return {**data, **self.extra}

    def dumps(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    # --- what readers ask --------------------------------------------------------------------

    def done(self) -> list[DefinitionRecord]:
        """The definitions whose job succeeded, in ladder order."""
        return [d for d in self.definitions if d.succeeded and d.playlist]

    def key_ids(self) -> set[str]:
        """The ids of the data keys this package uses (the ones that stay live once it is published)."""
        return {k.key_id for k in self.keys}

    def failed_notes(self) -> list[str]:
        return [f"{d.name}: {d.state}" for d in self.definitions if not d.succeeded]

    def source_path(self) -> str | None:
        """The source's path as probed, when it was a local file."""
        path = self.source.get("path")
        return path if isinstance(path, str) else None

    def clip_span(self) -> tuple[float, float | None] | None:
        """(seek, duration) of --clip, else None."""
        return (float(self.clip["seek"]), self.clip.get("duration")) if self.clip else None

    def refresh(self, jobs: list[Job]) -> Manifest:
        """Bring a manifest written at submit time up to date with the jobs' final states."""
        by_id = {j.job_id: j for j in jobs}
        for d in self.definitions:
            job = by_id.get(d.job_id)
            if job is not None:
                d.state, d.code, d.message = job.state.value, job.code, job.message
                d.playlist = f"{self.media_dir}{d.name}/{MEDIA_PLAYLIST}" if job.state == JobState.SUCCESS else None
        for dl in self.downloads:
            job = by_id.get(dl.job_id)
            if job is not None:
                dl.state = job.state.value
                dl.uri = download_uri(self.media_dir, dl.name) if job.state == JobState.SUCCESS else None
        for r in self.renditions:
            job = by_id.get(r.job_id)
            if job is not None:
                r.state = job.state.value
                r.playlist = f"{self.media_dir}{r.folder}/{MEDIA_PLAYLIST}" if job.state == JobState.SUCCESS else None
        return self

    def done_renditions(self) -> list[RenditionEntry]:
        """The renditions that were made, audio first."""
        return [r for r in self.renditions if r.succeeded and r.playlist]

    def record_outputs(
        self,
        outputs: dict[str, DefinitionOutput],
        audio: dict[str, DefinitionOutput] | None = None,
        subtitles: dict[str, DefinitionOutput] | None = None,
    ) -> None:
        """What an engine measured of its outputs after the manifest was written at submit time (a
        detached engine that encodes and encrypts where it follows, as the Celery engine does):
        figures of definitions and renditions, subtitles made, and the keys their segments use."""
        audio, subtitles = audio or {}, subtitles or {}
        for d in self.definitions:
            if d.name in outputs:
                d.segments, d.duration, d.bytes = _figures(outputs[d.name])
        for r in self.renditions:
            made = (audio if r.type == "AUDIO" else subtitles).get(r.slug)
            if made is None:
                continue
            r.segments, r.duration, r.bytes = _figures(made)
            if r.type != "AUDIO":  # subtitles have no job: made means done
                r.state = JobState.SUCCESS.value
                r.playlist = f"{self.media_dir}{r.folder}/{MEDIA_PLAYLIST}"
        if not outputs:
            return
        used = {key_id for made in [*outputs.values(), *audio.values()] for key_id in made.key_ids}
        schedule = KeySchedule(self.encryption.rotate_every, self.encryption.clear_lead)
        first: dict[int, int] = {}
        for i in range(max(o.segments for o in outputs.values())):
            index = schedule.key_index(i)
            if index is not None:
                first.setdefault(index, i)
        kept = [k for k in self.keys if k.key_id in used]
        for i, k in enumerate(kept):
            k.first_segment = first.get(i)
        self.keys = kept

    def record_downloads(self, made: dict[str, DownloadOutput]) -> None:
        """Measured downloads (an engine's report) into their entries."""
        for dl in self.downloads:
            if dl.name in made:
                dl.bytes = made[dl.name].bytes
                dl.duration = made[dl.name].duration
                dl.uri = made[dl.name].uri or dl.uri


def _validation(data: Any) -> Validation:
    """The validator's findings; the first schema-1 manifests (November 2026) kept only their
    number, read as that many findings whose text was not recorded."""
    validation = from_dict(Validation, data)
    for name in ("must_fix", "should_fix"):
        value = getattr(validation, name)
        if isinstance(value, int) and not isinstance(value, bool):
            setattr(validation, name, ["(not recorded: this manifest kept only the number of findings)"] * value)
        elif not isinstance(value, list):
            raise ValueError(f"validation {name} is not a list")
    return validation


def _figures(made: DefinitionOutput) -> tuple[int, float, int]:
    return made.segments, round(made.duration, 6), made.bytes


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# --- building a manifest from a plan ---------------------------------------------------------


def media_dir(plan: PackagePlan) -> str:
    """Where definitions live, relative to the master: "" (local) or "<run-id>/" (OSS, see pipeline.publish)."""
    rel = posixpath.relpath(plan.staging, plan.out) if plan.staging.startswith(plan.out + "/") else ""
    return rel + "/" if rel else ""


def playlist_of(plan: PackagePlan, definition: str) -> str:
    return f"{media_dir(plan)}{definition}/{MEDIA_PLAYLIST}"


def download_uri(media_dir: str, name: str) -> str:
    """Where definition ``name``'s MP4 download is, relative to the master (``--mp4``)."""
    return f"{media_dir}{DOWNLOADS}/{name}{MP4_SUFFIX}"


def build_manifest(
    plan: PackagePlan,
    jobs: list[Job],
    outputs: dict[str, DefinitionOutput] | None = None,
    downloads: dict[str, DownloadOutput] | None = None,
    *,
    engine: str,
    explicit_iv: bool = True,
    audio: dict[str, DefinitionOutput] | None = None,
    subtitles: dict[str, DefinitionOutput] | None = None,
) -> Manifest:
    """The manifest of ``plan`` with its jobs as they are and what the engine measured of their outputs.
    ``explicit_iv``: the engine writes each key's IV into the playlists (MPS takes none: players then
    use the media sequence number), so the manifest lists them."""
    outputs, downloads = outputs or {}, downloads or {}
    by_name = {j.definition: j for j in jobs}
    definitions = []
    for rung in plan.rungs:
        job = by_name[rung.name]
        out = outputs.get(rung.name)
        d = rung.definition
        definitions.append(
            DefinitionRecord(
                name=rung.name,
                codec=rung.codec,
                width=rung.width,
                height=rung.height,
                video_kbps=d.video_kbps,
                audio_kbps=d.audio_kbps,
                template_id=d.template_id,
                job_id=job.job_id,
                state=job.state.value,
                code=job.code,
                message=job.message,
                playlist=playlist_of(plan, rung.name) if job.state == JobState.SUCCESS else None,
                segments=out.segments if out else 0,
                duration=round(out.duration, 6) if out else 0.0,
                bytes=out.bytes if out else 0,
            )
        )
    first_segment: dict[int, int] = {}
    for i in range(max((o.segments for o in outputs.values()), default=0)):
        index = plan.schedule.key_index(i)
        if index is not None and index not in first_segment:
            first_segment[index] = i
    made = []
    for name, job in plan.mp4_jobs.items():
        state = by_name[job.definition].state if job.definition in by_name else job.state
        done = downloads.get(name)
        made.append(
            DownloadRecord(
                name=name,
                job_id=job.job_id,
                state=state.value,
                uri=(done.uri if done and done.uri else download_uri(media_dir(plan), name))
                if state == JobState.SUCCESS
                else None,
                bytes=done.bytes if done else 0,
                duration=done.duration if done else None,
            )
        )
    renditions = _renditions(plan, {j.job_id: j for j in jobs}, audio or {}, subtitles or {})
    return Manifest(
        content_id=plan.content_id,
        run_id=plan.run_id,
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        engine=engine,
        source=plan.media.to_dict() if plan.media else {"uri": plan.source},
        media_dir=media_dir(plan),
        segment_duration=plan.segment_duration,
        format=plan.format,
        start_definition=plan.start_definition,
        key_url=plan.key_url,
        encryption=Encryption(
            "AES-128" if plan.schedule.encrypt else "NONE", plan.schedule.rotate_every, plan.schedule.clear_lead
        ),
        keys=[
            KeyEntry(k.key_id, k.uri(plan.key_url), first_segment.get(i), k.iv_hex if explicit_iv else None)
            for i, k in enumerate(plan.keys)
        ],
        per_title=plan.per_title,
        clip={"seek": plan.clip.seek, "duration": plan.clip.duration} if plan.clip else None,
        watermarks=[dataclasses.asdict(wm) for wm in plan.watermarks],
        definitions=definitions,
        downloads=made,
        renditions=renditions,
    )


def _renditions(
    plan: PackagePlan,
    jobs: dict[str, Job],
    audio: dict[str, DefinitionOutput],
    subtitles: dict[str, DefinitionOutput],
) -> list[RenditionEntry]:
    out = []
    for a in plan.audio:
        job = jobs.get(plan.audio_jobs[a.slug].job_id, plan.audio_jobs[a.slug])
        made = audio.get(a.slug)
        ok = job.state == JobState.SUCCESS
        out.append(
            RenditionEntry(
                "AUDIO",
                a.slug,
                a.name,
                a.language,
                a.default,
                False,
                a.characteristics,
                job.job_id,
                job.state.value,
                f"{media_dir(plan)}{a.folder}/{MEDIA_PLAYLIST}" if ok else None,
                made.segments if made else 0,
                round(made.duration, 6) if made else 0.0,
                made.bytes if made else 0,
                commentary=a.commentary,
            )
        )
    for s in plan.subtitles:
        made = subtitles.get(s.slug)
        state = JobState.SUCCESS if made else JobState.FAIL
        out.append(
            RenditionEntry(
                "SUBTITLES",
                s.slug,
                s.name,
                s.language,
                s.default,
                s.forced,
                s.characteristics,
                "",
                state.value,
                f"{media_dir(plan)}{s.folder}/{MEDIA_PLAYLIST}" if made else None,
                made.segments if made else 0,
                round(made.duration, 6) if made else 0.0,
                made.bytes if made else 0,
            )
        )
    return out
