"""Settings, resolved as: defaults < config file < environment < flags.

The config file is TOML: ``$HLSKIT_CONFIG`` if set, else ``./hlskit.toml`` if present.
Every key can also come from the environment as ``HLSKIT_<KEY>`` (upper case), e.g.
``HLSKIT_HOME``, ``HLSKIT_TOKEN_SECRET``, ``HLSKIT_MTS_ACCESS_KEY_SECRET``. Secrets are read from
the file or the environment only, never from command-line flags (they would land in shell history).

The home (job store, key store, master key, token secret) is, in order: a flag, ``HLSKIT_HOME``,
``home`` in the config file, a project-local ``.hlskit/`` folder found from the current folder
upwards (the way git finds ``.git``), else ``~/.local/share/hlskit``. So ``make demo`` and every
command run anywhere inside the checkout share the checkout's ``.hlskit/``.

A ``.hlskit/`` or ``./hlskit.toml`` found that way must belong to the user running hlskit: in a
shared folder another user could plant a home whose master key and token secret they know, or a
config naming their own ``ffmpeg`` (git refuses a repository owned by someone else for the same
reason, CVE-2022-24765). One named on purpose (a flag, the environment) is the user's choice.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .domain.errors import ConfigError
from .domain.settings import Settings

SECRET_SETTINGS = frozenset({"token_secret", "mts_access_key_secret", "notify_secret", "task_secret"})
PROJECT_HOME = ".hlskit"


@dataclass(frozen=True)
class Source:
    """Where one setting came from: kind is default, file, env, flag or project."""

    kind: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind} ({self.detail})" if self.detail else self.kind


@dataclass
class Resolved:
    """Settings plus where each came from, for ``hlskit config`` and ``hlskit doctor``."""

    settings: Settings
    sources: dict[str, Source]
    config_file: Path | None
    config_source: str  # "HLSKIT_CONFIG", "--config", "./hlskit.toml" or "" (none)


def find_project_home(start: Path | None = None) -> Path | None:
    """The nearest ``.hlskit/`` folder in ``start`` (default: the current folder) or above it."""
    try:
        folder = (start or Path.cwd()).resolve()
    except OSError:  # the current folder was deleted under us
        return None
    for candidate in (folder, *folder.parents):
        if (candidate / PROJECT_HOME).is_dir():
            home = candidate / PROJECT_HOME
            _check_owner(home, "set HLSKIT_HOME to a home of your own, or remove it")
            return home
    return None


def _check_owner(path: Path, fix: str) -> None:
    """ConfigError when ``path``, found rather than named, belongs to another user (see the module doc)."""
    owner = path.stat().st_uid
    if hasattr(os, "geteuid") and owner != os.geteuid():
        raise ConfigError(f"{path} belongs to another user (uid {owner}), so hlskit will not use it: {fix}.")


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


def _config_path(config_file: str | Path | None) -> tuple[Path | None, str]:
    if config_file:
        return Path(config_file), "--config"
    if os.environ.get("HLSKIT_CONFIG"):
        return Path(os.environ["HLSKIT_CONFIG"]), "HLSKIT_CONFIG"
    if Path("hlskit.toml").is_file():
        _check_owner(Path("hlskit.toml"), "pass it with --config if you trust it, or remove it")
        return Path("hlskit.toml"), "./hlskit.toml"
    return None, ""


def _read_config(path: Path, how: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        fix = "unset HLSKIT_CONFIG" if how == "HLSKIT_CONFIG" else "pass an existing file"
        raise ConfigError(f"config file {path} does not exist: create it or {fix}.")
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML ({exc}): fix the syntax.")
    return _flatten(data)


def resolve_settings(config_file: str | Path | None = None, **overrides: Any) -> Resolved:
    """Settings from defaults, the config file, HLSKIT_* environment variables and overrides,
    with the source of each. ``overrides`` whose value is None are ignored, so CLI flags can be
    passed straight through."""
    known = {f.name: f for f in fields(Settings)}
    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    path, how = _config_path(config_file)
    if path is not None:
        flat = _read_config(path, how)
        unknown = sorted(set(flat) - set(known))
        if unknown:
            raise ConfigError(f"config file {path} has unknown settings {', '.join(unknown)}: remove or rename them.")
        values.update(flat)
        sources.update({name: Source("file", str(path)) for name in flat})
    for name in known:
        env = os.environ.get(f"HLSKIT_{name.upper()}")
        if env is not None and env != "":
            values[name] = env
            sources[name] = Source("env", f"HLSKIT_{name.upper()}")
    for name, value in overrides.items():
        if name in SECRET_SETTINGS:
            raise ConfigError(
                f"{name} cannot be passed as a flag: set HLSKIT_{name.upper()} or put it in the config file."
            )
        if value is not None:
            values[name] = value
            sources[name] = Source("flag")
    if "home" not in values:
        project = find_project_home()
        if project is not None:
            values["home"] = project
            sources["home"] = Source("project", f"{PROJECT_HOME}/ found in {project.parent}")
    values = {k: _coerce(k, known[k].type, v) for k, v in values.items()}
    settings = Settings(**values)
    for name in known:
        if name not in sources:
            derived = name in {"job_db", "key_db", "master_key_file"}
            sources[name] = Source("default", "in the home" if derived else "")
    return Resolved(settings, sources, path, how)


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build Settings from defaults, the config file, HLSKIT_* environment variables and overrides.

    ``overrides`` whose value is None are ignored, so CLI flags can be passed straight through.
    """
    return resolve_settings(config_file, **overrides).settings


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
