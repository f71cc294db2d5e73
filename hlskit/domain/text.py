"""Text files users give (subtitles, batch CSV, key exports): the Unicode encoding their byte order mark names.

Windows tools save "Unicode" text as UTF-16 with a byte order mark, spreadsheets UTF-8 with one; a
mark is unambiguous (no UTF-8 text starts with 0xFE or 0xFF), so such files are read as they are.
"""

from __future__ import annotations

import codecs

# UTF-32's first: its little-endian mark starts with UTF-16's
_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


def unicode_encoding(data: bytes) -> str:
    """``utf-32`` or ``utf-16`` when ``data`` starts with their byte order mark (Python's codecs of those
    names read and drop it), else ``utf-8``: decode that with ``utf-8-sig`` to drop a UTF-8 mark."""
    return next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")


def unicode_text(data: bytes) -> str:
    """``data`` decoded as :func:`unicode_encoding` names it, its byte order mark dropped;
    UnicodeDecodeError when it is not text in that encoding."""
    encoding = unicode_encoding(data)
    return data.decode("utf-8-sig" if encoding == "utf-8" else encoding)
