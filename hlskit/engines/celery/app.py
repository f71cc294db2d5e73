"""The Celery application hlskit sends tasks with and its workers run, and the broker behind it.

One task name, :data:`TASK`, carries every piece of work (a video chunk, an audio rendition, the
seek-bar sprite). The guarantees rest on Celery's own settings, not on code of ours:

- ``task_acks_late``: a task is acknowledged when it has ended, so a worker killed with -9 never
  acknowledges the one it held; Redis gives it to another worker after ``visibility_timeout``
  seconds (Celery's Redis transport restores unacknowledged messages older than that).
- ``task_reject_on_worker_lost``: a task whose pool process died goes back to the queue.
- ``worker_prefetch_multiplier=1``: a worker reserves no more tasks than it runs, so a dead
  worker holds nothing else back.
- results are ignored: outcomes go to the job store and the shared folder, which outlive the broker.

Celery and redis are imported when first needed: most hlskit commands never touch them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ...domain.configs import CeleryConfig
from ...domain.errors import ConfigError
from ...stores.db import mask_url

if TYPE_CHECKING:
    from celery import Celery

TASK = "hlskit.encode"
SCHEMES = ("redis", "rediss")
CONNECT_SECONDS = 3


def broker_url(config: CeleryConfig) -> str:
    """The configured broker URL, refused in one sentence when missing or not Redis."""
    url = config.broker_url
    if not url:
        raise ConfigError(
            "the celery engine needs a broker: set broker_url (HLSKIT_BROKER_URL or hlskit.toml) "
            "to a Redis URL such as redis://127.0.0.1:6379/0."
        )
    try:
        parts = urlsplit(url)
        _ = (parts.hostname, parts.port)  # ValueError: an unclosed [IPv6] bracket, a port not 0-65535
    except ValueError as exc:
        raise ConfigError(
            f"broker_url {mask_url(url)} is not a valid URL ({exc}): fix it (e.g. redis://127.0.0.1:6379/0, "
            "redis://[::1]:6379/0)."
        ) from None
    if parts.scheme not in SCHEMES:
        raise ConfigError(
            f"broker_url {mask_url(url)} is not a redis:// URL: hlskit's Celery engine uses Redis "
            "(e.g. redis://127.0.0.1:6379/0)."
        )
    return url


def make_app(config: CeleryConfig) -> Celery:
    """A Celery app on the configured broker, with the settings the module docstring lists."""
    from celery import Celery

    app = Celery("hlskit", broker=broker_url(config), set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue=config.queue,
        task_serializer="json",
        accept_content=["json"],
        broker_transport_options={"visibility_timeout": config.visibility_timeout},
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=CONNECT_SECONDS,
        worker_send_task_events=False,
        worker_redirect_stdouts=False,
        # A worker that loses the broker keeps encoding: the chunk's folder and row are the outcome.
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    return app


def broker_identity(config: CeleryConfig) -> str:
    """The Redis server's run_id (INFO server), which changes when it restarts; raises OSError
    (ConnectionError) when it does not answer within a few seconds."""
    import redis

    client = redis.Redis.from_url(
        broker_url(config), socket_connect_timeout=CONNECT_SECONDS, socket_timeout=CONNECT_SECONDS
    )
    try:
        return str(client.info("server")["run_id"])
    except redis.RedisError as exc:
        raise ConnectionError(str(exc) or type(exc).__name__) from None
    finally:
        client.close()


def ping_workers(app: Any, timeout: float = 2.0) -> list[str]:
    """The node names of the workers that answer a ping within ``timeout`` (Celery's inspect ping)."""
    replies = app.control.ping(timeout=timeout) or []
    return sorted(name for reply in replies for name in reply)
