"""The ``submit`` command: a CSV batch of sources, one package per row, one progress view."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from ..pipeline.batch import BatchRow, RowOutcome, exit_code, read_batch, run_batch
from .group import settings_from

console = Console(stderr=True)


def _label(row: BatchRow) -> str:
    return f"line {row.line}: {row.options.content_id or row.source.rsplit('/', 1)[-1]}"


class BatchView:
    """A bar for the whole batch plus one per row on a terminal; plain lines otherwise."""

    def __init__(self, console: Console, total: int, progress: Progress | None):
        self.console, self.total, self.bar = console, total, progress
        self.done = 0
        self.tasks: dict[int, int] = {}
        self.last: dict[int, int] = {}
        self.overall = progress.add_task("batch", total=total * 100) if progress else None

    def start(self, row: BatchRow) -> None:
        if self.bar:
            self.tasks[row.line] = self.bar.add_task(_label(row), total=100)
        else:
            self.console.print(f"{_label(row)}: started", highlight=False, soft_wrap=True)

    def progress(self, row: BatchRow, pct: float) -> None:
        if self.bar:
            self.bar.update(self.tasks[row.line], completed=pct)
            self.bar.update(self.overall, completed=self.done * 100 + pct)
            return
        step = int(pct // 25) * 25
        if self.last.get(row.line, -1) < step:
            self.last[row.line] = step
            self.console.print(f"{_label(row)}: {step}%", highlight=False, soft_wrap=True)

    def finish(self, outcome: RowOutcome) -> None:
        self.done += 1
        if self.bar:
            self.bar.update(self.overall, completed=self.done * 100)
        row = outcome.row
        if outcome.state == "published":
            names = ",".join(j.definition for j in outcome.jobs)
            text = f"line {row.line}: published {outcome.dir} ({names})"
        elif outcome.state == "submitted":
            text = (
                f"line {row.line}: submitted {len(outcome.jobs)} jobs of {outcome.content_id}; "
                f"run `hlskit status {outcome.content_id} --wait` to finish"
            )
        else:
            text = f"error: {outcome.error}"
        self.console.print(text, highlight=False, markup=False, soft_wrap=True)


@contextlib.contextmanager
def batch_view(console: Console, total: int) -> Iterator[BatchView]:
    if not console.is_terminal:
        yield BatchView(console, total, None)
        return
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(), console=console
    ) as bar:
        yield BatchView(bar.console, total, bar)


@click.command()
@click.argument("batch_file", type=click.Path(dir_okay=False))
@click.option(
    "--engine",
    type=click.Choice(["local", "mts"]),
    default=None,
    help="Where jobs run (default: the engine setting, local).",
)
@click.option("--out", "out", default="out", show_default=True, help="Folder for rows whose out cell is empty.")
@click.option("--check", is_flag=True, help="Only check the rows; encode nothing.")
@click.pass_context
def submit(ctx, batch_file, engine, out, check):
    """Package every row of BATCH_FILE (CSV): one job per definition per row.

    Columns (header row; only source is required, empty cells keep the defaults):
    source, out, ladder, watermark, text_watermark, clip, segment_duration,
    rotate_key_every, clear_lead, key_url, content_id, notify. Relative paths start
    at the CSV file's folder; several watermarks go in one cell separated by |.
    Every row is checked first; a bad row is reported with its line number and the
    others go on. Exit status: 0 if every row went through, 2 if a row had bad
    input, 1 if a job failed.

    \b
    Example:
      hlskit submit samples/batch.csv --out out/
      hlskit submit batch.csv --engine mts     # submit to MPS; then hlskit status --wait
      hlskit submit batch.csv --check          # check the rows only
    """
    settings = settings_from(ctx, engine=engine)
    engine = engine or settings.engine
    rows, errors = read_batch(batch_file, settings, out=out, engine=engine)
    for error in errors:
        click.echo(f"error: {error}", err=True)
    if check or not rows:
        click.echo(f"batch: {len(rows)} good rows, {len(errors)} bad rows", err=True)
        sys.exit(exit_code(errors, []))
    # SIGTERM ends the run like Ctrl-C: the row being packaged leaves nothing half-written.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    with batch_view(console, len(rows)) as view:
        outcomes = run_batch(rows, settings, engine, progress=view.progress, on_start=view.start, on_done=view.finish)
    good = sum(o.ok for o in outcomes)
    bad = [str(e.line) for e in errors] + [str(o.row.line) for o in outcomes if not o.ok]
    verb = "submitted" if engine == "mts" else "published"
    summary = f"batch: {good} of {len(rows) + len(errors)} rows {verb}"
    if bad:
        summary += f"; failed: line {', '.join(sorted(bad, key=int))}"
    click.echo(summary, err=True)
    sys.exit(exit_code(errors, outcomes))


def register(main: click.Group) -> None:
    main.add_command(submit)
