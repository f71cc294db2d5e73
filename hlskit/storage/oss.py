"""OSS bucket storage with oss2: the Storage protocol over object keys, plus source uploads.

OSS has no rename, but a PUT is atomic (readers see the old object or the new one), so
``write_bytes`` is a plain put_object; a package becomes visible when its master playlist, uploaded
last, appears. ``url`` is the public object URL on a public-read bucket and a signed GET URL
otherwise (signing the playlist alone does not authorise its relative segments: see
docs/alibaba-cloud.md).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..domain.configs import OssConfig
from ..domain.errors import ConfigError, HlskitError, InputError


def lazy_module(name: str) -> ModuleType:
    """``name`` imported on first attribute access (importlib's LazyLoader recipe)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None, f"{name} is not installed"
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    import oss2
else:  # a third of the `hlskit` command's start-up: loaded on first use, when OSS is used at all
    oss2 = lazy_module("oss2")

SIGNED_URL_SECONDS = 3600
PUBLIC_ACLS = ("public-read", "public-read-write")  # oss2.BUCKET_ACL_PUBLIC_READ(_WRITE)


def split_oss_uri(uri: str) -> tuple[str, str]:
    """``oss://bucket/a/b`` → ("bucket", "a/b")."""
    if not uri.startswith("oss://"):
        raise InputError(f"{uri} is not an OSS location: write it as oss://bucket/key.")
    bucket, _, key = uri[len("oss://") :].partition("/")
    if not bucket:
        raise InputError(f"{uri} names no bucket: write it as oss://bucket/key.")
    return bucket, key.strip("/")


class OssStorage:
    """One bucket; paths are object keys."""

    def __init__(self, bucket: oss2.Bucket, *, upload_state_dir: Path | None = None):
        self.bucket = bucket
        self.name = bucket.bucket_name
        self.upload_state_dir = upload_state_dir
        self._public: bool | None = None

    @classmethod
    def from_config(cls, bucket_name: str, config: OssConfig) -> OssStorage:
        ak, secret = config.aliyun.credentials()
        bucket = oss2.Bucket(oss2.Auth(ak, secret), config.endpoint_url, bucket_name, connect_timeout=30)
        return cls(bucket, upload_state_dir=config.upload_state_dir)

    # --- errors -------------------------------------------------------------------------

    def _fail(self, exc: Exception, path: str, doing: str) -> HlskitError:
        where = f"oss://{self.name}/{path}"
        if isinstance(exc, oss2.exceptions.NoSuchKey):
            return InputError(f"{where} does not exist: check the key or upload it first.")
        if isinstance(exc, oss2.exceptions.NoSuchBucket):
            return ConfigError(
                f"OSS bucket {self.name} does not exist at {self.bucket.endpoint}: check the bucket name and oss_endpoint/oss_location."
            )
        if isinstance(exc, oss2.exceptions.RequestError):
            return HlskitError(
                f"cannot reach OSS at {self.bucket.endpoint} while {doing} {where}: check the network and oss_endpoint."
            )
        status = getattr(exc, "status", None)
        code = getattr(exc, "code", "") or ""
        if status == 403 or code in {"AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId"}:
            return ConfigError(
                f"OSS refused {doing} {where} ({code or status}): check the AccessKey and that its RAM user may use bucket {self.name}."
            )
        return HlskitError(
            f"OSS failed {doing} {where} ({code or status}): retry, or check the bucket in the OSS console."
        )

    # --- Storage protocol ---------------------------------------------------------------

    def read_bytes(self, path: str, start: int | None = None, length: int | None = None) -> bytes:
        byte_range = None
        if start is not None or length is not None:
            first = start or 0
            byte_range = (first, None if length is None else first + length - 1)
        try:
            return self.bucket.get_object(path, byte_range=byte_range).read()
        except oss2.exceptions.OssError as exc:
            raise self._fail(exc, path, "reading") from None

    def read_text(self, path: str) -> str:
        return self.read_bytes(path).decode("utf-8")

    def size(self, path: str) -> int:
        try:
            return int(self.bucket.head_object(path).content_length)
        except oss2.exceptions.OssError as exc:
            raise self._fail(exc, path, "measuring") from None

    def exists(self, path: str) -> bool:
        try:
            return bool(self.bucket.object_exists(path))
        except oss2.exceptions.OssError as exc:
            raise self._fail(exc, path, "checking") from None

    def list(self, prefix: str) -> list[str]:
        prefix = prefix.strip("/")
        try:
            if prefix and self.bucket.object_exists(prefix):
                return [prefix]
            keys = [o.key for o in oss2.ObjectIteratorV2(self.bucket, prefix=prefix + "/" if prefix else "")]
        except oss2.exceptions.OssError as exc:
            raise self._fail(exc, prefix, "listing") from None
        return sorted(k for k in keys if not k.endswith("/"))

    def write_bytes(self, path: str, data: bytes, content_type: str | None = None) -> None:
        headers = {"Content-Type": content_type or _guess_type(path)}
        try:
            self.bucket.put_object(path, data, headers=headers)
        except oss2.exceptions.OssError as exc:
            raise self._fail(exc, path, "writing") from None

    def write_text(self, path: str, text: str, content_type: str | None = None) -> None:
        self.write_bytes(path, text.encode("utf-8"), content_type)

    def url(self, path: str) -> str:
        return self.public_url(path) if self.is_public() else self.signed_url(path)

    # --- beyond the protocol ------------------------------------------------------------

    def is_public(self) -> bool:
        """Whether anonymous GETs work (bucket ACL public-read); asked once."""
        if self._public is None:
            try:
                self._public = self.bucket.get_bucket_acl().acl in PUBLIC_ACLS
            except oss2.exceptions.OssError:
                self._public = False  # cannot tell (no oss:GetBucketAcl): signing always works
        return self._public

    def public_url(self, path: str) -> str:
        """``https://<bucket>.<endpoint host>/<key>`` (path-style on an IP endpoint)."""
        return self.bucket._make_url(self.name, path, slash_safe=True)

    def signed_url(self, path: str, expires: int = SIGNED_URL_SECONDS) -> str:
        return self.bucket.sign_url("GET", path, expires, slash_safe=True)

    def upload(self, filename: str | Path, key: str, progress: Callable[[int, int | None], None] | None = None) -> str:
        """Upload a local file (multipart and resumable above 10 MiB); returns oss://bucket/key."""
        filename = Path(filename)
        if not filename.is_file():
            raise InputError(f"{filename} does not exist: check the source path.")
        store = None
        if self.upload_state_dir is not None:
            self.upload_state_dir.mkdir(parents=True, exist_ok=True)
            store = oss2.ResumableStore(root=str(self.upload_state_dir))
        try:
            oss2.resumable_upload(
                self.bucket,
                key,
                str(filename),
                store=store,
                headers={"Content-Type": _guess_type(key)},
                progress_callback=progress,
                num_threads=2,
            )
        except oss2.exceptions.OssError as exc:
            raise self._fail(exc, key, "uploading") from None
        return f"oss://{self.name}/{key}"


def upload_with_progress(storage: OssStorage, filename: str | Path, key: str, label: str = "upload") -> str:
    """``OssStorage.upload`` with a rich progress bar (plain lines when not a terminal)."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        last = [-1]

        def plain(done: int, total: int | None) -> None:
            pct = int(100 * done / total) if total else 100
            if pct // 25 != last[0]:
                last[0] = pct // 25
                console.print(f"{label}: {pct}%", highlight=False)

        return storage.upload(filename, key, plain)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=Path(filename).stat().st_size)
        return storage.upload(filename, key, lambda done, total: bar.update(task, completed=done))


_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".json": "application/json",
    ".mp4": "video/mp4",
    ".png": "image/png",
    ".html": "text/html",
}


def _guess_type(path: str) -> str:
    return _TYPES.get(Path(urlsplit(path).path).suffix.lower(), "application/octet-stream")
