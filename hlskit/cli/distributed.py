"""``hlskit worker``: encode chunks of titles packaged with ``--engine celery`` (docs/distributed.md)."""

from __future__ import annotations

import click

from ..engines.celery.worker import run_worker
from .group import settings_from


@click.command()
@click.option(
    "--concurrency",
    "-c",
    type=int,
    default=1,
    show_default=True,
    help="Chunks this worker encodes at once, each an FFmpeg process that already uses every core: 1 suits most hosts.",
)
@click.option(
    "--queue", "-Q", default=None, help="The queue to take tasks from (default: the celery_queue setting, hlskit)."
)
@click.option(
    "--name", "-n", default=None, help="This worker's node name, as status shows it (default hlskit-<pid>@<host>)."
)
@click.option("--loglevel", default="INFO", show_default=True, help="Celery's log level: DEBUG, INFO, WARNING, ERROR.")
@click.pass_context
def worker(ctx: click.Context, concurrency: int, queue: str | None, name: str | None, loglevel: str) -> None:
    """Run a Celery worker that encodes chunks for `hlskit package --engine celery`.

    The worker needs the broker (broker_url), the job store every host shares (store_url,
    PostgreSQL when hosts differ) and the run folders at the same path as the host that packages
    (shared storage), and the packaging host's task_secret (it runs only tasks signed with it). It
    never needs the master key or a data key: segments are encrypted by the host that finishes the run. Stop it with Ctrl-C or SIGTERM (it finishes its running chunks);
    a worker that dies instead has its chunks encoded again by another.

    \b
    Example:
      export HLSKIT_BROKER_URL=redis://broker.lan:6379/0
      export HLSKIT_STORE_URL=postgresql://hlskit:secret@broker.lan:5432/hlskit
      export HLSKIT_TASK_SECRET="$(cat /etc/hlskit/task.secret)"   # the same on every host
      hlskit worker --concurrency 2 --name encoder1@%h
    """
    settings = settings_from(ctx, celery_queue=queue)
    run_worker(settings.celery_config(), concurrency, name, loglevel.upper())


def register(main: click.Group) -> None:
    main.add_command(worker)
