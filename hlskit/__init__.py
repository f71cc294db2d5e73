"""hlskit: encrypted multi-definition HLS, its keys, and a player to check it.

The public Python API, one import per stage (probe → plan → keys → engine → stitch → validate →
publish → notify). Names resolve lazily so that ``import hlskit`` stays cheap for the CLI.

    import hlskit
    settings = hlskit.load_settings()
    result = hlskit.run_package("talk.mp4", "out", settings, hlskit.PackageOptions(ladder="LD,HD"))
    report = hlskit.validate(f"{result.dir}/master.m3u8")
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_settings": "config",
    "Settings": "domain.settings",
    "HlskitError": "domain.errors",
    "InputError": "domain.errors",
    "ConfigError": "domain.errors",
    "JobError": "domain.errors",
    "probe": "pipeline.probe",
    "MediaInfo": "domain.media",
    "Definition": "domain.ladder",
    "Rung": "domain.ladder",
    "PRESETS": "domain.ladder",
    "choose_ladder": "domain.ladder",
    "KeyStore": "stores.keys",
    "DataKey": "domain.keys",
    "KeySchedule": "domain.keys",
    "Job": "domain.runs",
    "JobState": "domain.runs",
    "JobStore": "stores.jobs",
    "PackageOptions": "domain.plan",
    "PackageResult": "pipeline",
    "run_package": "pipeline",
    "submit_package": "pipeline",
    "follow_runs": "pipeline",
    "cancel": "pipeline",
    "restitch": "pipeline",
    "Run": "domain.runs",
    "RunState": "domain.runs",
    "get_engine": "engines",
    "PackagePlan": "domain.plan",
    "Watermark": "domain.plan",
    "Clip": "domain.plan",
    "stitch": "hls.stitch",
    "write_master": "pipeline.master",
    "stitch_playlists": "pipeline.master",
    "validate": "hls.validate",
    "make_token": "keys.tokens",
    "verify_token": "keys.tokens",
    "create_app": "server",
    "Notifier": "notify",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'hlskit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value
