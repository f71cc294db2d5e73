"""Player commands: play (serve one package and open the player) and abr-check."""

from __future__ import annotations

import json
import sys
import webbrowser
from dataclasses import asdict
from pathlib import Path
from urllib.parse import urlsplit

import click

from ..domain.errors import InputError
from ..domain.ids import CONTENT_ID_RULE, is_content_id
from ..domain.manifest import Manifest
from ..domain.names import MANIFEST
from ..keys.tokens import make_token, token_secret
from ..server import create_app, devserver
from .abrcheck import parse_ewma, parse_profile, run_abr_check
from .abrreport import AbrReport, Phase
from .group import settings_from
from .server import parse_port


def _loopback_port(key_url: str | None) -> int | None:
    parts = urlsplit(key_url or "")
    if parts.hostname in ("127.0.0.1", "localhost", "::1"):
        return parts.port or (443 if parts.scheme == "https" else 80)
    return None


@click.command()
@click.argument("package_dir", type=click.Path(file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=None,
    metavar="PORT",
    help="Port, 1-65535 (0: any free one). Default: the port of the package's key URL when it is on this machine, else 8000.",
)
@click.option("--open/--no-open", "open_browser", default=True, show_default=True, help="Open the player in a browser.")
@click.pass_context
def play(ctx: click.Context, package_dir: str, host: str, port: str | None, open_browser: bool) -> None:
    """Serve one package (media, keys, player) and open the player on it.

    \b
    Example:
      hlskit play out/talk-3f2a1c
      hlskit play out/talk-3f2a1c --port 8001 --no-open
    """
    given_port = parse_port(port) if port is not None else None
    folder = Path(package_dir).resolve()
    manifest_file = folder / MANIFEST
    try:
        manifest = Manifest.read(manifest_file)
        content_id = manifest.content_id
    except FileNotFoundError:
        raise InputError(
            f"{package_dir} is not a package (no hlskit.json): pass out/<content-id> as written by `hlskit package`."
        )
    except (OSError, ValueError):
        raise InputError(f"{manifest_file} is not a valid hlskit manifest: package the source again.")
    if not is_content_id(content_id):
        raise InputError(
            f"{manifest_file} names content id {content_id!r}, which is not valid ({CONTENT_ID_RULE}): package the source again."
        )
    if folder.name != content_id:
        raise InputError(
            f"{package_dir} holds content {content_id!r} but is named {folder.name!r}: rename the folder back to {content_id}."
        )
    key_port = _loopback_port(manifest.key_url)
    listen_port = given_port if given_port is not None else (key_port or 8000)
    settings = settings_from(ctx, media_root=str(folder.parent))
    app = create_app(settings)

    token = make_token(token_secret(settings.token_config()), content_id, settings.token_ttl)

    def announce(bound_port: int) -> None:
        url = f"http://{host}:{bound_port}/play/{content_id}?token={token}"
        if key_port is not None and key_port != bound_port:
            click.echo(
                f"warning: this package's keys are at {manifest.key_url}, not on port {bound_port}; "
                "playback needs a key service there.",
                err=True,
            )
        click.echo(f"playing {content_id} (Ctrl+C stops):")
        click.echo(url)
        if open_browser:
            webbrowser.open(url)

    devserver.run(app, host, listen_port, announce)


def _print_report(report: AbrReport, t0: float) -> None:
    echo = click.echo
    echo(
        "definitions: "
        + ", ".join(
            f"{lv['name']} {lv['width']}x{lv['height']} ({round(lv['bitrate'] / 1000)} kb/s)" for lv in report.levels
        )
    )
    for i, p in enumerate(report.phases, 1):
        echo(
            f"phase {i}: {p.phase.label} for {p.end - p.start:.0f} s "
            f"(from {p.start - t0:.1f} s): played {', '.join(p.levels_played) or 'nothing'}; at the end {p.level_at_end or '-'}"
        )
    echo("played:")
    for span in report.spans or []:
        echo(f"  {span.start - t0:6.1f} – {span.end - t0:6.1f} s  {span.name}")
    if not report.spans:
        echo("  nothing")
    for at in report.restarts:
        echo(f"  {at - t0:6.1f} s  (the clip ended and started again)")
    echo("loading switched (hls.js's decisions):" if report.load_switches else "loading switched: never")
    for load in report.load_switches:
        echo(
            f"  {load.at - t0:6.1f} s  {load.from_name} → {load.to_name}  ({'up' if load.up else 'down'}, "
            f"phase {load.phase + 1}, after {load.segments_into_phase} segment(s) of the phase)"
        )
    echo("picture switched:" if report.switches else "picture switched: never")
    for switch in report.switches:
        took = f", shown {switch.took:.1f} s after hls.js chose it" if switch.took is not None else ""
        echo(
            f"  {switch.at - t0:6.1f} s  {switch.from_name} → {switch.to_name}  "
            f"({'auto' if switch.auto else 'chosen'}, {'up' if switch.up else 'down'}, phase {switch.phase + 1}{took})"
        )
    if report.stalls:
        total = sum(s.get("duration") or 0 for s in report.stalls)

        def one(s: dict) -> str:
            length = "still stalled" if s.get("duration") is None else f"{s['duration']:.1f} s"
            return f"at {s['start'] - t0:.1f} s ({length})"

        echo(f"stalls: {len(report.stalls)}, {total:.1f} s in all: " + ", ".join(one(s) for s in report.stalls))
    else:
        echo("stalls: none")
    for e in report.errors:
        if e.get("fatal") or e.get("blocking"):
            echo(f"error: {e['message']}")
    echo(
        "time to first frame: "
        + ("never" if report.first_frame is None else f"{report.first_frame:.2f} s (from the player's start)")
    )
    if any(report.phases[i].phase.rate > report.phases[i - 1].phase.rate for i in range(1, len(report.phases))):
        top = report.levels[-1]["name"] if report.levels else "-"
        echo(
            f"fragments to the top definition ({top}) after the network returned: "
            + ("not reached" if report.fragments_to_top is None else str(report.fragments_to_top))
        )
    echo(f"result: {report.verdict}")


@click.command("abr-check")
@click.argument("url")
@click.option(
    "--profile",
    default="slow-then-fast",
    show_default=True,
    help="Network profile: slow-then-fast (600 kb/s 10 s, then unthrottled 20 s), fast-then-slow, "
    "or phases KBPSxSECONDS,... (0 = unthrottled), e.g. 500x15,0x15.",
)
@click.option("--token", default=None, help="Playback token for the key service (short-lived; see `hlskit token`).")
@click.option(
    "--ewma",
    default="1,2",
    show_default=True,
    help="hls.js bandwidth-estimate half-lives FAST,SLOW in seconds. The check is of the ladder, so it "
    "does not wait for hls.js's slow stock estimator; --ewma 3,9 plays like a stock hls.js player.",
)
@click.option("--screenshot", type=click.Path(dir_okay=False), default=None, help="Write a screenshot at the end.")
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON instead of text.")
def abr_check(url: str, profile: str, token: str | None, ewma: str, screenshot: str | None, as_json: bool) -> None:
    """Play URL in headless Chromium through a network profile and check that definitions switch.

    URL is a master or media playlist (played through /play on the same server) or a player page.
    Prints which definitions played when, how long each switch took, any stalls, the time to the
    first frame and the fragments loaded before the top definition once the network got faster;
    exits 1 when automatic switching did not happen.

    \b
    Example:
      hlskit abr-check http://127.0.0.1:8000/media/talk-3f2a1c/master.m3u8 --token "$(hlskit token talk-3f2a1c)"
      hlskit abr-check http://127.0.0.1:8000/play/talk-3f2a1c --profile 500x15,0x15
    """
    from rich.console import Console

    phases = parse_profile(profile)
    half_lives = parse_ewma(ewma) if ewma else None
    console = Console(stderr=True)
    total = sum(p.seconds for p in phases)
    if not as_json:
        click.echo(
            f"abr-check: {' then '.join(f'{p.label} for {p.seconds:g} s' for p in phases)} ({total:g} s)", err=True
        )

    def progress(sample: dict, phase: Phase) -> None:
        if console.is_terminal:
            console.print(
                f"  {phase.label:>12}  t={sample['currentTime']:5.1f} s  level={sample['level']}  "
                f"estimate={round((sample['estimate'] or 0) / 1000)} kb/s  buffer={sample['buffer']:.1f} s",
                end="\r",
                highlight=False,
            )

    report = run_abr_check(url, phases, token=token, ewma=half_lives, screenshot=screenshot, on_sample=progress)
    t0 = report.phases[0].start if report.phases else 0.0
    if as_json:
        click.echo(json.dumps(asdict(report), indent=1))
    else:
        if console.is_terminal:
            console.print(" " * 90, end="\r")
        _print_report(report, t0)
    if not report.ok:
        sys.exit(1)


def register(main: click.Group) -> None:
    main.add_command(play)
    main.add_command(abr_check)
