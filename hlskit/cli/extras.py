"""The ``submit`` command: a CSV batch of sources, one package per row, one progress view."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
from collections.abc import Iterator
from dataclasses import replace

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn

from ..domain.errors import HlskitError
from ..domain.settings import Settings
from ..engines import ENGINES, capabilities
from ..pipeline.batch import BatchRow, RowError, RowOutcome, exit_code, read_batch, run_batch
from ..pipeline.dryrun import dry_run as dry_run_plan
from .encodeopts import print_plan
from .group import settings_from

console = Console(stderr=True)


def _label(row: BatchRow) -> str:
    return f"line {row.line}: {row.options.content_id or row.source.rsplit('/', 1)[-1]}"


class BatchView:
    """A bar for the whole batch plus one per row on a terminal; plain lines otherwise."""

    def __init__(self, console: Console, total: int, progress: Progress | None):
        self.console, self.total, self.bar = console, total, progress
        self.done = 0
        self.tasks: dict[int, TaskID] = {}
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
            if self.overall is not None:
                self.bar.update(self.overall, completed=self.done * 100 + pct)
            return
        step = int(pct // 25) * 25
        if self.last.get(row.line, -1) < step:
            self.last[row.line] = step
            self.console.print(f"{_label(row)}: {step}%", highlight=False, soft_wrap=True)

    def finish(self, outcome: RowOutcome) -> None:
        self.done += 1
        if self.bar and self.overall is not None:
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
    type=click.Choice(list(ENGINES)),
    default=None,
    help="Where jobs run (default: the engine setting, local).",
)
@click.option("--out", "out", default="out", show_default=True, help="Folder for rows whose out cell is empty.")
@click.option("--check", is_flag=True, help="Only check the rows; encode nothing.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print each row's plan and FFmpeg command; touch nothing (no folder, run, job or key).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the outcome (or with --dry-run the plans) as one JSON object."
)
@click.pass_context
def submit(
    ctx: click.Context, batch_file: str, engine: str | None, out: str, check: bool, dry_run: bool, as_json: bool
) -> None:
    """Package every row of BATCH_FILE (CSV): one job per definition per row.

    Columns (header row; only source is required, empty cells keep the defaults):
    source, out, ladder, watermark, text_watermark, clip, segment_duration,
    rotate_key_every, clear_lead, format, codec, mp4 (yes/no), transmux (yes/no), audio, subtitles,
    key_url, content_id, notify. Relative paths start at the CSV file's folder; several
    watermarks (or codecs, audio or subtitle files FILE:LANG[:NAME]) go in one cell
    separated by |.
    Every row is checked first; a bad row is reported with its line number and the
    others go on. Exit status: 0 if every row went through, 2 if a row had bad
    input, 1 if a job failed.

    \b
    Example:
      hlskit submit samples/batch.csv --out out/
      hlskit submit batch.csv --engine mts     # submit to MPS; then hlskit status --wait
      hlskit submit batch.csv --check          # check the rows only
      hlskit submit batch.csv --dry-run --json # every row's plan and FFmpeg command
    """
    settings = settings_from(ctx, engine=engine)
    engine = engine or settings.engine
    rows, errors = read_batch(batch_file, settings, out=out, engine=engine)
    for error in errors:
        click.echo(f"error: {error}", err=True)
    if dry_run:
        _dry_run(rows, errors, settings, engine, as_json)
        return
    if check or not rows:
        if as_json:
            click.echo(json.dumps({"rows": len(rows), "errors": [_error(e) for e in errors]}, indent=2))
        click.echo(f"batch: {len(rows)} good rows, {len(errors)} bad rows", err=True)
        sys.exit(exit_code(errors, []))
    # SIGTERM ends the run like Ctrl-C: the row being packaged leaves nothing half-written.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    with batch_view(console, len(rows)) as view:
        outcomes = run_batch(rows, settings, engine, progress=view.progress, on_start=view.start, on_done=view.finish)
    good = sum(o.ok for o in outcomes)
    bad = [str(e.line) for e in errors] + [str(o.row.line) for o in outcomes if not o.ok]
    verb = "submitted" if capabilities(engine).detached else "published"
    summary = f"batch: {good} of {len(rows) + len(errors)} rows {verb}"
    if bad:
        summary += f"; failed: line {', '.join(sorted(bad, key=int))}"
    click.echo(summary, err=True)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "rows": [_outcome(o) for o in outcomes],
                    "errors": [_error(e) for e in errors],
                    "exit_code": exit_code(errors, outcomes),
                },
                indent=2,
            )
        )
    sys.exit(exit_code(errors, outcomes))


def _error(e: RowError) -> dict:
    return {"line": e.line, "message": e.message, "exit_code": e.exit_code}


def _outcome(o: RowOutcome) -> dict:
    return {
        "line": o.row.line,
        "source": o.row.source,
        "state": o.state,
        "content_id": o.content_id,
        "dir": o.dir,
        "jobs": [{"job_id": j.job_id, "definition": j.definition, "state": j.state.value} for j in o.jobs],
        "error": _error(o.error) if o.error else None,
    }


def _dry_run(rows: list[BatchRow], errors: list[RowError], settings: Settings, engine: str, as_json: bool) -> None:
    """Each good row planned as `hlskit package --dry-run` would; a row whose plan fails is one more error."""
    plans = []
    for row in rows:
        try:
            plans.append(
                {"line": row.line, **dry_run_plan(row.source, row.out, settings, replace(row.options, engine=engine))}
            )
        except HlskitError as exc:
            errors.append(RowError(row.line, exc.message, exc.exit_code))
            click.echo(f"error: {errors[-1]}", err=True)
    if as_json:
        click.echo(json.dumps({"dry_run": True, "rows": plans, "errors": [_error(e) for e in errors]}, indent=2))
    else:
        for plan in plans:
            click.echo(f"--- line {plan['line']}")
            print_plan(plan, False)
    sys.exit(exit_code(errors, []))


def register(main: click.Group) -> None:
    main.add_command(submit)
