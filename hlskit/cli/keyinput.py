"""Reading key material the user hands over: ``--key-file``, ``--key-hex -`` and ``keys import``.

Every read is bounded and never blocks on what is not a file. Paths go through the validator's
rule (:func:`hlskit.hls.fetch.local_read`): opened non-blocking, refused unless fstat says they are
regular files (so /dev/zero, a FIFO or a folder are refused at once), and refused when larger than
the cap. Standard input is read up to the cap plus one byte, so an endless stream ends too.

Import files are text: UTF-8 (a byte-order mark is dropped, as Notepad writes one) or UTF-16/UTF-32
with a byte-order mark (PowerShell's ``>`` writes UTF-16); anything else is refused in one sentence.
"""

from __future__ import annotations

import sys

from ..domain.errors import InputError
from ..domain.text import unicode_encoding, unicode_text
from ..hls.fetch import MIB, FetchError, TooLarge, local_read

KEY_FILE_CAP = 256  # 16 raw bytes or 32 hex characters, with room for 0x, spaces and newlines
IMPORT_CAP = 64 * MIB  # about 450,000 exported keys


def read_file(path: str, cap: int, what: str, too_large: str) -> bytes:
    """At most ``cap`` bytes of a regular file; else InputError naming ``what`` (``too_large``:
    the fix to give when it holds more)."""
    try:
        return local_read(path, cap=cap)
    except TooLarge:
        raise InputError(f"{what} is larger than {_size(cap)}: {too_large}.") from None
    except FetchError as exc:  # a device, FIFO, socket or folder
        raise InputError(f"{what} cannot be used because {exc.strerror}: pass a regular file.") from None
    except OSError as exc:
        raise InputError(f"{what} cannot be read ({exc.strerror or exc}): check the path.") from None


def read_stdin(cap: int, what: str, too_large: str) -> bytes:
    """Up to ``cap`` bytes of standard input; InputError when it is closed or holds more."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise InputError(f"{what} cannot be read because standard input is closed: pipe it in.")
    try:
        data = stream.read(cap + 1)
    except OSError as exc:
        raise InputError(f"{what} cannot be read from standard input ({exc.strerror or exc}): give a file.") from None
    if len(data) > cap:
        raise InputError(f"{what} is larger than {_size(cap)}: {too_large}.")
    return data


def _size(cap: int) -> str:
    return f"{cap // MIB} MiB" if cap >= MIB else f"{cap} bytes"


def decode_text(data: bytes, what: str) -> str:
    """UTF-8 (with or without a byte-order mark) or UTF-16/UTF-32 with one → str; else one sentence."""
    encoding = unicode_encoding(data)
    try:
        text = unicode_text(data)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1 if encoding == "utf-8" else None
        where = f" (line {line})" if line else ""
        raise InputError(
            f"{what} is not {encoding.upper()} text{where}: "
            "give the lines `hlskit keys export` printed, saved as UTF-8."
        ) from None
    if "\x00" in text:
        raise InputError(
            f"{what} holds NUL characters (UTF-16 without a byte-order mark?): save it as UTF-8 "
            "(e.g. iconv -f UTF-16LE -t UTF-8)."
        )
    return text
