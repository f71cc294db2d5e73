"""The strict box reader (ISO/IEC 14496-12 §4.2) and the bounds of the fragment reader, on hand-made
bytes: what each size means, that 64-bit sizes are read and size 0 refused, and that a declared sample
count never outruns the bytes present. Real FFmpeg output is mutated in tests/reliability."""

from __future__ import annotations

import struct

import pytest

from hlskit.hls import fmp4
from hlskit.hls.bmff import Fields, Invalid, Truncated, boxes
from tests.hls.fmp4_mutations import million_sample_segment


def box(kind: bytes, body: bytes = b"", size: int | None = None) -> bytes:
    return struct.pack(">I4s", 8 + len(body) if size is None else size, kind) + body


def test_sizes_at_the_top_level():
    data = box(b"ftyp", b"isom") + box(b"free", bytes(4))
    assert [(b.name, b.start, b.end) for b in boxes(data, whole=len(data))] == [("ftyp", 0, 12), ("free", 12, 24)]
    large = struct.pack(">I4sQ", 1, b"mdat", 20) + b"abcd"  # a 64-bit largesize
    assert [(b.body, b.end) for b in boxes(large, whole=len(large))] == [(16, 20)]
    for bad, words in (
        (box(b"ftyp", b"isom") + box(b"mdat", b"12345", size=0), "has size 0 \\(to the end of the file\\)"),
        (box(b"ftyp", size=7), "less than its 8-byte header"),
        (box(b"mdat", b"xy", size=0xFFFFFFFF), "declares 4294967295 bytes and runs past the end of the file"),
        (box(b"ftyp", b"isom") + b"\x01\x02", "2 stray bytes"),
    ):
        with pytest.raises(Invalid, match=words) as err:
            list(boxes(bad, whole=len(bad)))
        assert err.value.kind == "box"


def test_a_head_may_end_inside_its_last_box_but_not_inside_a_header():
    data = box(b"moof", bytes(8)) + box(b"mdat", bytes(100))
    assert [b.end for b in boxes(data[:30])] == [16, 124]  # the mdat runs past the 30 bytes read
    with pytest.raises(Truncated) as cut:
        list(boxes(data[:20]))
    assert cut.value.need == 16 + 16


def test_sizes_inside_a_container():
    def inside(*children: bytes) -> list:
        parent = box(b"moov", b"".join(children))
        (moov,) = boxes(parent, whole=len(parent))
        return [(b.name, b.end - b.start) for b in boxes(parent, moov.body, moov.end)]

    assert inside(box(b"mvhd", bytes(4)), bytes(4)) == [("mvhd", 12)]  # a zero terminator (QuickTime)
    for children, words in (
        ((box(b"trak", size=0), bytes(8)), "has size 0"),
        ((box(b"trak", bytes(4), size=40),), "runs past the end of the box that holds it"),
        ((box(b"trak"), b"\x07"), "1 stray bytes"),
    ):
        with pytest.raises(Invalid, match=words):
            inside(*children)


def test_fields_never_read_past_their_box():
    data = box(b"tfdt", bytes([1, 0, 0, 0]) + bytes(4))  # version 1 wants 8 bytes of time
    (tfdt,) = boxes(data, whole=len(data))
    f = Fields(data, tfdt)
    assert f.u(4) >> 24 == 1
    with pytest.raises(Invalid, match="the tfdt box \\(16 bytes\\) is too short"):
        f.u(8)


def _init(**track) -> fmp4.Init:
    return fmp4.Init([fmp4.Track(1, "vide", 90000, "avc1", "avc1.42c00d", length_size=4, **track)])


def test_a_declared_sample_count_is_bounded_by_the_mdat_before_anything_is_allocated():
    seg = million_sample_segment()
    with pytest.raises(Invalid, match="lists 1048575 samples; the mdat has 24 bytes for them") as err:
        fmp4.read_segment(seg, _init(), len(seg))
    assert err.value.kind == "samples"
    # The same trun declaring 24 one-byte samples (its trex default size) fits its mdat exactly.
    fits = seg.replace(struct.pack(">I", 1_048_575), struct.pack(">I", 24))
    run = fmp4.read_segment(fits, _init(default_size=1, default_duration=3000), len(fits)).runs[1]
    assert len(run.sizes) == 24 and run.offsets[0] == 92 and run.offsets[-1] == 115 and run.duration == 72000
    # One byte more than the mdat holds is refused, whichever way the count says it.
    over = seg.replace(struct.pack(">I", 1_048_575), struct.pack(">I", 13))
    with pytest.raises(Invalid, match="end at byte 118, past the end of the mdat \\(116\\)"):
        fmp4.read_segment(over, _init(default_size=2), len(over))
