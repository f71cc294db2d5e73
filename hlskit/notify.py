"""Completion notifications: an event when a job or a whole package ends, sent to each target.

Events use MPS's message field names, plus an ``id`` and a ``time``:

* job ended::

    {"id": "Transcode.<jobId>", "type": "Transcode", "state": "Success"|"Fail", "jobId", "contentId",
     "definition", "code", "message", "userData", "time"}

  A cancelled job is ``"state": "Fail"`` with ``"code": "Cancelled"`` (MPS messages know only
  Success and Fail).
* package ended (after stitch, validate and publish, or when the package failed)::

    {"id": "Package.<contentId>.<n>", "type": "Package", "state": "Success"|"Fail", "contentId",
     "code", "message", "userData", "output", "jobs": [{"jobId", "definition", "state", "code"}], "time"}

``userData`` is the job's UserData text, as MPS echoes it. ``time`` is when the event was made
(Unix seconds). ``id`` is stable for a job (a job ends once), so a receiver can drop repeats by id:
a retry after a lost response, or the same job reported by two processes, carries the same id.

Targets (``--notify`` flags, a batch row's ``notify`` cell, space separated):

* ``https://...`` / ``http://...``: POST of the event JSON (``Content-Type: application/json``) with

  - ``X-Hlskit-Signature: sha256=<hex HMAC-SHA256 of the exact body>``, keyed by the notify secret,
  - ``X-Hlskit-Timestamp: <event time>`` (same value as the signed body's ``time``, so a receiver
    may refuse stale events), ``X-Hlskit-Event-Id: <id>``, ``X-Hlskit-Delivery-Attempt: <n>``.

  Any 2xx ends delivery; 408, 429, 5xx and network errors are retried with exponential backoff;
  other answers are final. Redirects are not followed. Verify with :func:`verify_signature`.
* ``exec:/path/to/cmd arg ...``: runs the command (no shell; split like a shell would) with the
  event JSON on stdin and ``HLSKIT_EVENT_ID`` / ``HLSKIT_EVENT_TYPE`` in its environment;
  exit status 0 is delivered, anything else is retried like a 5xx.
* ``mns:...``: MNS queues belong to the mts engine (MPS itself publishes to the pipeline's queue);
  it registers a factory with :func:`register_target`.

The notify secret is ``Settings.notify_secret`` (config file or ``HLSKIT_NOTIFY_SECRET``), else
the file ``<home>/notify.secret``, created on first use with 64 random hex characters and mode
0600; give that text to the receiver. It is never taken from a flag.

Delivery never blocks encoding: events go to one background thread. A failed delivery is logged
as one line on the ``hlskit.notify`` logger and never raises into the caller. Call
:meth:`Notifier.close` before the process exits so pending events are flushed.
"""
from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import logging
import os
import random
import secrets
import shlex
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol
from urllib.parse import urlsplit

import requests

from .errors import ConfigError, InputError
from .jobs import Job, JobState
from .secretfile import read_secret_file

log = logging.getLogger("hlskit.notify")

SIGNATURE_HEADER = "X-Hlskit-Signature"
TIMESTAMP_HEADER = "X-Hlskit-Timestamp"
EVENT_ID_HEADER = "X-Hlskit-Event-Id"
ATTEMPT_HEADER = "X-Hlskit-Delivery-Attempt"


# --- events ---------------------------------------------------------------------------------

def _mps_state(state: JobState) -> str:
    return "Success" if state == JobState.SUCCESS else "Fail"


def job_event(job: Job) -> dict[str, Any]:
    """The ``Transcode`` event for a finished job."""
    return {
        "id": f"Transcode.{job.job_id}",
        "type": "Transcode",
        "state": _mps_state(job.state),
        "jobId": job.job_id,
        "contentId": job.content_id,
        "definition": job.definition,
        "code": job.code or ("Cancelled" if job.state == JobState.CANCELLED else ""),
        "message": job.message,
        "userData": job.user_data,
        "time": int(job.finished_at or time.time()),
    }


_package_serial = itertools.count(1)


def package_event(content_id: str, jobs: Iterable[Job], *, code: str = "", message: str = "",
                  output: str = "", user_data: str = "") -> dict[str, Any]:
    """The ``Package`` event: Success only when every job succeeded and no later stage failed (code)."""
    jobs = list(jobs)
    ok = bool(jobs) and not code and all(j.state == JobState.SUCCESS for j in jobs)
    now = time.time()
    return {
        # A content id can be packaged again, so the id adds time and a counter.
        "id": f"Package.{content_id}.{int(now * 1000)}{next(_package_serial):03d}",
        "type": "Package",
        "state": "Success" if ok else "Fail",
        "contentId": content_id,
        "code": code or ("" if ok else "JobFailed"),
        "message": message,
        "userData": user_data,
        "output": output,
        "jobs": [{"jobId": j.job_id, "definition": j.definition, "state": _mps_state(j.state),
                  "code": j.code} for j in jobs],
        "time": int(now),
    }


def encode_event(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":"), sort_keys=True).encode()


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes | str, body: bytes, header: str | None) -> bool:
    """For receivers: does ``X-Hlskit-Signature`` match this exact body? (constant time)"""
    if not header:
        return False
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.compare_digest(sign(key, body), header.strip())


def load_notify_secret(settings) -> bytes:
    """Settings.notify_secret, else ``<home>/notify.secret`` (created 0600 on first use)."""
    if settings.notify_secret:
        return settings.notify_secret.encode()
    path = Path(settings.home) / "notify.secret"
    secret = read_secret_file(path, lambda: secrets.token_hex(32).encode(), "notify secret").decode().strip()
    if len(secret) < 32:
        raise ConfigError(f"notify secret file {path} holds fewer than 32 characters: delete it to make a new one.")
    return secret.encode()


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
        try:
            resp = requests.post(self.url, data=body, headers=headers, timeout=self.timeout,
                                 allow_redirects=False)
        except requests.RequestException as exc:
            raise DeliveryError(type(exc).__name__)
        if 200 <= resp.status_code < 300:
            return
        retry = resp.status_code in (408, 429) or resp.status_code >= 500
        raise DeliveryError(f"HTTP {resp.status_code}", retry=retry)


class CommandTarget:
    def __init__(self, argv: list[str], timeout: float = 60.0):
        self.argv = argv
        self.timeout = timeout
        self.label = f"exec:{argv[0]}"

    def deliver(self, event: dict[str, Any], body: bytes, attempt: int) -> None:
        env = {**os.environ, "HLSKIT_EVENT_ID": event["id"], "HLSKIT_EVENT_TYPE": event["type"]}
        try:
            done = subprocess.run(self.argv, input=body, env=env, timeout=self.timeout,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except subprocess.TimeoutExpired:
            raise DeliveryError(f"timed out after {self.timeout:g} s")
        except OSError as exc:
            raise DeliveryError(exc.strerror or type(exc).__name__, retry=False)
        if done.returncode != 0:
            last = (done.stderr.decode(errors="replace").strip().splitlines() or [""])[-1][:200]
            raise DeliveryError(f"exit status {done.returncode}" + (f" ({last})" if last else ""))


TargetFactory = Callable[[str, Any], Target]  # (target text, settings) → Target
_FACTORIES: dict[str, TargetFactory] = {}


def register_target(scheme: str, factory: TargetFactory) -> None:
    """Extension point: the mts engine registers ``mns`` here."""
    _FACTORIES[scheme] = factory


def _webhook(spec: str, settings) -> Target:
    if not urlsplit(spec).hostname:
        raise InputError(f"notify target {spec!r} has no host: write https://host/path.")
    return WebhookTarget(spec, load_notify_secret(settings))


def _command(spec: str, settings) -> Target:
    try:
        argv = shlex.split(spec[len("exec:"):])
    except ValueError as exc:
        raise InputError(f"notify target {spec!r} cannot be split into words ({exc}): fix its quotes.")
    if not argv:
        raise InputError(f"notify target {spec!r} names no command: write exec:/path/to/cmd [args].")
    if not shutil.which(argv[0]):
        raise InputError(f"notify command {argv[0]!r} is not an executable file: give its full path.")
    return CommandTarget(argv)


register_target("http", _webhook)
register_target("https", _webhook)
register_target("exec", _command)


def parse_target(spec: str, settings) -> Target:
    scheme = spec.partition(":")[0].lower()
    factory = _FACTORIES.get(scheme)
    if factory is None:
        if scheme == "mns":
            raise InputError(f"notify target {spec!r}: MNS notifications need --engine mts (MPS publishes to the pipeline's queue).")
        raise InputError(f"notify target {spec!r} is not supported: use https://..., http://... or exec:/path/to/cmd.")
    return factory(spec, settings)


# --- delivery -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Retry:
    attempts: int = 6          # 1 try + 5 retries: about 31 s of backoff with the defaults
    first_delay: float = 1.0   # seconds before the 2nd attempt; doubles each time
    max_delay: float = 60.0

    def delay(self, attempt: int) -> float:
        base = min(self.max_delay, self.first_delay * 2 ** (attempt - 1))
        return base * (1 + random.random() * 0.2)  # jitter: many senders must not retry in step


@dataclass(order=True)
class _Pending:
    due: float
    seq: int
    target: Any = None
    event: Any = None
    body: bytes = b""
    attempt: int = 1


class Notifier:
    """Sends events to targets from one background thread; ``close()`` flushes."""

    def __init__(self, targets: list[Target], retry: Retry = Retry()):
        self.targets = targets
        self.retry = retry
        self._heap: list[_Pending] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._busy = 0           # deliveries in progress outside the lock
        self._closing = False    # no new events
        self._stopped = False    # close() has returned: the worker ends, retries are dropped
        self._thread: threading.Thread | None = None
        self.delivered = 0       # counts for reports and tests
        self.failed = 0

    @classmethod
    def from_targets(cls, specs: Iterable[str], settings, retry: Retry = Retry()) -> "Notifier":
        """Parse every target now, so a bad one is an InputError before any encoding starts."""
        return cls([parse_target(s.strip(), settings) for s in specs if s and s.strip()], retry)

    def __enter__(self) -> "Notifier":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # Public calls: cheap, never raise.
    def job_ended(self, job: Job) -> None:
        if not job.state.finished:
            log.warning("notify: job %s has not ended (%s); no event sent", job.job_id, job.state.value)
            return
        self.send(job_event(job))

    def package_ended(self, package: Any, jobs: Iterable[Job] | None = None, **details: Any) -> None:
        """Send the Package event, given a PackageResult, or a content id and its jobs.

        ``details``: code, message, output, user_data (see :func:`package_event`).
        """
        try:
            if jobs is None:  # a PackageResult: published at .dir
                details.setdefault("output", f"{package.dir}/master.m3u8")
                package, jobs = package.content_id, package.jobs
            event = package_event(package, jobs, **details)
        except Exception as exc:
            log.warning("notify: could not make the package event: %s", exc)
            return
        self.send(event)

    def send(self, event: dict[str, Any]) -> None:
        if not self.targets:
            return
        try:
            body = encode_event(event)
            with self._cond:
                if self._closing:
                    log.warning("notify: %s event %s came after close; not sent", event["type"], event["id"])
                    return
                for target in self.targets:
                    heapq.heappush(self._heap, _Pending(time.monotonic(), next(self._seq), target, event, body))
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="hlskit-notify", daemon=True)
                    self._thread.start()
                self._cond.notify_all()
        except Exception as exc:  # a notification problem must never stop encoding
            log.warning("notify: could not queue event: %s", exc)

    def close(self, timeout: float = 30.0) -> bool:
        """Wait up to ``timeout`` s for pending deliveries; log and drop the rest.

        True when every event reached every target.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            while (self._heap or self._busy) and self._thread is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            dropped, self._heap = self._heap, []
            self._stopped = True
            self._cond.notify_all()
            busy = self._busy
        for p in dropped:
            self._drop(p)
        return not dropped and not busy and self.failed == 0

    def _drop(self, p: _Pending) -> None:
        self.failed += 1
        log.warning("notify: %s event %s not delivered to %s: still retrying when hlskit exited",
                    p.event["type"], p.event["id"], p.target.label)

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopped or not self._heap:
                        if self._closing:
                            self._cond.notify_all()
                            return
                        self._cond.wait()
                        continue
                    wait = self._heap[0].due - time.monotonic()
                    if wait <= 0:
                        break
                    self._cond.wait(wait)
                item = heapq.heappop(self._heap)
                self._busy += 1
            try:
                self._attempt(item)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _attempt(self, item: _Pending) -> None:
        try:
            item.target.deliver(item.event, item.body, item.attempt)
        except Exception as exc:
            retry = getattr(exc, "retry", False) and item.attempt < self.retry.attempts
            reason = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
            if retry:
                log.debug("notify: attempt %d of %s to %s failed: %s", item.attempt, item.event["id"],
                          item.target.label, reason)
                item.due = time.monotonic() + self.retry.delay(item.attempt)
                item.attempt += 1
                with self._cond:
                    if not self._stopped:
                        heapq.heappush(self._heap, item)
                        return
                self._drop(item)
                return
            self.failed += 1
            log.warning("notify: gave up on %s event %s to %s after %d attempt(s): %s",
                        item.event["type"], item.event["id"], item.target.label, item.attempt, reason)
            return
        self.delivered += 1
