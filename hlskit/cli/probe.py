"""`hlskit probe`: what a source is and what hlskit would make of it, to decide per video."""

from __future__ import annotations

import json

import click

from ..pipeline.decide import describe
from .group import settings_from


@click.command()
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON (for scripts and batch files).")
@click.pass_context
def probe(ctx: click.Context, source: str, as_json: bool) -> None:
    """Report what SOURCE is (codecs, size, rate, keyframes, audio and subtitle tracks) and what
    hlskit would do with it: can it be packaged without re-encoding (--transmux, TS or fMP4), and
    which definitions an encode would make, at which rates, capped how. Nothing is written.

    \b
    Example:
      hlskit probe talk.mp4
      hlskit probe talk.mp4 --json | jq '.transmux.ts.possible'
    """
    report = describe(source, settings_from(ctx))
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    s = report["source"]
    v, a = s["video"], s["audio"]
    rate = f", {v['bit_rate'] // 1000} kb/s" if v["bit_rate"] else ""
    click.echo(f"{source}: {s['format']}, {s['duration']:.2f} s")
    click.echo(f"  video {v['codec']} {v['display_width']}x{v['display_height']} at {v['frame_rate']} fps{rate}")
    if a:
        click.echo(f"  audio {a['codec']} {a['channels']} ch {a['sample_rate']} Hz")
    for t in report["tracks"]:
        click.echo(
            f"  {t['kind']} {t['index']}: {t['codec']} {t['language'] or 'und'}"
            + (f" {t['title']!r}" if t["title"] else "")
        )
    k = report["keyframes"]
    if k["count"]:
        click.echo(f"  keyframes: {k['count']}, at most {k['longest_gap']} s apart")
    for fmt, fit in report["transmux"].items():
        click.echo(f"transmux into {fmt}: {'yes' if fit['possible'] else 'no'} ({fit['why']})")
    for name, plan in report["plans"].items():
        if "refused" in plan:
            click.echo(f"{name}: refused: {plan['refused']}")
            continue
        rungs = ", ".join(
            f"{r['name']} {r['width']}x{r['height']} " + ("copied" if r["transmux"] else f"{r['video_kbps']} kb/s")
            for r in plan["ladder"]
        )
        click.echo(f"{name} ({plan['format']}): {rungs}")
        for note in plan["notes"]:
            click.echo(f"  note: {note}")


def register(main: click.Group) -> None:
    main.add_command(probe)
