"""Settings, resolved as: defaults < config file < environment < flags.

The config file is TOML: ``$HLSKIT_CONFIG`` if set, else ``./hlskit.toml`` if present.
Every key can also come from the environment as ``HLSKIT_<KEY>`` (upper case), e.g.
``HLSKIT_HOME``, ``HLSKIT_TOKEN_SECRET``, ``HLSKIT_MTS_ACCESS_KEY_SECRET``. Secrets are read from
the file or the environment only, never from command-line flags (they would land in shell history).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from .domain.errors import ConfigError
from .domain.settings import Settings

_SECRET_KEYS = {"token_secret", "mts_access_key_secret", "notify_secret"}


def _coerce(name: str, kind: Any, raw: Any) -> Any:
    text = str(kind)
    if isinstance(raw, str):
        if "bool" in text:
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if text in {"int", "<class 'int'>"}:
            try:
                return int(raw)
            except ValueError:
                raise ConfigError(
                    f"setting {name} must be a whole number, got {raw!r}: fix it in the config file or environment."
                )
    return raw


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build Settings from defaults, the config file, HLSKIT_* environment variables and overrides.

    ``overrides`` whose value is None are ignored, so CLI flags can be passed straight through.
    """
    values: dict[str, Any] = {}
    path = config_file or os.environ.get("HLSKIT_CONFIG")
    if path is None and Path("hlskit.toml").is_file():
        path = "hlskit.toml"
    known = {f.name: f for f in fields(Settings)}
    if path:
        try:
            data = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist: create it or unset HLSKIT_CONFIG.")
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML ({exc}): fix the syntax.")
        flat = _flatten(data)
        unknown = sorted(set(flat) - set(known))
        if unknown:
            raise ConfigError(f"config file {path} has unknown settings {', '.join(unknown)}: remove or rename them.")
        values.update(flat)
    for name in known:
        env = os.environ.get(f"HLSKIT_{name.upper()}")
        if env is not None and env != "":
            values[name] = env
    for name, value in overrides.items():
        if name in _SECRET_KEYS:
            raise ConfigError(
                f"{name} cannot be passed as a flag: set HLSKIT_{name.upper()} or put it in the config file."
            )
        if value is not None:
            values[name] = value
    values = {k: _coerce(k, known[k].type, v) for k, v in values.items()}
    return Settings(**values)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """[mts] access_key_id = ... becomes mts_access_key_id."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}".replace("-", "_")
        if isinstance(value, dict):
            out.update(_flatten(value, name + "_"))
        else:
            out[name] = value
    return out
