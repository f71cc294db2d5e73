"""Settings: every value hlskit can be configured with, as one plain dataclass.

Only the entry points (the CLI and ``create_app``) build it, with :func:`hlskit.config.load_settings`;
everything below receives it (or the parts it needs) as an argument.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .configs import (
    AliyunConfig,
    CeleryConfig,
    FFmpegConfig,
    KmsConfig,
    MnsConfig,
    MpsConfig,
    NotifyConfig,
    OssConfig,
    StoreConfig,
    TokenConfig,
)


def _default_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "hlskit"


@dataclass
class Settings:
    # Where hlskit keeps its state: job store, key store, master key, token secret.
    home: Path = field(default_factory=_default_home)
    job_db: Path | None = None  # default: <home>/jobs.db
    key_db: Path | None = None  # default: <home>/keys.db
    # Job and key store for both: sqlite:///file.db or postgresql://user:password@host:5432/db
    # (hlskit.stores.db); default None: the SQLite files job_db and key_db. Kept out of the repr:
    # the URL may carry a password.
    store_url: str | None = field(default=None, repr=False)
    master_key_file: Path | None = None  # default: <home>/master.key (created 0600 on first use)
    token_secret: str | None = field(
        default=None, repr=False
    )  # default: <home>/token.secret (created 0600 on first use)
    production: bool = False  # refuse default/missing secrets when True

    # Packaging
    key_url: str = "http://127.0.0.1:8000/keys"
    ffmpeg: str | None = None  # default: the binary shipped by imageio-ffmpeg
    x264_preset: str = "veryfast"
    # x264 rate control: "abr" (-b:v at the definition's rate, VBV-capped at 1.5x) or "capped-crf"
    # (-crf, constant quality, under the same -maxrate/-bufsize cap); crf is 0-51, lower is better.
    rate_control: str = "abr"
    crf: int = 23
    # 4 s, not Apple's 6 s: the first LD segment then reaches stock hls.js, Shaka and VHS within
    # 4 s at 700 kb/s (bench/results/fast-start.md); the 2 s keyframe grid divides it, so the
    # encode is the same as at 6 s.
    segment_duration: int = 4
    # The master's first variant, where players without a bandwidth estimate start: "lowest" or a
    # definition name of the ladder (hlskit.hls.master.order_variants).
    start_definition: str = "lowest"
    engine: str = "local"

    # Serving
    media_root: Path = Path("out")
    allowed_origins: str = "self"  # comma-separated origins for key requests; "self" = same origin
    public_origin: str | None = None  # "self" for CORS, e.g. https://video.example.com; default: the listening address
    token_ttl: int = 3600

    # Alibaba Cloud (engine "mts"); secrets from file or environment only
    mts_access_key_id: str | None = None
    mts_access_key_secret: str | None = field(default=None, repr=False)
    mts_region: str = "cn-shanghai"
    mts_endpoint: str | None = None  # override, e.g. a stand-in for tests
    mts_pipeline_id: str | None = None
    mts_mns_queue: str | None = None
    mts_mns_endpoint: str | None = None
    mts_kms_key_id: str | None = None  # set to use KeyType KMS instead of Base64
    mts_kms_endpoint: str | None = None  # override, e.g. a stand-in for tests
    oss_endpoint: str | None = None  # e.g. https://oss-cn-shanghai.aliyuncs.com
    oss_location: str | None = None  # e.g. oss-cn-shanghai

    # Celery engine (docs/distributed.md): a redis:// broker URL (may carry a password: file or
    # environment, never a flag); the title is cut into chunks of about chunk_seconds (whole
    # segments), one task each; workers take tasks from celery_queue; Redis hands a dead worker's
    # task to another after celery_visibility_timeout seconds (longer than any chunk takes to encode).
    broker_url: str | None = None
    chunk_seconds: int = 30
    celery_queue: str = "hlskit"
    celery_visibility_timeout: int = 600
    # Signs every task (HMAC-SHA256), so that a worker runs only what a host holding the same secret
    # sent, not whatever reaches the broker; default: <home>/task.secret (created 0600 on first use).
    # Every worker and the packaging host need the same value.
    task_secret: str | None = field(default=None, repr=False)

    # Notifications
    notify_secret: str | None = field(default=None, repr=False)  # HMAC key for webhook signatures

    def __post_init__(self) -> None:
        self.home = Path(self.home).expanduser()
        self.media_root = Path(self.media_root).expanduser()
        self.job_db = Path(self.job_db) if self.job_db else self.home / "jobs.db"
        self.key_db = Path(self.key_db) if self.key_db else self.home / "keys.db"
        self.master_key_file = Path(self.master_key_file) if self.master_key_file else self.home / "master.key"

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)  # keys and secrets: owner only
        return self.home

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    # --- the narrow configurations the leaves receive (hlskit.domain.configs) ---------------

    def ffmpeg_config(self) -> FFmpegConfig:
        return FFmpegConfig(self.ffmpeg, self.x264_preset, self.rate_control, self.crf)

    def aliyun_config(self) -> AliyunConfig:
        return AliyunConfig(self.mts_access_key_id, self.mts_access_key_secret, self.mts_region)

    def oss_config(self) -> OssConfig:
        return OssConfig(self.aliyun_config(), self.oss_endpoint, self.oss_location, self.home / "oss-uploads")

    def mns_config(self) -> MnsConfig:
        return MnsConfig(self.aliyun_config(), self.mts_mns_endpoint, self.mts_mns_queue)

    def kms_config(self) -> KmsConfig | None:
        """The KMS configuration when data keys come from KMS (mts_kms_key_id set), else None."""
        if not self.mts_kms_key_id:
            return None
        return KmsConfig(self.aliyun_config(), self.mts_kms_key_id, self.mts_kms_endpoint)

    def mps_config(self) -> MpsConfig:
        crf = self.crf if self.rate_control == "capped-crf" else None
        return MpsConfig(
            self.aliyun_config(), self.mts_endpoint, self.mts_pipeline_id, self.oss_config(), self.mns_config(), crf
        )

    def store_config(self) -> StoreConfig:
        assert self.job_db is not None and self.key_db is not None and self.master_key_file is not None
        return StoreConfig(
            self.store_url or self.job_db, self.store_url or self.key_db, self.master_key_file, self.kms_config()
        )

    def celery_config(self) -> CeleryConfig:
        return CeleryConfig(
            self.broker_url,
            self.chunk_seconds,
            self.celery_queue,
            self.celery_visibility_timeout,
            self.store_config(),
            self.ffmpeg_config(),
            self.task_secret,
            self.home,
            self.production,
        )

    def notify_config(self) -> NotifyConfig:
        # mns:QUEUE targets post to Alibaba Cloud MNS: only where an MNS endpoint is configured.
        return NotifyConfig(self.notify_secret, self.home, self.mns_config() if self.mts_mns_endpoint else None)

    def token_config(self) -> TokenConfig:
        return TokenConfig(self.token_secret, self.home, self.production)
