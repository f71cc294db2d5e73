"""fMP4 through a Source: the init section of an EXT-X-MAP and the movie fragments of a segment,
decrypted as needed and read no further than needed.

Whole-file AES-128-CBC (RFC 8216 §4.3.2.4) covers the init section too: it is decrypted with the
key of the EXT-X-KEY that applies to its EXT-X-MAP and that tag's IV, which RFC 8216 §4.3.2.5
makes REQUIRED (an init section has no media sequence number to derive one from). A segment's
head (styp, sidx, moof, the first video sample) is read in growing chunks; the rest of its mdat
is skipped unless more fragments follow it.
"""

from __future__ import annotations

from . import fmp4
from .crypto import decrypt_segment
from .model import Map, Segment
from .source import Source, padding_of, plain_head

HEAD = 64 * 1024
INIT_CAP = 4 * 1024 * 1024  # init sections are a few kB (HEVC parameter sets included)


def read_init(source: Source, m: Map, key: bytes | None) -> bytes:
    """The plain initialization section. Raises OSError when it cannot be read and ValueError when
    it does not decrypt (no IV on its EXT-X-KEY, or bad PKCS#7 padding: wrong key or IV)."""
    if m.byterange:
        data = source.read(m.uri, m.byterange.offset, m.byterange.length)
    else:
        data = source.read(m.uri, 0, INIT_CAP)
    cipher = m.cipher
    if cipher is not None:
        if cipher.iv is None:
            raise ValueError("the EXT-X-KEY that applies to the EXT-X-MAP has no IV (RFC 8216 §4.3.2.5)")
        if key is None:
            raise ValueError(f"no key for {cipher.uri}")
        data = decrypt_segment(data, key, cipher.iv)
    return data


def plain_size(source: Source, seg: Segment, key: bytes | None, size: int) -> int:
    """The segment's length once decrypted (its size less the PKCS#7 padding); ValueError when
    the padding is not valid (wrong key or IV)."""
    if key is None:
        return size
    pad = padding_of(source, seg, key, size)
    if pad is None:
        raise ValueError("the segment does not decrypt to PKCS#7 padding (wrong key or IV)")
    return size - pad


def read_fragments(
    source: Source,
    seg: Segment,
    key: bytes | None,
    size: int | None,
    init: fmp4.Init,
    *,
    total: int | None = None,
    head: bytes | None = None,
) -> tuple[fmp4.Fragments, bytes]:
    """The movie fragments of ``seg`` and the plain bytes read. ``total`` (the plain length, see
    :func:`plain_size`): read every moof, for durations; None: the first moof and the first video
    sample are enough. ``head``: plain bytes of the segment already read (its start)."""
    limit = total if total is not None else size if size is not None else 1 << 40
    data = head if head is not None else plain_head(source, seg, key, min(HEAD, limit))
    while True:
        data = data[:limit]  # never the padding
        try:
            return fmp4.read_segment(data, init, total), data
        except fmp4.Truncated as cut:
            if len(data) < limit:
                data = plain_head(source, seg, key, min(max(cut.need, 2 * len(data)), limit))
                continue
            if total is None and size is not None:  # the whole segment is read: say what is wrong with it
                total = limit = plain_size(source, seg, key, size)
                continue
            raise fmp4.Invalid("box", f"the segment ends inside a box (it needs {cut.need} bytes)") from None
