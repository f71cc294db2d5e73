"""Reading decrypted TS segments in tests: sync bytes, first video NAL units, first PTS (via PyAV)."""

from __future__ import annotations

import io

import av

VCL = range(1, 6)


def ts_sync_ok(data: bytes) -> bool:
    return len(data) % 188 == 0 and all(data[i] == 0x47 for i in range(0, len(data), 188))


def nal_types(annexb: bytes) -> list[int]:
    types = []
    i = 0
    while True:
        i = annexb.find(b"\x00\x00\x01", i)
        if i < 0 or i + 3 >= len(annexb):
            return types
        types.append(annexb[i + 3] & 0x1F)
        i += 3


def first_video_packet(ts: bytes):
    with av.open(io.BytesIO(ts), format="mpegts") as c:
        stream = c.streams.video[0]
        for packet in c.demux(stream):
            if packet.size:
                return bytes(packet), float(packet.pts * stream.time_base)
    raise AssertionError("no video packet in segment")


def starts_with_idr(ts: bytes) -> bool:
    """True when the first coded picture of the segment is an IDR (NAL type 5)."""
    data, _ = first_video_packet(ts)
    vcl = [t for t in nal_types(data) if t in VCL]
    return bool(vcl) and vcl[0] == 5


def first_pts(ts: bytes) -> float:
    return first_video_packet(ts)[1]
