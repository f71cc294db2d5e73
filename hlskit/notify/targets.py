"""Where events go: webhooks (signed POST), local commands, MNS queues; parsed from --notify text."""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable, Iterable
from typing import Any, Protocol
from urllib.parse import urlsplit

from ..aliyun.mns import MnsQueue
from ..domain.configs import NotifyConfig
from ..domain.errors import ConfigError, HlskitError, InputError
from ..domain.ids import is_uri_text
from .events import ATTEMPT_HEADER, EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, load_notify_secret, sign

log = logging.getLogger("hlskit.notify")


# --- targets --------------------------------------------------------------------------------


class DeliveryError(Exception):
    """One attempt failed; ``retry`` says whether another attempt can help."""

    def __init__(self, reason: str, *, retry: bool = True):
        super().__init__(reason)
        self.retry = retry


class Target(Protocol):
    label: str  # for log lines: never holds secrets

    def deliver(self, event: dict[str, Any], body: bytes, attempt: int) -> None:
        """Deliver once or raise DeliveryError."""


class WebhookTarget:
    def __init__(self, url: str, secret: bytes, timeout: float = 10.0):
        self.url = url
        self.secret = secret
        self.timeout = timeout
        parts = urlsplit(url)
        # Query strings and user info may hold tokens: keep them out of logs.
        self.label = f"{parts.scheme}://{parts.hostname}{':%d' % parts.port if parts.port else ''}{parts.path}"

    def deliver(self, event: dict[str, Any], body: bytes, attempt: int) -> None:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "hlskit-notify/1",
            SIGNATURE_HEADER: sign(self.secret, body),
            TIMESTAMP_HEADER: str(event["time"]),
            EVENT_ID_HEADER: event["id"],
            ATTEMPT_HEADER: str(attempt),
        }
        import requests  # loaded on first use: it cost every hlskit command 30 ms at start

        try:
            resp = requests.post(self.url, data=body, headers=headers, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise DeliveryError(type(exc).__name__)
        if 200 <= resp.status_code < 300:
            return
        retry = resp.status_code in (408, 429) or resp.status_code >= 500
        raise DeliveryError(f"HTTP {resp.status_code}", retry=retry)


class CommandTarget:
    # 20 s: inside the 30 s Notifier.close() waits at exit, so a hung command is reported and killed
    def __init__(self, argv: list[str], timeout: float = 20.0):
        self.argv = argv
        self.timeout = timeout
        self.label = f"exec:{argv[0]}"
        self._running: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        """End a command still running (hlskit is exiting): it does not outlive hlskit."""
        proc = self._running
        if proc is not None and proc.poll() is None:
            proc.kill()

    def deliver(self, event: dict[str, Any], body: bytes, attempt: int) -> None:
        # hlskit's own settings stay out of the command's environment: they hold its secrets
        # (HLSKIT_TOKEN_SECRET, the store URL's password ...), and a target may come from a batch file
        env = {k: v for k, v in os.environ.items() if not k.startswith("HLSKIT_")}
        env |= {"HLSKIT_EVENT_ID": event["id"], "HLSKIT_EVENT_TYPE": event["type"]}
        try:
            proc = self._running = subprocess.Popen(
                self.argv, stdin=subprocess.PIPE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
        except OSError as exc:
            raise DeliveryError(exc.strerror or type(exc).__name__, retry=False)
        try:
            _, err = proc.communicate(body, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise DeliveryError(f"timed out after {self.timeout:g} s")
        finally:
            self._running = None
        if proc.returncode != 0:
            last = (err.decode(errors="replace").strip().splitlines() or [""])[-1][:200]
            raise DeliveryError(f"exit status {proc.returncode}" + (f" ({last})" if last else ""))


TargetFactory = Callable[[str, NotifyConfig], Target]  # (target text, config) → Target
_FACTORIES: dict[str, TargetFactory] = {}


def register_target(scheme: str, factory: TargetFactory) -> None:
    """Extension point: the mts engine registers ``mns`` here."""
    _FACTORIES[scheme] = factory


def _webhook(spec: str, config: NotifyConfig) -> Target:
    _check_url(spec)
    return WebhookTarget(spec, load_notify_secret(config))


def shown(spec: str) -> str:
    """A target as errors show it: a URL without its user info and query, a command without its
    arguments (either may hold a token)."""
    if spec.partition(":")[0].lower() == "exec":
        words = spec.split()
        return words[0] + (" ..." if len(words) > 1 else "")
    masked = re.sub(r"^([^:/?#]*://)[^/?#]*@", r"\1***@", spec)
    return re.sub(r"[?#].*", "?***", masked, flags=re.DOTALL)


def _check_url(spec: str) -> None:
    try:
        parts = urlsplit(spec)
        host, _ = parts.hostname, parts.port  # port: ValueError when it is not a number 0-65535
    except ValueError as exc:  # an unclosed [IPv6] bracket, a bad port
        raise InputError(f"notify target {shown(spec)!r} is not a valid URL ({exc}): write https://host[:port]/path.")
    if not host:
        raise InputError(f"notify target {shown(spec)!r} has no host: write https://host/path.")
    if not is_uri_text(spec):
        raise InputError(
            f"notify target {shown(spec)!r} holds characters a URL cannot (a space, a quote, a control character): "
            "percent-encode them."
        )


def _command(spec: str, config: NotifyConfig) -> Target:
    return CommandTarget(_argv(spec))


def _argv(spec: str) -> list[str]:
    try:
        argv = shlex.split(spec[len("exec:") :])
    except ValueError as exc:
        raise InputError(f"notify target {shown(spec)!r} cannot be split into words ({exc}): fix its quotes.")
    if not argv:
        raise InputError(f"notify target {shown(spec)!r} names no command: write exec:/path/to/cmd [args].")
    if not shutil.which(argv[0]):
        fix = "check the path and its execute permission" if "/" in argv[0] else "give its full path"
        raise InputError(f"notify command {argv[0]!r} is not an executable file: {fix}.")
    return argv


register_target("http", _webhook)
register_target("https", _webhook)
register_target("exec", _command)


def parse_target(spec: str, config: NotifyConfig) -> Target:
    return _factory(spec)(spec, config)


def given(specs: Iterable[str]) -> list[str]:
    """The targets named in ``specs`` (``--notify`` values), blank ones left out."""
    return [s.strip() for s in specs if s and s.strip()]


def check_targets(specs: Iterable[str]) -> None:
    """Refuse a bad target as :func:`parse_target` would, making nothing (no webhook secret file):
    for ``--dry-run``. An extension's scheme (``mns``) is only checked to be known."""
    for spec in given(specs):
        _check(spec)


def _check(spec: str) -> None:
    _factory(spec)  # an unknown scheme is refused
    scheme = spec.partition(":")[0].lower()
    if scheme in ("http", "https"):
        _check_url(spec)
    elif scheme == "exec":
        _argv(spec)


def _factory(spec: str) -> TargetFactory:
    factory = _FACTORIES.get(spec.partition(":")[0].lower())
    if factory is None:
        raise InputError(
            f"notify target {shown(spec)!r} is not supported: use https://..., http://... or exec:/path/to/cmd."
        )
    return factory


class MnsTarget:
    """Notification target ``mns:<queue>``: the event JSON as one MNS message (hlskit.notify)."""

    def __init__(self, queue: MnsQueue):
        self.queue = queue
        self.label = f"mns:{queue.queue}"

    def deliver(self, event: dict, body: bytes, attempt: int) -> None:
        try:
            self.queue.send(body.decode("utf-8"))
        except ConfigError as exc:
            raise DeliveryError(exc.message, retry=False) from None
        except HlskitError as exc:
            raise DeliveryError(exc.message) from None


def _notify_target(spec: str, config: NotifyConfig) -> MnsTarget:
    if config.mns is None:
        raise InputError(
            f"notify target {shown(spec)!r}: MNS notifications need an MNS endpoint: set HLSKIT_MTS_MNS_ENDPOINT to "
            "https://<account-id>.mns.<region>.aliyuncs.com (and the Alibaba Cloud credentials)."
        )
    name = spec.partition(":")[2].strip("/")
    if not name:
        raise InputError(f"notify target {shown(spec)!r} names no queue: write mns:<queue name>.")
    return MnsTarget(MnsQueue.from_config(config.mns, name))


register_target("mns", _notify_target)
