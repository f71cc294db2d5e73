"""ISO BMFF boxes (ISO/IEC 14496-12 §4.2), read strictly: pure functions on bytes.

A box is a 32-bit size and a 4-character type; size 1 means a 64-bit largesize follows the type.
A size smaller than the header, a box that runs past its container or past the end of the file,
and stray bytes after a container's last box are :class:`Invalid` ("box"): players cannot find the
boxes that follow. So is size 0, which ISO/IEC 14496-12 §4.2 lets the last box of a file use to run
to its end: an HLS player appends the init section and every segment into one byte stream (the W3C
ISO BMFF Byte Stream Format of MSE; FFmpeg's HLS reader alike), where such a box never ends, and
Chromium's MP4 parser refuses it outright. At the top level of a segment's head (the length of the
whole unknown) the last box may run past the bytes read; :class:`Truncated` says how many bytes
would do when a header or a box that must be whole is cut.

Fields are read through :class:`Fields`, which never reads past the end of its box: a box too
short for what its version and flags say it holds is Invalid too, never a read of the next box.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

# Box types that may open an ISO BMFF file or segment (14496-12 §4.3, §8.16.2 styp, §8.16.3 sidx).
LEADING = {b"ftyp", b"styp", b"moof", b"moov", b"sidx", b"emsg", b"prft", b"free", b"skip"}
UNKNOWN_END = 1 << 62  # the limit of a head's last box: the file's length is not known


class Truncated(ValueError):
    """The data ends before what is needed; ``need`` is how many bytes from the start would do."""

    def __init__(self, need: int):
        super().__init__(f"the data ends before byte {need}")
        self.need = need


class Invalid(ValueError):
    """Bytes no player can read. ``kind`` says which part of the format they break: "box" (sizes,
    truncation), "fragment" (moof/traf/trun layout), "tfdt", "samples" (sample data in the mdat),
    "track" (init section tracks and sample descriptions), "config" (codec configuration records)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Box:
    type: bytes
    start: int
    body: int  # first byte after the header
    end: int

    @property
    def name(self) -> str:
        return type_name(self.type)


def type_name(kind: bytes) -> str:
    """A box type as text for a one-line finding: its four characters, or hex when they are not printable."""
    return kind.decode("ascii") if all(32 <= c < 127 for c in kind) else "0x" + kind.hex()


def _header(data: bytes, i: int, limit: int, top: bool) -> Box:
    size = int.from_bytes(data[i : i + 4], "big")
    kind = data[i + 4 : i + 8]
    name = type_name(kind)
    header = 8
    if size == 1:
        if i + 16 > len(data):
            raise Truncated(i + 16)
        size, header = int.from_bytes(data[i + 8 : i + 16], "big"), 16
    elif size == 0:
        raise Invalid(
            "box", f"the {name} box at byte {i} has size 0 (to the end of the file), which never ends in a stream"
        )
    if size < header:
        raise Invalid("box", f"the {name} box at byte {i} has size {size}, less than its {header}-byte header")
    if i + size > limit:
        where = "the end of the file" if top else "the end of the box that holds it"
        raise Invalid(
            "box", f"the {name} box at byte {i} declares {size} bytes and runs past {where} ({limit - i} bytes left)"
        )
    return Box(kind, i, i + header, i + size)


def boxes(data: bytes, start: int = 0, end: int | None = None, *, whole: int | None = None) -> Iterator[Box]:
    """The boxes laid end to end in ``data[start:end]``.

    ``end`` given: the body of a container, which must lie within ``data``; every box must fit in it.
    ``end`` None: the top level of a file of ``whole`` bytes whose first ``len(data)`` are in ``data``
    (``whole`` None: a head of unknown length, whose last box may run past the data)."""
    top = end is None
    if end is None:
        stop = len(data) if whole is None else whole
    elif end > len(data):
        raise Truncated(end)
    else:
        stop = end
    limit = stop if not top or whole is not None else UNKNOWN_END
    i = start
    while i < stop:
        if i + 8 > stop:
            if whole is None and top:  # a head cut inside a box header
                raise Truncated(i + 16)
            if not top and not any(data[i:stop]):  # a zero terminator some muxers write (QuickTime)
                return
            raise Invalid("box", f"{stop - i} stray bytes follow the last box, at byte {i}")
        if i + 8 > len(data):
            raise Truncated(i + 16)
        box = _header(data, i, limit, top)
        yield box
        i = box.end


def is_fmp4(data: bytes) -> bool:
    """True when ``data`` starts with an ISO BMFF box header (MPEG-2 TS starts with 0x47)."""
    if len(data) < 8 or data[4:8] not in LEADING:
        return False
    size = int.from_bytes(data[:4], "big")
    return size in (0, 1) or size >= 8


def child(data: bytes, parent: Box, kind: bytes, skip: int = 0) -> Box | None:
    """The first ``kind`` box inside ``parent`` (after ``skip`` bytes of its body)."""
    return next((b for b in boxes(data, parent.body + skip, parent.end) if b.type == kind), None)


def children(data: bytes, parent: Box, kind: bytes) -> list[Box]:
    return [b for b in boxes(data, parent.body, parent.end) if b.type == kind]


class Fields:
    """Big-endian fields of one box body, read in order; Invalid when the box is too short."""

    def __init__(self, data: bytes, box: Box, skip: int = 0):
        if box.end > len(data):
            raise Truncated(box.end)
        self.data, self.box, self.at = data, box, box.body + skip

    def u(self, n: int) -> int:
        at = self.at
        self.skip(n)
        return int.from_bytes(self.data[at : at + n], "big")

    def s(self, n: int) -> int:
        value = self.u(n)
        return value - (1 << (8 * n)) if value >> (8 * n - 1) else value

    def skip(self, n: int) -> None:
        if self.at + n > self.box.end:
            raise Invalid("box", f"the {self.box.name} box ({self.box.end - self.box.start} bytes) is too short")
        self.at += n

    @property
    def left(self) -> int:
        return self.box.end - self.at
