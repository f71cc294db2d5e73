"""Alibaba Cloud helpers: upload a source to OSS, print a playable URL of an OSS object."""

from __future__ import annotations

from pathlib import Path

import click

from ..domain.errors import InputError
from ..storage.oss import OssStorage, split_oss_uri, upload_with_progress
from .group import settings_from


@click.command("upload")
@click.argument("source", type=click.Path(dir_okay=False))
@click.argument("target")
@click.pass_context
def upload(ctx: click.Context, source: str, target: str) -> None:
    """Upload a local video to OSS (resumable multipart above 10 MiB), with progress.

    Credentials and the OSS endpoint come from the config file or HLSKIT_* environment
    variables (HLSKIT_MTS_ACCESS_KEY_ID, HLSKIT_MTS_ACCESS_KEY_SECRET, HLSKIT_OSS_ENDPOINT).

    \b
    Example:
      hlskit upload talks/a.mp4 oss://in-bucket/talks/a.mp4
      hlskit package oss://in-bucket/talks/a.mp4 --engine mts --out oss://out-bucket/hls/
    """
    bucket, key = split_oss_uri(target)
    if not key or target.endswith("/"):  # a folder: keep the file's name
        key = f"{key}/{Path(source).name}".lstrip("/")
    storage = OssStorage.from_config(bucket, settings_from(ctx).oss_config())
    click.echo(upload_with_progress(storage, source, key, label=f"upload {source}"))


@click.command("oss-url")
@click.argument("location")
@click.option(
    "--expires",
    type=click.IntRange(60, 7 * 24 * 3600),
    default=3600,
    show_default=True,
    help="Lifetime of a signed URL, in seconds (private buckets).",
)
@click.pass_context
def oss_url(ctx: click.Context, location: str, expires: int) -> None:
    """Print a URL a player can open: public on a public-read bucket, else signed.

    \b
    Example:
      hlskit oss-url oss://out-bucket/hls/talk-1a2b3c/master.m3u8
    """

    bucket, key = split_oss_uri(location)
    storage = OssStorage.from_config(bucket, settings_from(ctx).oss_config())
    if not storage.exists(key):
        raise InputError(f"{location} does not exist: check the key (list it in the OSS console).")
    click.echo(storage.public_url(key) if storage.is_public() else storage.signed_url(key, expires))


def register(main: click.Group) -> None:
    main.add_command(upload)
    main.add_command(oss_url)
