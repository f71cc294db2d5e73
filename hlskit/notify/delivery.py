"""Delivery from one background thread, with retries and backoff; never blocks encoding."""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..domain.configs import NotifyConfig
from ..domain.runs import Job
from .events import encode_event, job_event, package_event
from .targets import DeliveryError, Target, given, parse_target

log = logging.getLogger("hlskit.notify")


# --- delivery -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retry:
    # 1 try + 4 retries: 15-18 s of backoff, inside the 30 s Notifier.close() waits at exit with
    # room for a slow target's answer (6 attempts needed 31-37 s: the last never went out)
    attempts: int = 5
    first_delay: float = 1.0  # seconds before the 2nd attempt; doubles each time
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
    attempt: int = 0  # attempts made (or under way)
    failure: str = ""  # why the last attempt failed


class Notifier:
    """Sends events to targets from one background thread; ``close()`` flushes."""

    def __init__(self, targets: list[Target], retry: Retry = Retry()):
        self.targets = targets
        self.retry = retry
        self._heap: list[_Pending] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._inflight: list[_Pending] = []  # deliveries in progress outside the lock
        self._closing = False  # no new events
        self._stopped = False  # close() has returned: the worker ends, retries are dropped
        self._thread: threading.Thread | None = None
        self.delivered = 0  # counts for reports and tests
        self.failed = 0

    @classmethod
    def from_targets(cls, specs: Iterable[str], config: NotifyConfig, retry: Retry = Retry()) -> Notifier:
        """Parse every target now, so a bad one is an InputError before any encoding starts."""
        return cls([parse_target(s, config) for s in given(specs)], retry)

    def __enter__(self) -> Notifier:
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
            while (self._heap or self._inflight) and self._thread is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            dropped, self._heap = self._heap, []
            self._stopped = True
            self._cond.notify_all()
            busy = list(self._inflight)
        for p in dropped:
            self._drop(p)
        for p in busy:  # a target still answering (or a command still running) when hlskit exits
            p.failure = p.failure or "no answer yet"
            self._drop(p)
        for target in self.targets:
            getattr(target, "stop", lambda: None)()  # a hung exec: hook does not outlive hlskit
        return not dropped and not busy and self.failed == 0

    def _drop(self, p: _Pending) -> None:
        self.failed += 1
        log.warning(
            "notify: %s event %s not delivered to %s after %d attempt(s) (%s): hlskit exited while retrying",
            p.event["type"],
            p.event["id"],
            p.target.label,
            p.attempt,
            p.failure or "not tried",
        )

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
                self._inflight.append(item)
            try:
                self._attempt(item)
            finally:
                with self._cond:
                    self._inflight.remove(item)
                    self._cond.notify_all()

    def _attempt(self, item: _Pending) -> None:
        item.attempt += 1
        try:
            item.target.deliver(item.event, item.body, item.attempt)
        except Exception as exc:
            retry = getattr(exc, "retry", False) and item.attempt < self.retry.attempts
            reason = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
            item.failure = reason
            if retry:
                log.debug(
                    "notify: attempt %d of %s to %s failed: %s",
                    item.attempt,
                    item.event["id"],
                    item.target.label,
                    reason,
                )
                item.due = time.monotonic() + self.retry.delay(item.attempt)
                with self._cond:
                    if not self._stopped:
                        heapq.heappush(self._heap, item)
                        return
                self._drop(item)
                return
            self.failed += 1
            log.warning(
                "notify: gave up on %s event %s to %s after %d attempt(s): %s",
                item.event["type"],
                item.event["id"],
                item.target.label,
                item.attempt,
                reason,
            )
            return
        self.delivered += 1
