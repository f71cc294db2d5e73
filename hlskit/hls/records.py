"""RFC 6381 codec strings from ISO BMFF decoder configuration records, and the bit reader they share
with the H.264 SPS parser (hlskit.hls.codecs).

``avcC`` (ISO/IEC 14496-15 §5.3.3.1) gives ``avc1.PPCCLL``; ``hvcC`` (14496-15 §8.3.3.1) gives
``hvc1.``/``hev1.`` as 14496-15 Annex E writes it; ``av1C`` with its sequence header OBU gives
``av01.P.LLT.DD`` (AV1 Codec ISO Media File Format Binding, "Codecs Parameter String"); ``esds``
(ISO/IEC 14496-1 §7.2.6.5, 14496-3 §1.6.2.1) gives ``mp4a.40.N``. Each raises ValueError with the
reason when a record cannot be read.
"""

from __future__ import annotations

from dataclasses import dataclass


class Bits:
    """MSB-first bit reader with Exp-Golomb (H.264/HEVC) and uvlc (AV1) codes."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def u(self, n: int) -> int:
        v = 0
        for _ in range(n):
            byte = self.data[self.pos >> 3]  # IndexError on truncated data
            v = (v << 1) | ((byte >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return v

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("bad exp-Golomb code")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)

    def uvlc(self) -> int:
        """AV1 spec 4.10.3."""
        zeros = 0
        while not self.u(1):
            zeros += 1
            if zeros >= 32:
                return (1 << 32) - 1
        return self.u(zeros) + (1 << zeros) - 1


@dataclass(frozen=True)
class Codec:
    """What a configuration record says: the RFC 6381 string and the profile/level it carries."""

    codec: str
    profile: int
    level: int
    length_size: int = 0  # bytes of each NAL unit length prefix in samples (AVC/HEVC), else 0
    parameter_sets: frozenset[int] = frozenset()  # NAL unit types of the parameter sets the record holds


def _u16(record: bytes, i: int, what: str) -> int:
    if i + 2 > len(record):
        raise ValueError(f"the {what} record is cut short")
    return int.from_bytes(record[i : i + 2], "big")


def _nal(record: bytes, i: int, what: str) -> tuple[bytes, int]:
    """The length-prefixed (16-bit) NAL unit at ``i`` of a configuration record, and where it ends."""
    n = _u16(record, i, what)
    if i + 2 + n > len(record) or n == 0:
        raise ValueError(f"a parameter set in the {what} record runs past its end ({n} bytes at byte {i + 2})")
    return record[i + 2 : i + 2 + n], i + 2 + n


def _length_size(byte: int, what: str) -> int:
    size = (byte & 3) + 1
    if size == 3:  # lengthSizeMinusOne is 0, 1 or 3 (14496-15 §5.3.3.1.2, §8.3.3.1.2)
        raise ValueError(f"the {what} record gives NAL unit lengths of 3 bytes (lengthSizeMinusOne 2)")
    return size


def avc_codec(fourcc: str, avcc: bytes) -> Codec:
    """``avc1.PPCCLL`` from AVCProfileIndication, profile_compatibility, AVCLevelIndication (RFC 6381 §3.3).

    The record is walked whole (14496-15 §5.3.3.1): its SPS and PPS arrays lie within it and hold
    NAL units of those types, and the first SPS's profile_idc is AVCProfileIndication."""
    if len(avcc) < 7 or avcc[0] != 1:
        raise ValueError("the avcC record is not configurationVersion 1")
    length_size = _length_size(avcc[4], "avcC")
    i, sets = 5, dict[int, bytes]()
    for kind, mask in ((7, 0x1F), (8, 0xFF)):  # numOfSequenceParameterSets (5 bits), then PPS (8 bits)
        if i >= len(avcc):
            raise ValueError("the avcC record is cut short")
        count, i = avcc[i] & mask, i + 1
        for _ in range(count):
            nal, i = _nal(avcc, i, "avcC")
            if nal[0] & 0x80 or nal[0] & 0x1F != kind:
                raise ValueError(f"the avcC record holds NAL unit type {nal[0] & 0x1F} where an {_AVC[kind]} belongs")
            sets.setdefault(kind, nal)
    sps = sets.get(7)
    if sps is not None and (len(sps) < 4 or sps[1] != avcc[1]):
        raise ValueError(f"the avcC says profile {avcc[1]} but its SPS says {sps[1] if len(sps) > 1 else '?'}")
    codec = f"{fourcc}.{avcc[1]:02x}{avcc[2]:02x}{avcc[3]:02x}"
    return Codec(codec, avcc[1], avcc[3], length_size, frozenset(sets))


_AVC = {7: "SPS", 8: "PPS"}


def hevc_codec(fourcc: str, hvcc: bytes) -> Codec:
    """``hvc1.[A|B|C]<profile_idc>.<compat flags, bit-reversed, hex>.<L|H><level_idc>[.<constraint bytes>]``
    with trailing zero constraint bytes left out (ISO/IEC 14496-15 Annex E.3)."""
    if len(hvcc) < 23 or hvcc[0] != 1:
        raise ValueError("the hvcC record is not configurationVersion 1")
    length_size = _length_size(hvcc[21], "hvcC")
    sets = _hevc_arrays(hvcc)
    sps = _rbsp(sets[33][2:]) if 33 in sets else None
    if sps is not None and (len(sps) < 13 or sps[1] != hvcc[1] or sps[12] > hvcc[12]):
        raise ValueError("the hvcC's profile and level are not those of its SPS")
    space, tier, profile = hvcc[1] >> 6, (hvcc[1] >> 5) & 1, hvcc[1] & 0x1F
    compat = int.from_bytes(hvcc[2:6], "big")
    reversed_compat = int(f"{compat:032b}"[::-1], 2)
    constraints = list(hvcc[6:12])
    while constraints and constraints[-1] == 0:
        constraints.pop()
    level = hvcc[12]
    parts = [
        fourcc,
        f"{'ABC'[space - 1] if space else ''}{profile}",
        f"{reversed_compat:X}",
        f"{'HL'[tier == 0]}{level}",
    ]
    parts += [f"{b:X}" for b in constraints]
    return Codec(".".join(parts), profile, level, length_size, frozenset(sets))


def _hevc_arrays(hvcc: bytes) -> dict[int, bytes]:
    """The first NAL unit of each parameter set array of an hvcC (14496-15 §8.3.3.1): every array
    and NAL unit within the record, each NAL unit of its array's type with a valid header."""
    sets: dict[int, bytes] = {}
    i = 23
    for _ in range(hvcc[22]):  # numOfArrays
        if i >= len(hvcc):
            raise ValueError("the hvcC record is cut short")
        kind, count = hvcc[i] & 0x3F, _u16(hvcc, i + 1, "hvcC")
        i += 3
        for _ in range(count):
            nal, i = _nal(hvcc, i, "hvcC")
            if len(nal) < 2 or nal[0] & 0x80 or (nal[0] >> 1) & 0x3F != kind or not nal[1] & 7:
                raise ValueError(f"the hvcC record's array of NAL unit type {kind} holds a NAL unit of another type")
            sets.setdefault(kind, nal)
    return sets


def _rbsp(nal: bytes) -> bytes:
    """A NAL unit payload without its emulation prevention bytes (H.264 / H.265 §7.4.2)."""
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


@dataclass(frozen=True)
class _Av1Color:
    bit_depth: int
    mono: int
    sub_x: int
    sub_y: int
    position: int
    primaries: int
    transfer: int
    matrix: int
    full_range: int
    described: bool


def av1_codec(fourcc: str, av1c: bytes) -> Codec:
    """``av01.P.LLT.DD`` from av1C and its sequence header OBU; the optional ``.M.CCC.cp.tc.mc.F``
    fields are added only when they differ from the defaults the binding gives for leaving them
    out (0.110.01.01.01.0), which needs the sequence header's color_config (AV1 spec 5.5.2)."""
    if len(av1c) < 4 or av1c[0] != 0x81:
        raise ValueError("the av1C record is not marker 1, version 1")
    profile, level, tier = av1c[1] >> 5, av1c[1] & 0x1F, av1c[2] >> 7
    high, twelve = (av1c[2] >> 6) & 1, (av1c[2] >> 5) & 1
    depth = (12 if twelve else 10) if high else 8
    codec = f"{fourcc}.{profile}.{level:02d}{'MH'[tier]}.{depth:02d}"
    headers = [p for k, p in _obus(av1c[4:]) if k == 1]
    if headers and (not headers[0] or headers[0][0] >> 5 != profile):
        raise ValueError("the av1C's seq_profile is not that of its sequence header OBU")
    color = _sequence_color(av1c[4:])
    if color is not None:
        defaults = (color.mono, color.sub_x, color.sub_y, color.position, color.full_range) == (0, 1, 1, 0, 0) and (
            not color.described or (color.primaries, color.transfer, color.matrix) == (1, 1, 1)
        )
        if not defaults:
            codec += (
                f".{color.mono}.{color.sub_x}{color.sub_y}{color.position}"
                f".{color.primaries:02d}.{color.transfer:02d}.{color.matrix:02d}.{color.full_range}"
            )
    return Codec(codec, profile, level)


def _obus(obus: bytes) -> list[tuple[int, bytes]]:
    """(obu_type, payload) of each OBU of av1C's configOBUs (low overhead format, AV1 spec 5.3);
    ValueError when one is malformed (forbidden bit set, a size running past the record)."""
    out, i = [], 0
    while i < len(obus):
        header = obus[i]
        kind, has_ext, has_size = (header >> 3) & 0xF, (header >> 2) & 1, (header >> 1) & 1
        if header & 0x80:
            raise ValueError("an OBU in the av1C record has its forbidden bit set")
        i += 1 + has_ext
        size = len(obus) - i
        if has_size:
            size, shift = 0, 0
            while True:  # leb128 (AV1 spec 4.10.5)
                if i >= len(obus) or shift > 56:
                    raise ValueError("an OBU size in the av1C record is cut short")
                byte = obus[i]
                i += 1
                size |= (byte & 0x7F) << shift
                shift += 7
                if not byte & 0x80:
                    break
        if i + size > len(obus):
            raise ValueError("an OBU in the av1C record runs past its end")
        out.append((kind, obus[i : i + size]))
        i += size
    return out


def _sequence_color(obus: bytes) -> _Av1Color | None:
    """color_config of the first sequence header OBU in ``obus`` (low overhead format), or None."""
    for kind, payload in _obus(obus):
        if kind == 1:  # OBU_SEQUENCE_HEADER
            try:
                return _color_config(Bits(payload))
            except IndexError:
                return None
    return None


def _color_config(b: Bits) -> _Av1Color:
    """Walk sequence_header_obu() (AV1 spec 5.5.1) up to color_config() (5.5.2)."""
    profile, _still, reduced = b.u(3), b.u(1), b.u(1)
    if reduced:
        b.u(5)  # seq_level_idx[0]
    else:
        decoder_model = 0
        buffer_delay_bits = 0
        if b.u(1):  # timing_info_present_flag
            b.u(32), b.u(32)
            if b.u(1):  # equal_picture_interval
                b.uvlc()
            decoder_model = b.u(1)
            if decoder_model:
                buffer_delay_bits = b.u(5) + 1
                b.u(32), b.u(5), b.u(5)
        initial_delay = b.u(1)
        for _ in range(b.u(5) + 1):  # operating points
            b.u(12)
            if b.u(5) > 7:
                b.u(1)  # seq_tier
            if decoder_model and b.u(1):
                b.u(buffer_delay_bits), b.u(buffer_delay_bits), b.u(1)
            if initial_delay and b.u(1):
                b.u(4)
    width_bits, height_bits = b.u(4) + 1, b.u(4) + 1
    b.u(width_bits), b.u(height_bits)
    if not reduced and b.u(1):  # frame_id_numbers_present_flag
        b.u(4), b.u(3)
    b.u(3)  # use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
    if not reduced:
        b.u(4)  # interintra, masked compound, warped motion, dual filter
        order_hint = b.u(1)
        if order_hint:
            b.u(2)  # jnt_comp, ref_frame_mvs
        force_screen = 2 if b.u(1) else b.u(1)
        if force_screen > 0 and not b.u(1):
            b.u(1)  # seq_force_integer_mv
        if order_hint:
            b.u(3)
    b.u(3)  # superres, cdef, restoration
    high = b.u(1)
    depth = 8
    if profile == 2 and high:
        depth = 12 if b.u(1) else 10
    elif high:
        depth = 10
    mono = 0 if profile == 1 else b.u(1)
    described = b.u(1)
    cp, tc, mc = (b.u(8), b.u(8), b.u(8)) if described else (2, 2, 2)
    if mono:
        return _Av1Color(depth, 1, 1, 1, 0, cp, tc, mc, b.u(1), bool(described))
    if (cp, tc, mc) == (1, 13, 0):  # sRGB: full range 4:4:4
        return _Av1Color(depth, 0, 0, 0, 0, cp, tc, mc, 1, bool(described))
    full = b.u(1)
    sub_x, sub_y = (1, 1) if profile == 0 else (0, 0) if profile == 1 else (1, 0)
    if profile == 2 and depth == 12:
        sub_x = b.u(1)
        sub_y = b.u(1) if sub_x else 0
    position = b.u(2) if sub_x and sub_y else 0
    return _Av1Color(depth, 0, sub_x, sub_y, position, cp, tc, mc, full, bool(described))


@dataclass(frozen=True)
class Audio:
    codec: str  # mp4a.40.<AOT>
    object_type: int
    sample_rate: int
    channels: int


RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)


def _descriptor(data: bytes, i: int) -> tuple[int, int, int]:
    """(tag, body start, body end) of the ISO/IEC 14496-1 descriptor at ``i`` (size: 7 bits a byte)."""
    tag, i, size = data[i], i + 1, 0
    for _ in range(4):
        byte = data[i]
        i += 1
        size = (size << 7) | (byte & 0x7F)
        if not byte & 0x80:
            break
    if i + size > len(data):
        raise ValueError(f"a descriptor (tag {tag}) in the esds box runs past its end")
    return tag, i, i + size


def mp4a_codec(esds: bytes) -> Audio:
    """``mp4a.<OTI hex>.<AOT>`` from the ES_Descriptor's DecoderConfigDescriptor and the
    AudioSpecificConfig in it (the first 5 bits, 31 = escape to 32 + the next 6)."""
    try:
        tag, i, end = _descriptor(esds, 4)  # after the full box version and flags
        if tag != 0x03:
            raise ValueError("no ES_Descriptor")
        flags = esds[i + 2]
        i += 3 + (2 if flags & 0x80 else 0)
        if flags & 0x40:
            i += 1 + esds[i]
        if flags & 0x20:
            i += 2
        tag, i, end = _descriptor(esds, i)
        if tag != 0x04:
            raise ValueError("no DecoderConfigDescriptor")
        oti = esds[i]
        tag, j, _ = _descriptor(esds, i + 13)
        if oti != 0x40 or tag != 0x05:
            raise ValueError(f"objectTypeIndication 0x{oti:02x} is not MPEG-4 Audio")
        b = Bits(esds[j:])
        aot = b.u(5)
        if aot == 31:
            aot = 32 + b.u(6)
        index = b.u(4)
        rate = b.u(24) if index == 15 else RATES[index] if index < len(RATES) else 0
        channels = b.u(4)
    except IndexError:
        raise ValueError("the esds box is cut short") from None
    if aot == 0 or rate == 0:  # AOT 0 is "null"; sampling frequency indexes 13 and 14 are reserved
        raise ValueError(f"the AudioSpecificConfig gives object type {aot} at {rate} Hz, which no decoder takes")
    return Audio(f"mp4a.40.{aot}", aot, rate, channels)
