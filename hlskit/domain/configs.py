"""Narrow configurations for the leaves, derived from :class:`~hlskit.domain.settings.Settings`.

Each leaf (the FFmpeg engine, the stores, Alibaba Cloud calls, OSS, notifications, tokens)
receives only the values it uses, as one of these frozen dataclasses, built by the Settings
methods of the same name at the entry points. Secrets are kept out of every ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError


@dataclass(frozen=True)
class FFmpegConfig:
    """The FFmpeg binary (None: the one shipped by imageio-ffmpeg) and x264's rate control."""

    path: str | None = None
    x264_preset: str = "veryfast"
    rate_control: str = "abr"  # "abr" or "capped-crf"
    crf: int = 23

    @property
    def capped_crf(self) -> int | None:
        """The CRF when rate control is capped-crf, else None (ABR aims at each definition's rate)."""
        return self.crf if self.rate_control == "capped-crf" else None


@dataclass(frozen=True)
class AliyunConfig:
    """The AccessKey pair and region: from the config file or the environment, never flags."""

    access_key_id: str | None = None
    access_key_secret: str | None = field(default=None, repr=False)
    region: str = "cn-shanghai"

    def credentials(self) -> tuple[str, str]:
        if not self.access_key_id or not self.access_key_secret:
            raise ConfigError(
                "Alibaba Cloud credentials are missing: set HLSKIT_MTS_ACCESS_KEY_ID and "
                "HLSKIT_MTS_ACCESS_KEY_SECRET (or access_key_id/access_key_secret under [mts] in the config file)."
            )
        return self.access_key_id, self.access_key_secret


@dataclass(frozen=True)
class OssConfig:
    aliyun: AliyunConfig = AliyunConfig()
    endpoint: str | None = None  # e.g. https://oss-cn-shanghai.aliyuncs.com; default from location
    location: str | None = None  # e.g. oss-cn-shanghai; default oss-<region>
    upload_state_dir: Path | None = None  # resumable uploads remember their parts here

    @property
    def region_location(self) -> str:
        return self.location or f"oss-{self.aliyun.region}"

    @property
    def endpoint_url(self) -> str:
        """``endpoint`` if set (https:// added when bare), else the public endpoint of the location."""
        if self.endpoint:
            return self.endpoint if "://" in self.endpoint else f"https://{self.endpoint}"
        return f"https://{self.region_location}.aliyuncs.com"


@dataclass(frozen=True)
class MnsConfig:
    aliyun: AliyunConfig = AliyunConfig()
    endpoint: str | None = None  # https://<account-id>.mns.<region>.aliyuncs.com
    queue: str | None = None  # the MPS pipeline's completion queue


@dataclass(frozen=True)
class KmsConfig:
    aliyun: AliyunConfig = AliyunConfig()
    key_id: str | None = None  # set: data keys come from KMS (KeyType KMS), not the master key
    endpoint: str | None = None  # override, e.g. a stand-in for tests

    @property
    def endpoint_host(self) -> str:
        return self.endpoint or f"kms.{self.aliyun.region}.aliyuncs.com"


@dataclass(frozen=True)
class MpsConfig:
    aliyun: AliyunConfig = AliyunConfig()
    endpoint: str | None = None  # override, e.g. a stand-in for tests
    pipeline_id: str | None = None
    oss: OssConfig = OssConfig()
    mns: MnsConfig = MnsConfig()
    crf: int | None = None  # Video.Crf when rate control is capped-crf

    @property
    def endpoint_host(self) -> str:
        return self.endpoint or f"mts.{self.aliyun.region}.aliyuncs.com"


@dataclass(frozen=True)
class StoreConfig:
    """Where the job store and the key store live, and how keys are wrapped."""

    # An SQLite file, or a sqlite:///… / postgresql://… store URL (which may carry a password).
    jobs: str | Path = field(repr=False)
    keys: str | Path = field(repr=False)
    master_key_file: Path = Path("master.key")
    kms: KmsConfig | None = None  # set when keys are made in KMS: the key service unwraps with Decrypt


@dataclass(frozen=True)
class CeleryConfig:
    """The Celery engine and its workers: the broker, how a title is cut, and the shared stores.

    ``broker_url`` may carry a password (``redis://:secret@host:6379/0``): kept out of every repr."""

    broker_url: str | None = field(default=None, repr=False)
    chunk_seconds: int = 30  # rounded to whole segments per run (engines.celery.chunks)
    queue: str = "hlskit"
    # Redis redelivers a task a worker took but never acknowledged (it died) only after this many
    # seconds; a task running longer than this is delivered twice (harmless, but work is wasted).
    visibility_timeout: int = 600
    store: StoreConfig | None = None  # the job and key stores (PostgreSQL when hosts differ)
    ffmpeg: FFmpegConfig = FFmpegConfig()
    task_secret: str | None = field(default=None, repr=False)  # else <home>/task.secret
    home: Path = Path(".")
    production: bool = False  # refuse a missing or weak task secret instead of making one


@dataclass(frozen=True)
class NotifyConfig:
    secret: str | None = field(default=None, repr=False)  # HMAC key for webhook signatures
    home: Path = Path(".")  # where notify.secret is created when no secret is set
    mns: MnsConfig | None = None  # mns:QUEUE targets (MPS's own notification channel)


@dataclass(frozen=True)
class TokenConfig:
    secret: str | None = field(default=None, repr=False)
    home: Path = Path(".")  # where token.secret is created when no secret is set
    production: bool = False  # refuse missing or weak secrets
