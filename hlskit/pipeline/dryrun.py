"""``--dry-run``: the plan of a package as plain data, touching nothing.

The same planning as a real run (options checked, source probed, ladder chosen), then the exact
command the engine would start (:meth:`hlskit.engines.Engine.command`: the local engine's FFmpeg
command), but no run, job or key is stored and no folder is made. Nothing here holds a key: keys are made when a
run starts, and the FFmpeg command never carries one (segments are encrypted after encoding).
"""

from __future__ import annotations

from typing import Any

from ..domain.manifest import download_uri, playlist_of
from ..domain.names import MASTER, MEDIA_PLAYLIST
from ..domain.plan import PackageOptions
from ..domain.settings import Settings
from ..engines import get_engine
from ..engines.encoders import maxrate_kbps
from ..notify import check_targets
from .plan import plan_package

DRY_RUN_ID = "dry-run"


def dry_run(source: str, out: str, settings: Settings, options: PackageOptions) -> dict[str, Any]:
    """What ``hlskit package`` would do with these arguments, as JSON-ready data."""
    engine = get_engine(options.engine or settings.engine, settings)
    check_targets(options.notify)  # a bad target is refused here too
    plan = plan_package(source, out, settings, options, DRY_RUN_ID, engine)
    media = plan.media
    report: dict[str, Any] = {
        "dry_run": True,
        "content_id": plan.content_id,
        "source": plan.source,
        "engine": engine.name,
        "duration": media.duration if media else None,
        "segment_duration": plan.segment_duration,
        "format": plan.format,
        "encrypt": plan.schedule.encrypt,
        "key_url": plan.key_url if plan.schedule.encrypt else None,
        "given_key": options.given_key is not None,
        "rotate_key_every": plan.schedule.rotate_every,
        "clear_lead": plan.schedule.clear_lead,
        "x264_preset": settings.x264_preset,
        "rate_control": settings.rate_control,
        "crf": settings.crf if settings.rate_control == "capped-crf" else None,
        "ladder": [
            {
                "name": r.name,
                "codec": r.codec,
                "width": r.width,
                "height": r.height,
                "video_kbps": r.definition.video_kbps,
                "maxrate_kbps": maxrate_kbps(r),
                "transmux": r.transmux,
                "why": r.why or None,
                # With audio renditions the definitions carry no audio: the renditions list says what does.
                "audio_kbps": r.definition.audio_kbps if not plan.audio and (media is None or media.audio) else None,
            }
            for r in plan.rungs
        ],
        "renditions": [
            {"type": "AUDIO", "folder": a.folder, "language": a.language, "name": a.name, "default": a.default}
            | {"kbps": a.kbps, "from": a.input if a.input != plan.source else f"{plan.source} (audio {a.stream})"}
            for a in plan.audio
        ]
        + [
            {"type": "SUBTITLES", "folder": s.folder, "language": s.language, "name": s.name, "default": s.default}
            | {"forced": s.forced}
            for s in plan.subtitles
        ],
        "out": plan.out,
        "outputs": [f"{plan.out}/{MASTER}"]
        + [f"{plan.out}/{playlist_of(plan, r.name)}" for r in plan.rungs]
        + [f"{plan.out}/{folder}/{MEDIA_PLAYLIST}" for folder in [r.folder for r in plan.audio + plan.subtitles]]
        + [f"{plan.out}/{download_uri('', name)}" for name in plan.mp4_jobs],
        "staging": plan.staging,
        "per_title": plan.per_title,
        "notes": plan.notes,
        "ffmpeg": engine.command(plan),
    }
    return report
