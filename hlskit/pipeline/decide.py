"""Decide per video: what a source is and what ``hlskit package`` would make of it (``hlskit probe``).

"Not all videos require transcoding": a caller's script (or a batch file) reads this and chooses
``--transmux`` (the source copied), ``--ladder auto+source`` or an encode, knowing each rung's rate
and why it was capped. Nothing is written; the plan is the real planner's (a dry run).
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

from ..domain.errors import InputError
from ..domain.plan import PackageOptions
from ..domain.settings import Settings
from ..engines.subtitles import source_tracks
from .dryrun import dry_run
from .plan import probe_source
from .probe import keyframe_times
from .transmux import plan_source, source_codec


def describe(source: str, settings: Settings) -> dict[str, Any]:
    """The source's facts, whether it can be transmuxed (TS, fMP4), and the plans of ``--transmux``
    and of ``--ladder auto+source`` (rungs with their effective rates and the reasons)."""
    media = probe_source(source, settings)
    local = Path(source).is_file()
    times = [abs(t) for t in keyframe_times(source, media.video.index)] if local else []
    gaps = [b - a for a, b in zip(times, [*times[1:], media.duration])]
    report: dict[str, Any] = {
        "source": dataclasses.asdict(media),
        "keyframes": {"count": len(times), "longest_gap": round(max(gaps), 3) if gaps else None},
        "tracks": [dataclasses.asdict(t) for t in source_tracks(source)] if local else [],
        "transmux": {},
        "plans": {},
    }
    segment = settings.segment_duration
    for fmt in ("ts", "fmp4"):
        if not local:
            report["transmux"][fmt] = {"possible": None, "why": "a remote source's keyframes are not read here"}
            continue
        try:
            fit = plan_source(source, media, fmt, segment, required=True)
        except InputError as exc:
            report["transmux"][fmt] = {"possible": False, "why": exc.message}
            continue
        codec = (source_codec(media) or "").upper()
        report["transmux"][fmt] = {"possible": True, "why": "; ".join(fit.warnings) or f"{codec} fits {fmt}"}
    out = str(Path(tempfile.gettempdir()) / "hlskit-probe")
    for name, options in (
        ("encode", PackageOptions()),
        ("auto+source", PackageOptions(ladder="auto+source")),
        ("transmux", PackageOptions(transmux=True)),
    ):
        try:
            plan = dry_run(source, out, settings, options)
            report["plans"][name] = {k: plan[k] for k in ("format", "ladder", "renditions", "notes")}
        except InputError as exc:
            report["plans"][name] = {"refused": exc.message}
    return report
