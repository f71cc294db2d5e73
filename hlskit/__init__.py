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

__version__ = "0.1.0"

_EXPORTS = {
    "load_settings": "config", "Settings": "config",
    "HlskitError": "errors", "InputError": "errors", "ConfigError": "errors", "JobError": "errors",
    "probe": "probe", "MediaInfo": "probe",
    "Definition": "ladder", "Rung": "ladder", "PRESETS": "ladder", "choose_ladder": "ladder",
    "KeyStore": "keys", "DataKey": "keys", "KeySchedule": "keys",
    "Job": "jobs", "JobState": "jobs", "JobStore": "jobs",
    "PackageOptions": "package", "PackageResult": "package", "plan_package": "package",
    "run_package": "package", "submit_package": "package",
    "get_engine": "engines.base", "PackagePlan": "engines.base", "Watermark": "engines.base", "Clip": "engines.base",
    "stitch_package": "hls.master", "stitch_playlists": "hls.master", "validate": "hls.validate",
    "make_token": "tokens", "verify_token": "tokens",
    "create_app": "server",
    "Notifier": "notify",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'hlskit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value
