"""Core commands: sample, package, status, cancel."""

from __future__ import annotations

import json
import signal
import sys
from types import FrameType
from typing import NoReturn

import click
from rich.console import Console
from rich.table import Table

from ..domain.chunks import summary as chunk_summary
from ..domain.errors import InputError
from ..domain.options import parse_clip, parse_text_watermark, parse_watermark
from ..domain.plan import PackageOptions
from ..domain.runs import RunState
from ..engines import ENGINES
from ..engines.sample import make_sample
from ..notify.targets import shown
from ..pipeline import cancel as pipeline_cancel
from ..pipeline import follow_runs, recover_runs, run_package, submit_package
from ..pipeline.dryrun import dry_run
from ..stores.jobs import JobStore
from ..stores.keys import KeyStore
from .encodeopts import (
    dry_run_option,
    encoder_options,
    encoder_overrides,
    format_choices,
    format_options,
    is_dry_run,
    print_plan,
    track_choices,
    track_options,
    transmux_option,
)
from .group import settings_from
from .keyopts import given_key, given_key_options
from .progress import package_progress

console = Console(stderr=True)


@click.command()
@click.argument("out", type=click.Path(dir_okay=False), default="samples/sample.mp4")
@click.option("--size", default="1920x1080", show_default=True, help="WIDTHxHEIGHT of the clip.")
@click.option("--seconds", default=30.0, show_default=True, help="Duration in seconds.")
@click.option("--fps", default=30, show_default=True, help="Frame rate.")
@click.pass_context
def sample(ctx: click.Context, out: str, size: str, seconds: float, fps: int) -> None:
    """Generate a sample clip with motion, detail and stereo AAC audio.

    \b
    Example:
      hlskit sample samples/sample.mp4 --size 1920x1080 --seconds 30
    """
    try:
        width, height = (int(x) for x in size.lower().split("x"))
    except ValueError:
        raise InputError(f"--size must look like 1920x1080, got {size!r}.")
    with console.status(f"generating {size} {seconds:g}s sample…"):
        path = make_sample(out, width, height, seconds, fps, ffmpeg=settings_from(ctx).ffmpeg_config())
    click.echo(str(path))


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    """Treat SIGTERM like Ctrl-C, so the staging folder is removed and jobs are marked."""
    raise KeyboardInterrupt


@click.command()
@click.argument("source", type=str)
@click.option("--out", "out", default="out", show_default=True, help="Folder that receives out/<content-id>/.")
@click.option(
    "--key-url",
    default=None,
    help="Base URL of the key service, absolute or root-relative (/keys: players resolve it against the "
    "playlist's host); key URIs are <key-url>/<content-id>/<key-id>.",
)
@click.option(
    "--ladder",
    default="auto",
    show_default=True,
    help="auto (every preset not wider than the source), names such as LD,HD, a ladder .toml file, or "
    "per-title[:vmaf=N] (auto's rungs at the rates this source needs, measured with VMAF); add +source "
    "(auto+source) for the source itself, copied, as the top definition.",
)
@click.option("--segment-duration", type=int, default=None, help="Segment length in whole seconds (default 4).")
@click.option("--no-encrypt", is_flag=True, help="Write clear (unencrypted) segments.")
@click.option("--content-id", default=None, help="Content id (default: the file name plus a random suffix).")
@click.option("--engine", type=click.Choice(list(ENGINES)), default=None, help="Where jobs run (default local).")
@click.option(
    "--chunk-seconds",
    type=int,
    default=None,
    help="With --engine celery: seconds of video per task, rounded to whole segments (default: the chunk_seconds setting, 30).",
)
@click.option(
    "--watermark",
    "watermarks",
    multiple=True,
    help="Image watermark PATH.png[:ReferPos[:Dx[:Dy[:Width]]]]; fractions < 1 are relative to the output size.",
)
@click.option(
    "--text-watermark",
    "text_watermarks",
    multiple=True,
    help='Text watermark, e.g. "Preview {definition}" (see docs for placement).',
)
@click.option("--clip", default=None, help="START+DURATION, e.g. 00:01:30+45 (MPS Clip.TimeSpan).")
@click.option("--rotate-key-every", type=int, default=None, help="Start a new data key every N segments.")
@click.option("--clear-lead", type=int, default=0, show_default=True, help="Leave the first N segments unencrypted.")
@click.option(
    "--start-definition",
    default=None,
    help="The master's first variant, where players without a bandwidth estimate start: lowest "
    "(default: the start_definition setting) or a definition of the ladder, e.g. HD.",
)
@click.option("--notify", "notify", multiple=True, help="Webhook URL or exec:COMMAND to tell when jobs end.")
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Return when the package is done (--no-wait: submit only; with the mts and celery engines).",
)
@given_key_options
@encoder_options
@format_options
@track_options
@transmux_option
@dry_run_option
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
@click.pass_context
def package(
    ctx: click.Context,
    source: str,
    out: str,
    key_url: str | None,
    ladder: str,
    segment_duration: int | None,
    no_encrypt: bool,
    content_id: str | None,
    engine: str | None,
    chunk_seconds: int | None,
    watermarks: tuple[str, ...],
    text_watermarks: tuple[str, ...],
    clip: str | None,
    rotate_key_every: int | None,
    clear_lead: int,
    start_definition: str | None,
    notify: tuple[str, ...],
    wait: bool,
    as_json: bool,
) -> None:
    """Package SOURCE into encrypted multi-definition HLS: one job per definition.

    \b
    Example:
      hlskit package talk.mp4 --out out/ --key-url http://127.0.0.1:8000/keys
      hlskit package talk.mp4 --ladder LD,HD --segment-duration 4 --no-encrypt
      hlskit package talk.mp4 --codec h264,hevc --format fmp4 --mp4
      hlskit package film.mkv --audio commentary.m4a:en:Commentary --subtitles fr.srt:fr --default-audio en
      hlskit package talk.mp4 --transmux          # no re-encode: the source's own video, encrypted
    """
    settings = settings_from(ctx, engine=engine, chunk_seconds=chunk_seconds, **encoder_overrides(ctx))
    options = PackageOptions(
        ladder=ladder,
        segment_duration=segment_duration,
        key_url=key_url,
        encrypt=not no_encrypt,
        rotate_every=rotate_key_every,
        clear_lead=clear_lead,
        content_id=content_id,
        watermarks=[parse_watermark(w) for w in watermarks] + [parse_text_watermark(t) for t in text_watermarks],
        clip=parse_clip(clip) if clip else None,
        notify=list(notify),
        engine=engine,
        start_definition=start_definition,
        **format_choices(ctx),
        **track_choices(ctx),
    )
    keyed = given_key(ctx)
    options.given_key, options.given_iv = keyed["given_key"], keyed["given_iv"]
    if is_dry_run(ctx):
        print_plan(dry_run(source, out, settings, options), as_json)
        return
    if not wait:
        for job in submit_package(source, out, settings, options):
            click.echo(f"{job.job_id}  {job.definition:>4}  {job.state.value}  {job.code} {job.message}".rstrip())
        click.echo(f"submitted run {job.run_id}; follow it with: hlskit status {job.run_id} --wait")
        return
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    with package_progress(console) as progress:
        result = run_package(source, out, settings, options, progress=progress)
        progress.finish({d.name: d.state for d in result.manifest.definitions})
    manifest = result.manifest
    for warning in manifest.warnings:  # HDR tone-mapped, damaged source frames
        click.echo(f"warning: {warning}.", err=True)
    if as_json:
        click.echo(manifest.dumps(), nl=False)
    else:
        for d in manifest.definitions:
            line = f"{d.name:>4}  {d.width}x{d.height}  {d.state}"
            if d.succeeded:
                line += f"  {d.segments} segments, {d.bytes / 1e6:.1f} MB"
            else:
                line += f"  {d.code}: {d.message}"
            click.echo(line)
        for dl in manifest.downloads:
            made = f"{dl.uri}, {dl.bytes / 1e6:.1f} MB" if dl.uri else dl.state
            click.echo(f"{dl.name:>4}  MP4 download  {made}")
        for finding in manifest.validation.must_fix if manifest.validation else []:
            click.echo(f"warning: {finding}", err=True)
        click.echo(
            f"package: {result.dir}"
            + (f"  ({result.master_url})" if result.master_url and "://" in result.master_url else "")
        )
    if not result.ok:
        names = ", ".join(j.definition for j in result.failed)
        click.echo(f"error: {names} failed (see above); the other definitions were published.", err=True)
        sys.exit(1)


@click.command()
@click.argument("ref", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print runs and their jobs as JSON.")
@click.option("--wait", is_flag=True, help="Wait until every listed run has ended (mts runs are finished here).")
@click.pass_context
def status(ctx: click.Context, ref: str | None, as_json: bool, wait: bool) -> None:
    """List package runs and their jobs: all, or those of one run id, job id or content id.

    A run is one attempt at one content id (on MPS: one SubmitJobs call and its JobIds).

    \b
    Example:
      hlskit status
      hlskit status talk-1a2b3c --json
      hlskit status 5f0c2a9e1b7d --wait
    """
    settings = settings_from(ctx)
    store, keys = JobStore.open(settings.store_config()), KeyStore.open(settings.store_config())
    recover_runs(store, keys)
    runs = store.runs(ref)
    if ref and not runs:
        raise InputError(f"no run, job or content id {ref}: run `hlskit status` to list them.")
    if wait:
        with package_progress(console) as progress:
            runs = follow_runs([r.run_id for r in runs], settings, progress)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        **_shown(r.to_dict()),
                        "jobs": [_shown(j.to_dict()) for j in store.run_jobs(r.run_id)],
                        "chunks": [c.to_dict() for c in store.chunks.of_run(r.run_id)],
                    }
                    for r in runs
                ],
                indent=2,
            )
        )
        if wait and any(r.state != RunState.PUBLISHED for r in runs):
            sys.exit(1)  # as without --json: a script waiting on a failed run must see it
        return
    table = Table(show_edge=False, pad_edge=False)
    for col in ("run / job", "content", "definition", "engine", "state", "%", "message"):
        table.add_column(col)
    for r in runs:
        table.add_row(
            r.run_id,
            r.content_id,
            "",
            r.engine,
            r.state.value,
            "",
            f"{r.code}: {r.message}" if r.code else "",
            style="bold",
        )
        for j in store.run_jobs(r.run_id):
            table.add_row(
                f"  {j.job_id[:12]}",
                "",
                j.definition,
                "",
                j.state.value,
                str(j.percent),
                f"{j.code}: {j.message}" if j.code else "",
            )
        chunks = store.chunks.of_run(r.run_id)  # a Celery run: its chunks and who encoded them
        if chunks:
            table.add_row("  chunks", "", "", "", "", "", chunk_summary(chunks))
        for c in chunks if ref else []:  # one run asked for: every chunk, its time range and worker
            span = f"{c.start:.0f}-{c.start + c.duration:.0f} s" if c.kind == "video" else c.kind
            tries = f", attempt {c.attempts}" if c.attempts > 1 else ""
            table.add_row(
                f"    {c.name}", "", span, c.worker, c.state.value, str(c.percent), f"{c.message}{tries}".strip(", ")
            )
    Console().print(table)
    if wait and any(r.state != RunState.PUBLISHED for r in runs):
        sys.exit(1)


def _shown(record: dict) -> dict:
    """A run's or job's record for `status --json`: its notify targets as a list, masked as errors show
    them (a webhook's query or password, an exec hook's arguments may hold a token)."""
    targets = json.loads(record["notify"]) if record.get("notify") else []
    return {**record, "notify": [shown(t) for t in targets]}


@click.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the run, cancelled jobs and refusals as JSON.")
@click.pass_context
def cancel(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Cancel a run (every unfinished job of it) or one job still Submitted.

    REF is a run id or job id (a unique prefix is enough; an MPS JobId works too). As with MPS's
    CancelJob, a job already encoding cannot be cancelled alone: cancel its run. A cancelled run
    publishes nothing and its keys are revoked.

    \b
    Example:
      hlskit cancel 5f0c2a9e        # a run
      hlskit cancel 3f2a9c1b        # a job still Submitted
    """
    outcome = pipeline_cancel(ref, settings_from(ctx))
    if as_json:
        run_id = outcome.run.run_id if outcome.run is not None else None
        cancelled = [j.to_dict() for j in outcome.cancelled]
        click.echo(json.dumps({"run_id": run_id, "cancelled": cancelled, "refused": [str(r) for r in outcome.refused]}))
        sys.exit(1 if outcome.refused else 0)
    for job in outcome.cancelled:
        click.echo(f"{job.job_id} {job.definition} of {job.content_id}: {job.state.value}")
    for refusal in outcome.refused:
        click.echo(f"not cancelled: {refusal}", err=True)
    if outcome.run is not None and not outcome.cancelled and not outcome.refused:
        click.echo(f"run {outcome.run.run_id}: no unfinished job to cancel")
    if outcome.refused:
        sys.exit(1)


def register(main: click.Group) -> None:
    for command in (sample, package, status, cancel):
        main.add_command(command)
