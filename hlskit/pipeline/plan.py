"""Plan: decide everything about a package before anything runs (options, probe, ladder, locations).

Bad input is refused here, before the output folder or the stores are touched.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

from ..domain.errors import InputError
from ..domain.formats import FMP4_ONLY, parse_codecs
from ..domain.ids import check_content_id, is_uri_text
from ..domain.keys import KeySchedule
from ..domain.ladder import Rung, cap_to_source, choose_ladder, parse_ladder_option
from ..domain.media import MediaInfo
from ..domain.names import MP4_SUFFIX, run_staging
from ..domain.plan import Clip, PackageOptions, PackagePlan
from ..domain.runs import Job, new_job_id, user_data
from ..domain.settings import Settings
from ..engines import Engine, engine_options, engines_where
from ..engines.base import FOLDER, OSS, ROOT_RELATIVE
from ..engines.encode import ffmpeg_exe, gop_seconds
from ..hls.master import LOWEST
from ..storage import is_remote, open_storage
from . import pertitle
from .pertitle import parse_target
from .probe import probe
from .tracks import plan_tracks
from .transmux import check_transmux_options, plan_source, source_codec, split_ladder

# Shorter sources make one-frame segments that players stall on and that round to a 0 s
# EXT-X-TARGETDURATION (RFC 8216 §4.3.3.1); they are refused up front instead.
MIN_SECONDS = 0.5


def default_content_id(source: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "-", Path(source).stem).strip("-").lower()[:40] or "video"
    return f"{stem}-{secrets.token_hex(3)}"


def check_options(options: PackageOptions, settings: Settings) -> tuple[int, str]:
    """The segment duration and key URL the run will use; InputError for a bad option."""
    seg = settings.segment_duration if options.segment_duration is None else options.segment_duration
    if not isinstance(seg, int) or isinstance(seg, bool) or not 1 <= seg <= 60:
        raise InputError(f"--segment-duration must be a whole number of seconds from 1 to 60, got {seg}.")
    key_url = options.key_url or settings.key_url
    # A root-relative path ("/keys") is an RFC 3986 §4.2 relative reference: players resolve it
    # against the playlist's URL (RFC 8216 §4.1, RFC 3986 §5), so one package plays from any host.
    # It goes into every EXT-X-KEY's quoted URI: URI characters only.
    if options.encrypt and not (re.match(r"https?://[^/]+|/(?!/)", key_url or "") and is_uri_text(key_url)):
        raise InputError(
            "--key-url must be an http(s) URL such as http://127.0.0.1:8000/keys or a root-relative path "
            f"such as /keys, in URI characters (percent-encode spaces and quotes), got {key_url!r}."
        )
    if options.rotate_every is not None and (not isinstance(options.rotate_every, int) or options.rotate_every < 1):
        raise InputError(
            f"--rotate-key-every must be a whole number of segments, 1 or more, got {options.rotate_every}."
        )
    if not isinstance(options.clear_lead, int) or options.clear_lead < 0:
        raise InputError(f"--clear-lead must be a whole number of segments, 0 or more, got {options.clear_lead}.")
    if options.given_key is not None:
        if not options.encrypt:
            raise InputError("--key-file gives a key but --no-encrypt writes clear segments: pass only one.")
        if options.rotate_every is not None:
            raise InputError("--rotate-key-every makes new keys but --key-file gives one key: pass only one.")
        if settings.mts_kms_key_id:
            raise InputError(
                "a given key cannot be wrapped by KMS (mts_kms_key_id is set): unset it, or drop --key-file."
            )
        if len(options.given_key) != 16 or (options.given_iv is not None and len(options.given_iv) != 16):
            raise InputError("a given key and its IV must be 16 bytes each: give 32 hex characters for each.")
    if options.content_id is not None:
        check_content_id(options.content_id)
    for wm in options.watermarks:
        if wm.kind == "image" and not is_remote(wm.image) and not Path(wm.image).is_file():
            raise InputError(f"watermark image {wm.image} does not exist: check the path.")
    return seg, key_url


def start_definition(options: PackageOptions, settings: Settings, names: list[str]) -> str:
    """The master's first variant: "lowest" or a definition of this ladder (its name, in any case).

    ``--start-definition`` must name a definition of the ladder; the ``start_definition`` setting,
    which applies to every source, falls back to the lowest when a source's ladder lacks it (a
    small source has no FHD)."""
    asked = options.start_definition if options.start_definition is not None else settings.start_definition
    asked = (asked or LOWEST).strip()
    if asked.lower() == LOWEST:
        return LOWEST
    found = next((n for n in names if n.lower() == asked.lower()), None)
    if found:
        return found
    if options.start_definition is None:
        return LOWEST
    raise InputError(
        f"--start-definition {asked} is not a definition of this package's ladder ({', '.join(names)}): "
        f"give one of them or {LOWEST}."
    )


def check_out_folder(out: str) -> None:
    """Refuse an --out that is a file, lies under a file, or cannot be written, before anything is written."""
    target = Path(out).absolute()
    probe_dir = target
    while not probe_dir.exists() and probe_dir != probe_dir.parent:
        probe_dir = probe_dir.parent
    if not probe_dir.is_dir():
        what = "is a file" if probe_dir == target else f"lies under {probe_dir}, which is a file"
        raise InputError(f"--out {out} {what}, not a folder: give a folder path (it is created if missing).")
    # access(2) also reports EROFS, so a read-only mount is caught even for root.
    if not os.access(probe_dir, os.W_OK | os.X_OK):
        where = "" if probe_dir == target else f" (its nearest existing parent {probe_dir})"
        raise InputError(
            f"--out {out}{where} is not writable (read-only file system or no permission): "
            "choose a folder you can write to, or fix its permissions."
        )


def probe_source(source: str, settings: Settings) -> MediaInfo:
    """Probe a local file, or an oss:// object through a short-lived signed URL."""
    if not is_remote(source):
        return probe(source)
    storage, key = open_storage(source, settings.oss_config())
    if not storage.exists(key):
        raise InputError(f"{source} does not exist: check the bucket and object key.")
    return dataclasses.replace(probe(storage.url(key), name=source), size=storage.size(key))


def check_capabilities(engine: Engine, options: PackageOptions, key_url: str, out: str) -> None:
    """Refuse, in one sentence naming an engine that can, what ``engine`` cannot make."""
    caps = engine.capabilities
    name = engine.name
    if is_remote(out) and OSS not in caps.outputs:
        can = engines_where(lambda c: OSS in c.outputs)
        raise InputError(
            f"the {name} engine writes to a folder: give --out DIR{_or_engine(can, 'for an oss:// output')}."
        )
    if not is_remote(out) and FOLDER not in caps.outputs:
        raise InputError(f"the {name} engine writes to OSS: give --out oss://bucket/prefix/.")
    if not options.encrypt:
        return
    if key_url.startswith("/") and ROOT_RELATIVE not in caps.key_urls:
        raise InputError(
            f"the {name} engine needs an absolute --key-url, got {key_url!r}: "
            "give one such as https://keys.example.com/keys."
        )
    if options.rotate_every and not caps.key_rotation:
        can = engines_where(lambda c: c.key_rotation)
        raise InputError(
            f"the {name} engine encrypts each definition with a single key: drop --rotate-key-every{_or_engine(can)}."
        )


def _or_engine(names: list[str], why: str = "") -> str:
    if not names:
        return ""
    return f", or use {engine_options(names)}" + (f" {why}" if why else "")


def _media_length(source: str, media: MediaInfo, clip: Clip | None) -> float:
    """Seconds of the source a package covers (the clip's), refused when the clip or the result is unusable."""
    if clip:
        if clip.seek < 0 or clip.seek >= media.duration:
            raise InputError(
                f"--clip starts at {clip.seek:g} s but {source} lasts {media.duration:.2f} s: choose a start inside the video."
            )
        if clip.duration is not None and (clip.duration <= 0 or clip.seek + clip.duration > media.duration + 0.05):
            raise InputError(
                f"--clip {clip.seek:g}+{clip.duration:g} s ends after the end of {source} ({media.duration:.2f} s): shorten the clip."
            )
    seek = clip.seek if clip else 0.0
    length = min(clip.duration if clip and clip.duration else media.duration - seek, media.duration - seek)
    if length < MIN_SECONDS:
        what = f"--clip {seek:g}+{clip.duration:g} s of {source}" if clip and clip.duration else source
        what = f"{source} from --clip start {seek:g} s" if clip and not clip.duration else what
        raise InputError(
            f"{what} lasts {max(length, 0):.2f} s, too short for an HLS package: give at least {MIN_SECONDS:g} s of video."
        )
    return length


def _per_title(
    source: str, settings: Settings, media: MediaInfo, rungs: list[Rung], options: PackageOptions, seg: int
) -> tuple[list[Rung], dict[str, Any]]:
    """The fixed ladder's rungs, rates lowered where the picture does not need them (pipeline.pertitle)."""
    started = time.perf_counter()
    readable = _readable(source, settings)
    clip = options.clip
    seek = clip.seek if clip else 0.0
    ffmpeg = settings.ffmpeg_config()
    rungs, choices = pertitle.choose(
        ffmpeg_exe(ffmpeg),
        readable,
        media,
        rungs,
        preset=ffmpeg.x264_preset,
        target=parse_target(options.ladder.strip()),
        start=seek,
        length=clip.duration if clip and clip.duration else media.duration - seek,
        keyframe_seconds=gop_seconds(seg),
        fixed_crf=ffmpeg.capped_crf,
    )
    analysis = {
        "target_vmaf": parse_target(options.ladder.strip()),
        "seconds": round(time.perf_counter() - started, 2),
        "rungs": [dataclasses.asdict(c) for c in choices],
    }
    return rungs, analysis


def _readable(source: str, settings: Settings) -> str:
    """What FFmpeg or PyAV open for ``source``: the path, or for oss:// a short-lived signed URL."""
    if not is_remote(source):
        return source
    storage, key = open_storage(source, settings.oss_config())
    return storage.url(key)


def plan_package(
    source: str, out: str, settings: Settings, options: PackageOptions, run_id: str, engine: Engine
) -> PackagePlan:
    """Everything decided before anything runs. Jobs are made (Submitted) but not stored yet."""
    seg, key_url = check_options(options, settings)
    check_capabilities(engine, options, key_url, out)
    codecs = parse_codecs(options.codecs)
    ladder, with_source = split_ladder(options.ladder)
    if options.transmux or with_source:
        check_transmux_options(options, asked_ladder=options.ladder.strip().lower() != "auto")
    if not options.transmux:
        engine.choose_format(options.format, codecs, options.mp4)  # a bad --format or --codec, before the probe
    if not is_remote(out):
        check_out_folder(str(out))
    per_title = ladder.lower().startswith("per-title")
    if per_title:
        parse_target(ladder)  # a bad vmaf=N is refused before the probe
    definitions = None if per_title else parse_ladder_option(ladder)
    media = probe_source(source, settings)
    engine.check_source(media, source)
    length = _media_length(source, media, options.clip)
    notes: list[str] = []
    keyframes: tuple[float, ...] = ()
    analysis = None
    if options.transmux:  # the one SOURCE definition, in the format its codec needs
        codec = source_codec(media)
        wanted = (options.format or "").strip().lower() or ("fmp4" if codec in FMP4_ONLY else "ts")
        # Its refusals name the format that can carry the codec.
        alone = plan_source(_readable(source, settings), media, wanted, seg, required=True)
        assert alone.rung is not None
        codecs = (alone.rung.codec,)
        fmt = engine.choose_format(options.format, codecs, options.mp4)
        rungs, notes = [alone.rung], alone.warnings
    else:
        fmt = engine.choose_format(options.format, codecs, options.mp4)
        rungs = choose_ladder(media.video.display_width, media.video.display_height, definitions)
        if per_title:
            rungs, analysis = _per_title(source, settings, media, rungs, options, seg)
        readable = _readable(source, settings) if with_source else source
        copied = plan_source(readable, media, fmt, seg, required=False) if with_source else None
        if copied is not None and copied.rung is not None:
            rungs, keyframes = [*rungs, copied.rung], copied.keyframes
        rungs, notes = cap_to_source(rungs, round(media.video.bit_rate / 1000) if media.video.bit_rate else None)
        notes += [copied.why] if copied is not None and copied.why else []
    if media.video.interlaced and not options.transmux:
        notes.append(f"the source is interlaced ({media.video.field_order}): it is deinterlaced with bwdif")
    rungs, mp4_rungs = engine.shape_ladder(rungs, codecs, options.mp4)
    if not engine.capabilities.muxed_audio and media.audio is not None:
        options = dataclasses.replace(options, audio_renditions=True)
    tracks = plan_tracks(source, media, options, rungs, ffmpeg_exe(settings.ffmpeg_config()), length)
    notes += tracks.warnings
    if (tracks.audio or tracks.subtitles) and not engine.capabilities.renditions:
        can = engines_where(lambda c: c.renditions)
        raise InputError(
            f"the {engine.name} engine cannot package audio renditions or subtitles (this title has "
            f"{len(tracks.audio)} audio and {len(tracks.subtitles)} subtitle tracks): drop --audio/--subtitles"
            f"{_or_engine(can)}."
        )
    start = start_definition(options, settings, [r.name for r in rungs])
    content_id = options.content_id or default_content_id(source)
    final, staging = _locations(out, content_id, run_id, engine.capabilities.detached)
    local_source = source if "://" in source else str(Path(source).resolve())

    def job(name: str) -> Job:
        return Job(
            job_id=new_job_id(),
            content_id=content_id,
            definition=name,
            engine=engine.name,
            run_id=run_id,
            source=local_source,
            user_data=user_data(contentId=content_id, definition=name),
            notify=json.dumps(options.notify) if options.notify else "",
        )

    schedule = KeySchedule(rotate_every=options.rotate_every, clear_lead=options.clear_lead, encrypt=options.encrypt)
    plan = PackagePlan(
        content_id=content_id,
        run_id=run_id,
        per_title=analysis,
        source=str(source),
        media=media,
        rungs=rungs,
        jobs={rung.name: job(rung.name) for rung in rungs},
        # MPS makes one output per job: each MP4 download is a job of its own, named "<definition>.mp4".
        mp4_jobs={rung.name: job(f"{rung.name}{MP4_SUFFIX}") for rung in mp4_rungs},
        audio=tracks.audio,
        audio_jobs={r.slug: job(r.job_name) for r in tracks.audio},
        subtitles=tracks.subtitles,
        format=fmt,
        segment_duration=seg,
        key_url=key_url,
        schedule=schedule,
        keys=[],
        staging=staging,
        out=final,
        watermarks=list(options.watermarks),
        clip=options.clip,
        user_data={"contentId": content_id},
        start_definition=start,
        keyframes=keyframes,
        notes=notes,
    )
    engine.check_plan(plan)
    return plan


def _locations(out: str, content_id: str, run_id: str, detached: bool = False) -> tuple[str, str]:
    """(where the package is published, where the run writes until then)."""
    if is_remote(out):
        # OSS has no rename: each run writes under its own prefix and the master, uploaded last
        # beside them, is what publishes it (pipeline.publish).
        final = f"{str(out).rstrip('/')}/{content_id}"
        return final, f"{final}/{run_id}"
    out_dir = Path(out).resolve()
    if detached:  # outlives this process: named by its run, which the job store follows (not a pid)
        return str(out_dir / content_id), run_staging(str(out_dir / content_id), run_id)
    return str(out_dir / content_id), str(out_dir / f".{content_id}.partial-{os.getpid()}")
