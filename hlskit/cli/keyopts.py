"""Bring your own key: ``hlskit package --key-file PATH | --key-hex - [--iv HEX]``, and the JSON
lines that ``hlskit keys export`` writes and ``hlskit keys import`` reads.

A key never travels in a flag: flags land in shell history and in ``ps`` for every user of the
machine. ``--key-file`` names a file holding the key (16 raw bytes, or 32 hex characters, as
FFmpeg's ``-hls_key_info_file`` key file or Shaka Packager's ``--keys`` take them); ``--key-hex -``
reads the 32 hex characters from stdin. The IV is not secret (RFC 8216 §5.2 writes it into the
playlist), so ``--iv`` takes it directly.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..domain.errors import InputError
from ..domain.ids import check_content_id, is_key_id
from .keyinput import KEY_FILE_CAP, read_file, read_stdin

_HEX32 = re.compile(r"(0[xX])?([0-9a-fA-F]{32})")
_HEX32_BYTES = re.compile(rb"(0[xX])?([0-9a-fA-F]{32})")
KEY_SHAPE = "a key is 16 raw bytes or 32 hex characters"
LINE_MAX = 1024  # characters; an exported line is about 130 (ids of up to 64 characters each)


def parse_hex16(text: str, what: str) -> bytes:
    """32 hex characters (an optional 0x, as in EXT-X-KEY's IV) → 16 bytes, else one sentence."""
    match = _HEX32.fullmatch(text.strip())
    if not match:
        raise InputError(f"{what} must be 32 hex characters (16 bytes), optionally with 0x: check the value.")
    return bytes.fromhex(match.group(2))


def read_key_file(path: str) -> bytes:
    """A key file: exactly 16 raw bytes, or 32 hex characters (a trailing newline allowed)."""
    data = read_file(path, KEY_FILE_CAP, f"--key-file {path}", KEY_SHAPE)
    return _key_bytes(data, f"--key-file {path}")


def _key_bytes(data: bytes, what: str, raw: bool = True) -> bytes:
    """16 raw bytes (when ``raw``) or 32 hex characters, an optional 0x and whitespace around."""
    if raw and len(data) == 16:
        return data
    match = _HEX32_BYTES.fullmatch(data.strip())
    if not match:
        shape = "16 raw bytes or 32 hex characters" if raw else "32 hex characters"
        raise InputError(f"{what} must hold {shape} ({len(data)} bytes read): check it.")
    return bytes.fromhex(match.group(2).decode("ascii"))


F = TypeVar("F", bound=Callable[..., Any])  # a command function, before click wraps it


def _store(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value is not None:
        ctx.meta[f"hlskit.{param.name}"] = value


def given_key_options(f: F) -> F:
    """Adds --key-file, --key-hex and --iv; read them back with :func:`given_key`."""
    f = click.option("--iv", default=None, expose_value=False, callback=_store, metavar="HEX",
                     help="IV for the given key, 32 hex characters (default: random). Not secret: playlists carry it.")(f)  # fmt: skip
    f = click.option("--key-hex", default=None, expose_value=False, callback=_store, metavar="-",
                     help="'-': read the key as 32 hex characters from stdin (never the key itself in a flag).")(f)  # fmt: skip
    f = click.option("--key-file", default=None, expose_value=False, callback=_store, metavar="PATH",
                     help="Package with this key: 16 raw bytes or 32 hex characters (stored wrapped; no rotation).")(f)  # fmt: skip
    return f


def given_key(ctx: click.Context) -> dict[str, bytes | None]:
    """PackageOptions fields for the key the user gave: given_key and given_iv (both None if none)."""
    key_file, key_hex, iv = (ctx.meta.get(f"hlskit.{n}") for n in ("key_file", "key_hex", "iv"))
    if key_file is not None and key_hex is not None:
        raise InputError("--key-file and --key-hex both give a key: pass only one.")
    if key_hex is not None and key_hex != "-":
        raise InputError(
            "--key-hex takes '-' and reads the key from stdin, never the key itself (flags land in shell history): "
            "pipe it in, e.g. `cat key.hex | hlskit package … --key-hex -`, or use --key-file."
        )
    key = None
    if key_file is not None:
        key = read_key_file(key_file)
    elif key_hex is not None:
        what = "the key read from stdin for --key-hex -"
        key = _key_bytes(read_stdin(KEY_FILE_CAP, what, "a key is 32 hex characters"), what, raw=False)
    if iv is not None and key is None:
        raise InputError("--iv is for a given key: add --key-file PATH (or --key-hex -), or leave --iv out.")
    return {"given_key": key, "given_iv": parse_hex16(iv, "--iv") if iv is not None else None}


# --- export / import lines --------------------------------------------------------------------


def export_line(content_id: str, key_id: str, iv: bytes, key: bytes) -> str:
    """One JSON line: content id, key id, IV and key as hex (the format ``keys import`` reads)."""
    return json.dumps({"content_id": content_id, "key_id": key_id, "iv": iv.hex(), "key": key.hex()})


def write_export(lines: list[str]) -> None:
    """The export lines on stdout; InputError when the reader goes away (a closed pipe) first."""
    try:
        sys.stdout.write("".join(line + "\n" for line in lines))
        sys.stdout.flush()
    except OSError as exc:  # BrokenPipeError: `| head`, or a reader that died; a full disk
        # Point stdout at /dev/null so the interpreter's own flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if isinstance(exc, BrokenPipeError):
            raise InputError(
                f"the reader of keys export closed its end before every key was written ({exc.strerror or exc}): "
                "export again into a file."
            ) from None
        raise InputError(
            f"keys export could not write every key to its output ({exc.strerror or exc}): export again into a "
            "file on a disk with room, and delete the partial one."
        ) from None


def parse_import_line(line: str, number: int) -> tuple[str, str, bytes, bytes]:
    """(content id, key id, iv, key) from one exported line; InputError naming the line otherwise."""
    where = f"line {number} of the key file"
    if len(line) > LINE_MAX:
        # Also keeps the JSON parser away from deep nesting (it recurses once per level).
        raise InputError(
            f"{where} is {len(line):,} characters long, and an exported key line is about 130: "
            "give the lines `hlskit keys export` printed."
        )
    try:
        item = json.loads(line)
    except (ValueError, RecursionError):
        raise InputError(f"{where} is not JSON: give the lines `hlskit keys export` printed.") from None
    if not isinstance(item, dict) or not all(
        isinstance(item.get(k), str) for k in ("content_id", "key_id", "iv", "key")
    ):
        raise InputError(f"{where} lacks content_id, key_id, iv or key: give the lines `hlskit keys export` printed.")
    check_content_id(item["content_id"])
    if not is_key_id(item["key_id"]):
        raise InputError(f"{where} has a key id that is not one: give the lines `hlskit keys export` printed.")
    return (
        item["content_id"],
        item["key_id"],
        parse_hex16(item["iv"], f"iv on {where}"),
        parse_hex16(item["key"], f"key on {where}"),
    )
