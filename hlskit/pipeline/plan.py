"""Plan: decide everything about a package before anything runs (options, probe, ladder, locations).

Bad input is refused here, before the output folder or the stores are touched.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
from pathlib import Path

from ..domain.errors import InputError
from ..domain.ids import check_content_id
from ..domain.jobs import Job, new_job_id, user_data
from ..domain.keys import KeySchedule
from ..domain.ladder import choose_ladder, parse_ladder_option
from ..domain.media import MediaInfo
from ..domain.plan import PackageOptions, PackagePlan
from ..domain.settings import Settings
from ..storage import open_storage
from .probe import probe


def default_content_id(source: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "-", Path(source).stem).strip("-").lower()[:40] or "video"
    return f"{stem}-{secrets.token_hex(3)}"


def check_options(options: PackageOptions, settings: Settings) -> tuple[int, str]:
    """The segment duration and key URL the run will use; InputError for a bad option."""
    seg = settings.segment_duration if options.segment_duration is None else options.segment_duration
    if not isinstance(seg, int) or isinstance(seg, bool) or not 1 <= seg <= 60:
        raise InputError(f"--segment-duration must be a whole number of seconds from 1 to 60, got {seg}.")
    key_url = options.key_url or settings.key_url
    if options.encrypt and not re.match(r"^https?://[^/\s]+", key_url or ""):
        raise InputError(f"--key-url must be an http(s) URL such as http://127.0.0.1:8000/keys, got {key_url!r}.")
    if options.rotate_every is not None and options.rotate_every < 1:
        raise InputError("--rotate-key-every must be at least 1 segment.")
    if options.clear_lead < 0:
        raise InputError("--clear-lead must be 0 or more segments.")
    if options.content_id is not None:
        check_content_id(options.content_id)
    for wm in options.watermarks:
        if wm.kind == "image" and not wm.image.startswith("oss://") and not Path(wm.image).is_file():
            raise InputError(f"watermark image {wm.image} does not exist: check the path.")
    return seg, key_url


def probe_source(source: str, settings: Settings) -> MediaInfo:
    """Probe a local file, or an oss:// object through a short-lived signed URL."""
    if not source.startswith("oss://"):
        return probe(source)
    storage, key = open_storage(source, settings)
    if not storage.exists(key):
        raise InputError(f"{source} does not exist: check the bucket and object key.")
    return dataclasses.replace(probe(storage.url(key), name=source), size=storage.size(key))


def plan_package(source: str, out: str, settings: Settings, options: PackageOptions, run_id: str) -> PackagePlan:
    """Everything decided before anything runs. Jobs are made (Submitted) but not stored yet."""
    seg, key_url = check_options(options, settings)
    engine = options.engine or settings.engine
    remote = str(out).startswith("oss://")
    if engine == "mts" and not remote:
        raise InputError("the mts engine writes to OSS: give --out oss://bucket/prefix/.")
    if engine != "mts" and remote:
        raise InputError(
            f"the {engine} engine writes to a folder: give --out DIR, or add --engine mts for an oss:// output."
        )
    definitions = parse_ladder_option(options.ladder)
    media = probe_source(source, settings)
    clip = options.clip
    if clip:
        if clip.seek < 0 or clip.seek >= media.duration:
            raise InputError(
                f"--clip starts at {clip.seek:g} s but {source} lasts {media.duration:.2f} s: choose a start inside the video."
            )
        if clip.duration is not None and (clip.duration <= 0 or clip.seek + clip.duration > media.duration + 0.05):
            raise InputError(
                f"--clip {clip.seek:g}+{clip.duration:g} s ends after the end of {source} ({media.duration:.2f} s): shorten the clip."
            )
    rungs = choose_ladder(media.video.display_width, media.video.display_height, definitions)
    content_id = options.content_id or default_content_id(source)
    if remote:
        # OSS has no rename: each run writes under its own prefix and the master, uploaded last
        # beside them, is what publishes it (pipeline.publish).
        final = f"{str(out).rstrip('/')}/{content_id}"
        staging = f"{final}/{run_id}"
    else:
        out_dir = Path(out).resolve()
        final, staging = str(out_dir / content_id), str(out_dir / f".{content_id}.partial-{os.getpid()}")
    local_source = source if "://" in source else str(Path(source).resolve())
    jobs = {
        rung.name: Job(
            job_id=new_job_id(),
            content_id=content_id,
            definition=rung.name,
            engine=engine,
            run_id=run_id,
            source=local_source,
            user_data=user_data(contentId=content_id, definition=rung.name),
            notify=json.dumps(options.notify) if options.notify else "",
        )
        for rung in rungs
    }
    schedule = KeySchedule(rotate_every=options.rotate_every, clear_lead=options.clear_lead, encrypt=options.encrypt)
    return PackagePlan(
        content_id=content_id,
        run_id=run_id,
        source=str(source),
        media=media,
        rungs=rungs,
        jobs=jobs,
        segment_duration=seg,
        key_url=key_url,
        schedule=schedule,
        keys=[],
        staging=staging,
        out=final,
        watermarks=list(options.watermarks),
        clip=clip,
        user_data={"contentId": content_id},
    )
