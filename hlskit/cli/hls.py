"""HLS commands: stitch (master playlist from measured figures) and validate (any HLS stream)."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import click
from rich.console import Console

from ..domain.errors import HlskitError, InputError
from ..hls.fetch import FETCH_SECONDS, RUN_SECONDS
from ..hls.master import MasterInfo
from ..hls.redact import mask
from ..hls.validate import format_report
from ..hls.validate import validate as run
from ..pipeline import restitch
from ..pipeline.master import stitch_playlists
from ..storage import is_remote, open_storage
from ..stores.keys import KeyStore
from .group import settings_from
from .progress import package_progress

console = Console(stderr=True)


def _summary(info: MasterInfo) -> str:
    lines = [f"wrote {info.path}"]
    for v in info.variants:
        lines.append(
            f"  {v.definition:<6} BANDWIDTH={v.bandwidth} AVERAGE-BANDWIDTH={v.average_bandwidth} "
            f'CODECS="{v.codecs}" RESOLUTION={v.resolution} FRAME-RATE={v.frame_rate or 0:.3f}'
            + (f" I-frames={v.iframe_count}" if v.iframe_uri else "")
        )
    if info.session_key:
        lines.append(f"  session key {info.session_key}")
    return "\n".join(lines)


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("-o", "--output", default=None, help="Master playlist to write when stitching media playlists.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON: path, session key, variants.")
@click.pass_context
def stitch(ctx: click.Context, paths: tuple[str, ...], output: str | None, as_json: bool) -> None:
    """Write master.m3u8 (and I-frame playlists) from measured segment figures.

    Pass a package folder (out/<content-id>) to stitch its finished definitions, or media
    playlists plus -o to stitch playlists from elsewhere (variant URIs relative to the output).
    Keys for encrypted segments come from the local key store.

    \b
    Example:
      hlskit stitch out/3f2a9c
      hlskit stitch LD/index.m3u8 HD/index.m3u8 -o master.m3u8
      hlskit stitch out/3f2a9c --json
    """

    settings = settings_from(ctx)
    missing = [p for p in paths if "://" not in p and not Path(p).exists()]
    if missing:
        raise InputError(f"{missing[0]} does not exist: pass a package folder (out/<content-id>) or media playlists.")
    with package_progress(console) as progress:
        if len(paths) == 1 and Path(paths[0]).is_dir():
            if output:
                raise InputError(
                    "-o applies to media playlists; a package folder always gets <folder>/master.m3u8: drop -o."
                )

            info = restitch(paths[0], settings, progress=progress)
            info.path = str(Path(paths[0]) / info.path)
        else:
            if not output:
                raise InputError("stitching media playlists needs -o master.m3u8: say where the master goes.")
            info = stitch_playlists(
                list(paths), output, key_resolver=KeyStore.open(settings.store_config()).resolver(), progress=progress
            )
    click.echo(json.dumps(info.to_dict(), indent=2) if as_json else _summary(info))


@click.command()
@click.argument("path_or_url")
@click.option(
    "--key-token",
    envvar="HLSKIT_KEY_TOKEN",
    default=None,
    help="Playback token sent as 'Authorization: Bearer' to key URIs (or set HLSKIT_KEY_TOKEN).",
)
@click.option("--json", "as_json", is_flag=True, help='Print the report as JSON (errors too: {"error": ...}).')
@click.option(
    "--fetch-timeout",
    default=str(FETCH_SECONDS),
    show_default=True,
    metavar="SECONDS",
    help="Longest time one fetch (a playlist, segment read or key) may take, start to end.",
)
@click.option(
    "--time-budget",
    default=str(RUN_SECONDS),
    show_default=True,
    metavar="SECONDS",
    help="Longest time the whole validation may take; 0 for no limit.",
)
@click.pass_context
def validate(
    ctx: click.Context, path_or_url: str, key_token: str | None, as_json: bool, fetch_timeout: str, time_budget: str
) -> None:
    """Check a master or media playlist (file, oss:// or URL) against the HLS rules.

    Prints per variant the measured peak and average bit rates against the declared ones,
    codecs, resolution, frame rate, segment durations, IDR alignment and encryption, then
    MUST-fix and SHOULD-fix findings with the rule each breaks. Keys come from the local key
    store when it has them, else from the key URI (a key URI that is a file path is read beside
    a local playlist). Reads are bounded: each fetch by --fetch-timeout, the whole run by
    --time-budget, playlists to 16 MiB; devices and FIFOs are refused. Tokens in URLs are masked
    in the output. Exit 0: no MUST finding; 1: MUST findings; 2: the stream could not be read.

    \b
    Example:
      hlskit validate out/3f2a9c/master.m3u8
      HLSKIT_KEY_TOKEN=... hlskit validate https://cdn.example.com/v/master.m3u8 --json
    """
    try:
        fetch = _seconds(fetch_timeout, "--fetch-timeout", zero_is_none=False)
        budget = _seconds(time_budget, "--time-budget", zero_is_none=True)
        settings = settings_from(ctx)
        storage = None
        location = path_or_url
        if is_remote(path_or_url):
            storage, location = open_storage(path_or_url, settings.oss_config())
        with console.status("validating…") if console.is_terminal else contextlib.nullcontext():
            report = run(
                location,
                storage=storage,
                key_token=key_token,
                key_resolver=KeyStore.open(settings.store_config()).resolver(),
                fetch_timeout=fetch,
                time_budget=budget,
            )
    except HlskitError as exc:
        _fail(exc.message, exc.exit_code, as_json)
    except Exception as exc:  # noqa: BLE001 - a bug must still end in one sentence and valid JSON
        _fail(
            f"validate stopped on an unexpected {type(exc).__name__}: please report it with the playlist.",
            2,
            as_json,
        )
    if storage is not None:
        report.source = path_or_url
    click.echo(report.to_json() if as_json else format_report(report))
    sys.exit(1 if report.must else 0)


def _seconds(value: str, flag: str, *, zero_is_none: bool) -> float | None:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds == 0 and zero_is_none:
        return None
    if not (0 < seconds < 1e7):
        limit = "0 (no limit) or more" if zero_is_none else "more than 0"
        raise InputError(f"{flag} {value!r} is not a number of seconds: give {limit}, e.g. {flag} 30.")
    return seconds


def _fail(message: str, code: int, as_json: bool) -> None:
    """One sentence on stderr (tokens masked); with --json also {"error": ...} on stdout."""
    message = mask(message)
    if as_json:
        click.echo(json.dumps({"error": message, "exit_code": code}))
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def register(main: click.Group) -> None:
    main.add_command(stitch)
    main.add_command(validate)
