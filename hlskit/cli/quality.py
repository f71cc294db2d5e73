"""The ``quality`` command: VMAF, PSNR and SSIM of each definition against the source."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from ..domain.errors import InputError
from ..domain.names import MANIFEST, MASTER
from ..engines.encode import ffmpeg_exe
from ..hls.validate.read import chain, http_key_resolver
from ..pipeline.probe import probe
from ..pipeline.publish import destination, read_manifest_text
from ..pipeline.quality import QualityReport, measure_quality, record_quality
from ..stores.keys import KeyStore
from .encodeopts import per_title_lines
from .group import settings_from
from .progress import package_progress

console = Console(stderr=True)


@click.command()
@click.argument("location")
@click.option(
    "--source",
    "reference",
    default=None,
    help="The source video (default: the one named in the package's hlskit.json).",
)
@click.option(
    "--subsample",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help="Score every Nth frame (faster; 5 is a good quick look).",
)
@click.option("--key-token", default=None, help="Playback token for key URIs fetched over HTTP.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def quality(
    ctx: click.Context, location: str, reference: str | None, subsample: int, key_token: str | None, as_json: bool
) -> None:
    """Score each definition of LOCATION against its source: VMAF (0-100), PSNR-Y (dB), SSIM.

    LOCATION is a package folder (out/<content-id>), a master or media playlist path, or an
    http(s) URL, also from other tools. For a package folder the source and the clip come from its
    hlskit.json, and the scores are recorded there. Encrypted segments are decrypted with keys
    from this key store (or fetched with --key-token).

    \b
    Example:
      hlskit quality out/talk-1a2b3c
      hlskit quality https://cdn.example.com/v/master.m3u8 --source talk.mp4 --subsample 5 --json
    """
    settings = settings_from(ctx)
    package = Path(location) if Path(location).is_dir() else None
    manifest, clip = None, None
    if package is not None:
        location = str(package / MASTER)
        manifest_path = package / MANIFEST
        if manifest_path.is_file():
            manifest = read_manifest_text(manifest_path.read_text(encoding="utf-8"), str(manifest_path))
            reference = reference or manifest.source_path()
            clip = manifest.clip_span()
    if not reference:
        raise InputError(f"no source for {location}: pass --source with the video it was made from.")
    if not Path(reference).is_file() and "://" not in reference:
        raise InputError(f"source {reference} does not exist: pass --source with the video it was made from.")
    media = probe(reference)
    keys = chain(KeyStore.open(settings.store_config()).resolver(), http_key_resolver(key_token) if key_token else None)
    with package_progress(console) as progress:
        report = measure_quality(
            location,
            reference,
            media,
            ffmpeg=ffmpeg_exe(settings.ffmpeg_config()),
            keys=keys,
            subsample=subsample,
            clip=clip,
            progress=progress,
        )
    if manifest is not None and package is not None:
        dest = destination(str(package.resolve()), str(package.resolve()), settings)
        dest.write_manifest(record_quality(manifest, report))
    analysis = manifest.per_title if manifest is not None else None
    if as_json:
        click.echo(json.dumps(report.to_dict() | ({"per_title": hull(analysis, report)} if analysis else {}), indent=2))
        return
    table = Table(show_edge=False, pad_edge=False)
    for col in ("definition", "resolution", "kb/s", "VMAF", "VMAF min", "PSNR-Y", "SSIM"):
        table.add_column(col, justify="right" if col != "definition" else "left")
    for q in report.definitions:
        table.add_row(
            q.definition,
            f"{q.width}x{q.height}" if q.width else "",
            f"{q.bandwidth / 1000:.0f}" if q.bandwidth else "",
            f"{q.vmaf:.2f}",
            f"{q.vmaf_min:.2f}",
            f"{q.psnr_y:.2f}",
            f"{q.ssim:.4f}",
        )
    Console().print(table)
    click.echo(f"model {report.model}, every {subsample} frame(s) scored, against {reference}")
    if analysis:
        for line in per_title_lines(analysis):
            click.echo(line)
        for c in hull(analysis, report):
            if c["kept"] and c["vmaf_measured"] is not None and c["width"]:
                click.echo(
                    f"{c['definition']:>4}  expected VMAF {c['vmaf_predicted']:.2f} at {c['width']}x{c['height']}, "
                    f"measured {c['vmaf_measured']:.2f}"
                )


def hull(analysis: dict, report: QualityReport) -> list[dict]:
    """The per-title choices of the package (from its manifest) beside the VMAF just measured."""
    measured = {q.definition: q.vmaf for q in report.definitions}
    keys = ("definition", "fixed_width", "fixed_height", "width", "height", "crf", "chosen_kbps", "goal")
    return [
        {k: c.get(k) for k in keys}
        | {
            "kept": c["kept"],
            "why": c.get("why", ""),
            "vmaf_predicted": c["vmaf_predicted"],
            "vmaf_measured": measured.get(c["definition"]),
            "probes": c.get("probes", []),
        }
        for c in analysis.get("rungs", [])
    ]


def register(main: click.Group) -> None:
    main.add_command(quality)
