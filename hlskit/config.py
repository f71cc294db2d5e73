"""Settings, resolved as: defaults < config file < environment < flags.

The config file is TOML: ``$HLSKIT_CONFIG`` if set, else ``./hlskit.toml`` if present.
Every key can also come from the environment as ``HLSKIT_<KEY>`` (upper case), e.g.
``HLSKIT_HOME``, ``HLSKIT_TOKEN_SECRET``, ``HLSKIT_MTS_ACCESS_KEY_SECRET``. Secrets are read from
the file or the environment only, never from command-line flags (they would land in shell history).
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError


def _default_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "hlskit"


@dataclass
class Settings:
    # Where hlskit keeps its state: job store, key store, master key, token secret.
    home: Path = field(default_factory=_default_home)
    job_db: Path | None = None          # default: <home>/jobs.db
    key_db: Path | None = None          # default: <home>/keys.db
    master_key_file: Path | None = None  # default: <home>/master.key (created 0600 on first use)
    token_secret: str | None = None     # default: <home>/token.secret (created 0600 on first use)
    production: bool = False            # refuse default/missing secrets when True

    # Packaging
    key_url: str = "http://127.0.0.1:8000/keys"
    ffmpeg: str | None = None           # default: the binary shipped by imageio-ffmpeg
    x264_preset: str = "veryfast"
    segment_duration: int = 6
    engine: str = "local"

    # Serving
    media_root: Path = Path("out")
    allowed_origins: str = "self"        # comma-separated origins for key requests; "self" = same origin
    token_ttl: int = 3600

    # Alibaba Cloud (engine "mts"); secrets from file or environment only
    mts_access_key_id: str | None = None
    mts_access_key_secret: str | None = None
    mts_region: str = "cn-shanghai"
    mts_endpoint: str | None = None      # override, e.g. a stand-in for tests
    mts_pipeline_id: str | None = None
    mts_mns_queue: str | None = None
    mts_mns_endpoint: str | None = None
    mts_kms_key_id: str | None = None     # set to use KeyType KMS instead of Base64
    mts_kms_endpoint: str | None = None   # override, e.g. a stand-in for tests
    oss_endpoint: str | None = None       # e.g. https://oss-cn-shanghai.aliyuncs.com
    oss_location: str | None = None       # e.g. oss-cn-shanghai

    # Notifications
    notify_secret: str | None = None      # HMAC key for webhook signatures

    def __post_init__(self) -> None:
        self.home = Path(self.home).expanduser()
        self.media_root = Path(self.media_root).expanduser()
        self.job_db = Path(self.job_db) if self.job_db else self.home / "jobs.db"
        self.key_db = Path(self.key_db) if self.key_db else self.home / "keys.db"
        self.master_key_file = (
            Path(self.master_key_file) if self.master_key_file else self.home / "master.key"
        )

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)


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
                raise ConfigError(f"setting {name} must be a whole number, got {raw!r}: fix it in the config file or environment.")
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
    for name, f in known.items():
        env = os.environ.get(f"HLSKIT_{name.upper()}")
        if env is not None and env != "":
            values[name] = env
    for name, value in overrides.items():
        if name in _SECRET_KEYS:
            raise ConfigError(f"{name} cannot be passed as a flag: set HLSKIT_{name.upper()} or put it in the config file.")
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
