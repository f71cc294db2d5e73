"""The package manifest, hlskit.json: what a package run produced, as plain JSON-ready data.

It names jobs, definitions, key ids and key URIs (never keys) and the measured figures of the
master; the pipeline writes it, ``hlskit status`` and the mts follow-up read it back.
"""

from __future__ import annotations

import posixpath
import time
from typing import Any

from .jobs import Job, JobState
from .names import DOWNLOADS, MEDIA_PLAYLIST, MP4_SUFFIX
from .plan import PackagePlan


def media_dir(plan: PackagePlan) -> str:
    """Where definitions live, relative to the master: "" (local) or "<run-id>/" (OSS, see pipeline.publish)."""
    rel = posixpath.relpath(plan.staging, plan.out) if plan.staging.startswith(plan.out + "/") else ""
    return rel + "/" if rel else ""


def playlist_of(plan: PackagePlan, definition: str) -> str:
    return f"{media_dir(plan)}{definition}/{MEDIA_PLAYLIST}"


def download_uri(media_dir: str, name: str) -> str:
    """Where definition ``name``'s MP4 download is, relative to the master (``--mp4``)."""
    return f"{media_dir}{DOWNLOADS}/{name}{MP4_SUFFIX}"


def build_manifest(plan: PackagePlan, jobs: list[Job]) -> dict[str, Any]:
    by_name = {j.definition: j for j in jobs}
    definitions = []
    for rung in plan.rungs:
        job = by_name[rung.name]
        rendition = plan.renditions.get(rung.name)
        d = rung.definition
        definitions.append(
            {
                "name": rung.name,
                "codec": rung.codec,
                "width": rung.width,
                "height": rung.height,
                "video_kbps": d.video_kbps,
                "audio_kbps": d.audio_kbps,
                "template_id": d.template_id,
                "job_id": job.job_id,
                "state": job.state.value,
                "code": job.code,
                "message": job.message,
                "playlist": playlist_of(plan, rung.name) if job.state == JobState.SUCCESS else None,
                "segments": rendition.segments if rendition else 0,
                "duration": round(rendition.duration, 6) if rendition else 0.0,
                "bytes": rendition.bytes if rendition else 0,
            }
        )
    first_segment = {}
    count = max((r.segments for r in plan.renditions.values()), default=0)
    for i in range(count):
        index = plan.schedule.key_index(i)
        if index is not None and index not in first_segment:
            first_segment[index] = i
    engine = next(iter(plan.jobs.values())).engine
    downloads = []
    for name, job in plan.mp4_jobs.items():
        state = by_name[job.definition].state if job.definition in by_name else job.state
        made = plan.downloads.get(name, {})
        downloads.append(
            {
                "name": name,
                "job_id": job.job_id,
                "state": state.value,
                "uri": download_uri(media_dir(plan), name) if state == JobState.SUCCESS else None,
                "bytes": made.get("bytes", 0),
            }
        )
    return {
        "hlskit": 1,
        "content_id": plan.content_id,
        "run_id": plan.run_id,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "engine": engine,
        "source": plan.media.to_dict() if plan.media else {"uri": plan.source},
        "media_dir": media_dir(plan),
        "segment_duration": plan.segment_duration,
        "format": plan.format,
        # The master's first variant: a definition name or "lowest" (finishing stitches with it).
        "start_definition": plan.start_definition,
        "key_url": plan.key_url,
        "encryption": {
            "method": "AES-128" if plan.schedule.encrypt else "NONE",
            "rotate_every": plan.schedule.rotate_every,
            "clear_lead": plan.schedule.clear_lead,
        },
        # MPS takes no IV (players then use the media sequence number), so only local keys list one.
        "keys": [
            {
                "key_id": k.key_id,
                "uri": k.uri(plan.key_url),
                "first_segment": first_segment.get(i),
                **({"iv": k.iv_hex} if engine == "local" else {}),
            }
            for i, k in enumerate(plan.keys)
        ],
        "per_title": plan.per_title,
        "clip": {"seek": plan.clip.seek, "duration": plan.clip.duration} if plan.clip else None,
        "watermarks": [wm.__dict__ for wm in plan.watermarks],
        "definitions": definitions,
        # --mp4: a progressive MP4 per definition (downloads/<definition>.mp4, clear: see engines/download.py)
        "downloads": downloads,
        # Seek-bar previews (local engine): sprite.jpg + thumbnails.vtt beside the master, or None.
        "thumbnails": plan.thumbnails,
        "master": None,
    }


def refresh_manifest(manifest: dict[str, Any], jobs: list[Job]) -> dict[str, Any]:
    """Bring a manifest written at submit time up to date with the jobs' final states."""
    by_id = {j.job_id: j for j in jobs}
    for d in manifest["definitions"]:
        job = by_id.get(d["job_id"])
        if job is not None:
            d.update(
                state=job.state.value,
                code=job.code,
                message=job.message,
                playlist=f"{manifest.get('media_dir', '')}{d['name']}/{MEDIA_PLAYLIST}"
                if job.state == JobState.SUCCESS
                else None,
            )
    for d in manifest.get("downloads", []):
        job = by_id.get(d["job_id"])
        if job is not None:
            made = download_uri(manifest.get("media_dir", ""), d["name"])
            d.update(state=job.state.value, uri=made if job.state == JobState.SUCCESS else None)
    return manifest
