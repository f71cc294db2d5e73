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

from .delivery import Notifier, Retry
from .events import (
    ATTEMPT_HEADER,
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    job_event,
    load_notify_secret,
    package_event,
    sign,
    verify_signature,
)
from .targets import DeliveryError, Target, check_targets, parse_target, register_target

__all__ = [
    "Notifier",
    "Retry",
    "ATTEMPT_HEADER",
    "EVENT_ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "job_event",
    "load_notify_secret",
    "package_event",
    "sign",
    "verify_signature",
    "DeliveryError",
    "Target",
    "check_targets",
    "parse_target",
    "register_target",
]
