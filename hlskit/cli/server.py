"""Server commands: serve, token, keys list|revoke|export|import."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import re
import sys

import click

from ..domain.errors import InputError
from ..domain.ids import check_content_id, is_key_id
from ..keys.tokens import make_token, token_secret
from ..server import audit, create_app, devserver
from ..stores.keys import KeyStore
from .group import settings_from
from .keyimport import import_keys
from .keyopts import export_line, write_export

_TTL = re.compile(r"^(\d+)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_port(text: str | int) -> int:
    """``--port``: a whole number from 0 (any free port) to 65535, else one sentence (exit 2)."""
    value = str(text).strip()
    if not value.isdigit() or int(value) > 65535:
        raise InputError(
            f"--port must be a whole number from 1 to 65535 (or 0 for any free port), got {value!r}: pass another --port."
        )
    return int(value)


MAX_TTL = 366 * 86400  # a playback token outliving a year is a leak waiting to happen: revoke keys instead


def parse_ttl(text: str) -> int:
    """'90', '90s', '15m', '1h', '2d' → seconds (at most MAX_TTL)."""
    match = _TTL.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise InputError(f"--ttl must be a positive duration such as 90s, 15m, 1h or 2d, got {text!r}.")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds > MAX_TTL:
        raise InputError(f"--ttl {text} is longer than a token may live (366d): give a shorter one.")
    return seconds


@click.command()
@click.argument("media_root", type=click.Path(file_okay=False), default=None, required=False)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default="8000", metavar="PORT", show_default=True, help="Port, 1-65535 (0 picks a free one).")
@click.pass_context
def serve(ctx: click.Context, media_root: str | None, host: str, port: str) -> None:
    """Serve keys (/keys), packaged media (/media), the player (/play) and a package index (/) on one port.

    Uses Werkzeug's development server; in production run
    gunicorn 'hlskit.server:create_app()' with the same settings (see docs/serving.md).

    \b
    Example:
      hlskit serve out/ --port 8000      # then open http://127.0.0.1:8000/ and pick a package
      hlskit token <content-id>          # for other players:
      http://127.0.0.1:8000/media/<content-id>/master.m3u8?token=<token>
    """
    listen_port = parse_port(port)
    settings = settings_from(ctx, media_root=media_root)
    if not settings.media_root.is_dir():
        raise InputError(
            f"media root {settings.media_root} is not a folder: pass the folder `hlskit package --out` wrote."
        )
    app = create_app(settings)

    def announce(bound_port: int) -> None:
        url = f"http://{host if ':' not in host else f'[{host}]'}:{bound_port}/"
        click.echo(f"hlskit serving {settings.media_root} at {url}")
        click.echo(f"  packages: {url}  (each with a play link)")
        click.echo(f"  media: {url}media/<content-id>/master.m3u8?token=<hlskit token <content-id>>")
        click.echo("  development server: use gunicorn in production (docs/serving.md). Ctrl+C stops.")

    devserver.run(app, host, listen_port, announce)


@click.command()
@click.argument("content_id")
@click.option("--ttl", default=None, help="Lifetime: 90s, 15m, 1h, 2d, up to 366d (default: token_ttl setting, 1h).")
@click.option("--client-ip", default=None, help="Bind the token to this client IP address (IPv4 or IPv6).")
@click.pass_context
def token(ctx: click.Context, content_id: str, ttl: str | None, client_ip: str | None) -> None:
    """Print a playback token for CONTENT_ID.

    \b
    Example:
      hlskit token movie-3f2a --ttl 1h
      curl -H "Authorization: Bearer $(hlskit token movie-3f2a)" http://127.0.0.1:8000/keys/movie-3f2a/<key-id>
    """
    check_content_id(content_id)
    settings = settings_from(ctx)
    seconds = parse_ttl(ttl) if ttl else settings.token_ttl
    if not KeyStore.open(settings.store_config()).list(content_id):
        click.echo(
            f"warning: the key store has no keys for {content_id}; check the id with `hlskit keys list`.", err=True
        )
    click.echo(make_token(token_secret(settings.token_config()), content_id, seconds, client_ip))


@click.group()
def keys() -> None:
    """List, revoke, export and import data keys (only `keys export` shows keys, behind a flag).

    \b
    Example:
      hlskit keys list movie-3f2a
      hlskit keys revoke movie-3f2a --key-id 9c1e0b7d2a4f6e81
    """


@keys.command("list")
@click.argument("content_id", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per key.")
@click.pass_context
def keys_list(ctx: click.Context, content_id: str | None, as_json: bool) -> None:
    """List keys (all, or those of CONTENT_ID): content id, key id, created, state.

    \b
    Example:
      hlskit keys list movie-3f2a
    """
    if content_id is not None:
        check_content_id(content_id)
    records = KeyStore.open(settings_from(ctx).store_config()).list(content_id)
    for r in records:
        state = "revoked" if r.revoked else "live"
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "content_id": r.content_id,
                        "key_id": r.key_id,
                        "state": state,
                        "wrapping": r.wrapping,
                        "created_at": r.created_at,
                        "revoked_at": r.revoked_at,
                    }
                )
            )
        else:
            created = dt.datetime.fromtimestamp(r.created_at).isoformat(timespec="seconds")
            click.echo(f"{r.content_id}  {r.key_id}  {created}  {state}  {r.wrapping}")
    if not records and not as_json:
        click.echo("no keys" + (f" for {content_id}" if content_id else ""), err=True)


@keys.command("revoke")
@click.argument("content_id")
@click.option("--key-id", default=None, help="Revoke only this key (default: every live key of CONTENT_ID).")
@click.pass_context
def keys_revoke(ctx: click.Context, content_id: str, key_id: str | None) -> None:
    """Revoke keys: running key services refuse them (404) from the next request on.

    \b
    Example:
      hlskit keys revoke movie-3f2a
      hlskit keys revoke movie-3f2a --key-id 9c1e0b7d2a4f6e81
    """
    check_content_id(content_id)
    if key_id is not None and not is_key_id(key_id):
        raise InputError(f"--key-id {key_id!r} is not a key id: use one printed by `hlskit keys list {content_id}`.")
    count = KeyStore.open(settings_from(ctx).store_config()).revoke(content_id, key_id)
    if count == 0:
        what = f"key {key_id} of {content_id}" if key_id else f"keys of {content_id}"
        raise InputError(f"no live {what} to revoke: check the ids with `hlskit keys list {content_id}`.")
    click.echo(f"revoked {count} key{'s' if count != 1 else ''} of {content_id}")


@keys.command("export")
@click.argument("content_id")
@click.option("--key-id", default=None, help="Export only this key (default: every live key of CONTENT_ID).")
@click.option(
    "--i-understand-this-prints-keys", "confirmed", is_flag=True, help="Required: the output holds plain keys."
)
@click.pass_context
def keys_export(ctx: click.Context, content_id: str, key_id: str | None, confirmed: bool) -> None:
    """Print the plain live keys of CONTENT_ID as JSON lines (content_id, key_id, iv, key; hex), to hand
    them to another key store (`hlskit keys import`) or key server. Stdout only, never a terminal;
    each export is audited (who, when, which keys; never the key) on stderr and in <home>/audit.log.

    \b
    Example:
      hlskit keys export movie-3f2a --i-understand-this-prints-keys > keys.jsonl   # then chmod 600 / move it
      hlskit keys export movie-3f2a --i-understand-this-prints-keys | HLSKIT_HOME=/srv/hlskit hlskit keys import -
    """
    check_content_id(content_id)
    if not confirmed:
        raise InputError(
            "keys export prints plain data keys: add --i-understand-this-prints-keys and send stdout to a file or a pipe."
        )
    if sys.stdout is None:
        raise InputError("keys export prints to standard output, which is closed: redirect it to a file or a pipe.")
    if sys.stdout.isatty():
        raise InputError(
            "keys export will not print keys to a terminal (scrollback, screen sharing): redirect stdout to a file or a pipe."
        )
    if key_id is not None and not is_key_id(key_id):
        raise InputError(f"--key-id {key_id!r} is not a key id: use one printed by `hlskit keys list {content_id}`.")
    settings = settings_from(ctx)
    found = KeyStore.open(settings.store_config()).live_keys(content_id, key_id)
    if not found:
        what = f"key {key_id} of {content_id}" if key_id else f"keys of {content_id}"
        raise InputError(f"no live {what} to export: check the ids with `hlskit keys list {content_id}`.")
    audit.key_transfer(
        "key-export",
        content_id,
        [k.key_id for k in found],
        getpass.getuser(),
        str(settings.ensure_home() / "audit.log"),
    )
    write_export([export_line(k.content_id, k.key_id, k.iv, k.key) for k in found])


@keys.command("import")
@click.argument("file")
@click.pass_context
def keys_import(ctx: click.Context, file: str) -> None:
    """Add keys printed by `hlskit keys export` (FILE, or - for stdin; UTF-8 or UTF-16 with a BOM,
    up to 64 MiB) to this home's key store, wrapped under its master key, in one transaction:
    all of them or none (a bad line, a key already stored, Ctrl-C or SIGTERM add nothing).
    Audited like an export, failures too.

    \b
    Example:
      hlskit keys import keys.jsonl
    """
    import_keys(
        settings_from(ctx),
        file,
        lambda content_id, ids: click.echo(f"imported {len(ids)} key{'s' if len(ids) != 1 else ''} of {content_id}"),
    )


def register(main: click.Group) -> None:
    for command in (serve, token, keys):
        main.add_command(command)
