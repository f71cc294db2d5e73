"""The movie fragments of an fMP4 media segment ([styp] [sidx] (moof mdat)+, ISO/IEC 14496-12 §8.8),
read strictly and within bounds that hold by construction.

Per track: the tfdt and every sample's duration, size, flags and byte offset (trun, else tfhd, else
trex defaults, §8.8.7-8.8.8), and the byte range of the first video sample with whether it is a
sync sample. What no player can play is :class:`~hlskit.hls.bmff.Invalid`: a moof not followed by
its mdat, a traf without tfhd, tfdt (RFC 8216 §3.3 requires one in every traf) or samples, a track
the init section does not describe, a trun whose size is not what its sample_count and flags say,
and sample data that starts or ends outside the mdat or overlaps another run's.

Bounds: a trun's per-sample table is read from its own bytes, which must be present; its samples
must fit in the mdat that follows (each at least one byte, so a trun cannot list more samples than
the mdat has bytes), and a segment holds at most :data:`MAX_SAMPLES`. These checks run before
anything is allocated, and samples are kept in 4- and 8-byte arrays, not lists of Python ints.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import accumulate

from .bmff import Box, Fields, Invalid, Truncated, boxes, child, children, is_fmp4
from .fmp4_init import Init, Track

NON_SYNC = 0x10000  # sample_is_non_sync_sample in sample flags (14496-12 §8.8.3.1)
MAX_SAMPLES = 1 << 18  # per segment: 24 min at 180 fps; a bound on hostile input
_SWAP = sys.byteorder == "little"


def _u32(values: Iterable[int] = ()) -> array:
    return array("I", values)


@dataclass
class Span:
    """One track's samples in one segment, summed up: what timing checks keep per segment."""

    decode_time: int | None
    duration: int
    presentation: tuple[int, int] | None  # (earliest presentation time, end of the last sample)
    longest: int  # the longest sample duration
    count: int


@dataclass
class Run:
    """One track's samples in a segment (every traf of every moof, in order)."""

    track_id: int
    decode_time: int | None = None  # tfdt baseMediaDecodeTime of the first traf
    durations: array = field(default_factory=_u32)
    sizes: array = field(default_factory=_u32)
    flags: array = field(default_factory=_u32)
    offsets: array = field(default_factory=lambda: array("Q"))  # byte offset of each sample in the segment
    composition: array = field(default_factory=lambda: array("q"))  # composition time offsets (B-frames)

    @property
    def duration(self) -> int:
        return sum(self.durations)

    def presentation(self, media_time: int = 0) -> tuple[int, int] | None:
        """(earliest presentation time, end of the last presented sample) in the track timescale:
        decode time + composition offset - the edit list's media time (14496-12 §8.6.1.1)."""
        if self.decode_time is None or not self.durations:
            return None
        if not any(self.composition):
            first = self.decode_time - media_time
            return first, first + self.duration
        dts, starts, ends = self.decode_time, [], []
        for d, c in zip(self.durations, self.composition):  # composition is not empty: any() above
            pts = dts + c - media_time
            starts.append(pts)
            ends.append(pts + d)
            dts += d
        return min(starts), max(ends)

    def span(self, media_time: int = 0) -> Span:
        longest = max(self.durations) if self.durations else 0
        return Span(self.decode_time, self.duration, self.presentation(media_time), longest, len(self.durations))


@dataclass
class Sample:
    offset: int
    size: int
    sync: bool  # sample_is_non_sync_sample clear
    key: bool | None  # IDR / IRAP by its NAL unit types (AVC/HEVC); None when not checkable

    @property
    def end(self) -> int:
        return self.offset + self.size


@dataclass
class Fragments:
    runs: dict[int, Run]
    first_moof: int  # byte offset of the first moof
    first_video: Sample | None
    complete: bool  # every moof of the segment was read (durations are whole)


def read_segment(data: bytes, init: Init, total: int | None = None) -> Fragments:
    """The movie fragments of a media segment, or of its head.

    ``total``: the segment's plain length; then every moof must be read, and Truncated says how
    many bytes to read when more boxes follow an mdat that the data ends in. None: a head (or an
    I-frame byte range) is enough when it holds the first moof and the first video sample."""
    if not is_fmp4(data[:8]):
        raise ValueError("the segment does not start with an ISO BMFF box")
    runs: dict[int, Run] = {}
    first_moof = pending = None
    complete = True
    for box in boxes(data, whole=total):
        if box.type == b"moof":
            if pending is not None:
                raise Invalid("fragment", f"the moof box at byte {pending.start} has no mdat box after it")
            if box.end > len(data):
                raise Truncated(box.end + 16)  # the moof and the header of the box after it
            pending = box
            first_moof = box.start if first_moof is None else first_moof
        elif box.type == b"mdat":
            if pending is None and first_moof is None:
                raise Invalid("fragment", f"the mdat box at byte {box.start} comes before any moof box")
            if pending is not None:
                _fragment(data, pending, box, init, runs)
                pending = None
            if box.end > len(data):  # the samples are not read: only what follows matters
                if total is None:
                    complete = False
                    break
                if box.end < total:
                    raise Truncated(box.end + 16)  # more fragments follow: their moof too
        elif box.end > len(data):
            if total is None and first_moof is not None:
                break
            raise Truncated(box.end + 16)
    if pending is not None:
        if total is None:
            raise Truncated(len(data) + 16)
        raise Invalid("fragment", f"the moof box at byte {pending.start} has no mdat box after it")
    if first_moof is None:
        if total is None:
            raise Truncated(max(4 * len(data), 4096))
        raise Invalid("fragment", "the segment has no moof box: no movie fragment")
    return Fragments(runs, first_moof, _first_video(data, init, runs), complete)


def _first_video(data: bytes, init: Init, runs: dict[int, Run]) -> Sample | None:
    video = init.video
    run = runs.get(video.track_id) if video is not None else None
    if video is None or run is None or not run.sizes:
        return None
    sample = Sample(run.offsets[0], run.sizes[0], not run.flags[0] & NON_SYNC, None)
    if sample.end > len(data):
        raise Truncated(sample.end)
    sample.key = is_key(data[sample.offset : sample.end], video)
    return sample


def _fragment(data: bytes, moof: Box, mdat: Box, init: Init, runs: dict[int, Run]) -> None:
    """The samples of one moof, placed in the mdat that follows it."""
    ranges = []
    data_end = moof.start  # where the previous traf's data ended (no base offset flags)
    for traf in children(data, moof, b"traf"):
        tfhd = child(data, traf, b"tfhd")
        if tfhd is None:
            raise Invalid("fragment", "a traf has no tfhd box")
        f = Fields(data, tfhd)
        flags = f.u(4) & 0xFFFFFF
        track_id = f.u(4)
        track = init.track(track_id)
        if track is None:
            raise Invalid("fragment", f"a traf is for track {track_id}, which the initialization section lacks")
        base = f.u(8) if flags & 0x1 else moof.start if flags & 0x20000 else data_end
        if flags & 0x2 and not 1 <= f.u(4) <= track.entries:
            raise Invalid("fragment", f"the tfhd of track {track_id} names a sample description the stsd lacks")
        duration = f.u(4) if flags & 0x8 else track.default_duration
        size = f.u(4) if flags & 0x10 else track.default_size
        sample_flags = f.u(4) if flags & 0x20 else track.default_flags
        tfdt = child(data, traf, b"tfdt")
        if tfdt is None:
            raise Invalid("tfdt", f"the traf of track {track_id} has no tfdt box (baseMediaDecodeTime)")
        t = Fields(data, tfdt)
        version = t.u(4) >> 24
        decode_time = t.u(8 if version == 1 else 4)
        run = runs.setdefault(track_id, Run(track_id))
        run.decode_time = decode_time if run.decode_time is None else run.decode_time
        truns = children(data, traf, b"trun")
        if not truns and not flags & 0x10000:  # duration-is-empty: an empty fragment on purpose
            raise Invalid("fragment", f"the traf of track {track_id} has no trun box: no samples")
        offset = base
        for trun in truns:
            held = sum(len(r.sizes) for r in runs.values())
            start, offset = _trun(data, trun, base, offset, (duration, size, sample_flags), run, mdat, held)
            ranges.append((start, offset))
        data_end = offset
    ranges = sorted(r for r in ranges if r[1] > r[0])
    for (_, end), (start, _) in zip(ranges, ranges[1:]):
        if start < end:
            raise Invalid("samples", f"two track runs share the bytes {start}-{end} of the mdat")


def _trun(
    data: bytes, trun: Box, base: int, offset: int, defaults: tuple[int, int, int], run: Run, mdat: Box, held: int
) -> tuple[int, int]:
    """Append one trun's samples to ``run``; where its data starts and ends. ``held``: samples already read."""
    f = Fields(data, trun)
    version, flags, count = f.u(1), f.u(3), f.u(4)
    if flags & 0x1:  # data-offset-present: relative to the base
        offset = base + f.s(4)
    first_flags = f.u(4) if flags & 0x4 else None
    present = [bit for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit]
    if f.left != 4 * len(present) * count:
        raise Invalid(
            "fragment",
            f"the trun of track {run.track_id} lists {count} samples of {4 * len(present)} bytes but holds {f.left}",
        )
    if count == 0:  # no sample, no data: where it points does not matter
        return offset, offset
    room = mdat.end - offset
    where = f"the trun of track {run.track_id}"
    if offset < mdat.body or offset > mdat.end:
        raise Invalid(
            "samples", f"{where} puts its samples at byte {offset}, outside the mdat ({mdat.body}-{mdat.end})"
        )
    if count > room or held + count > MAX_SAMPLES:  # every sample takes a byte of the mdat at least
        raise Invalid("samples", f"{where} lists {count} samples; the mdat has {room} bytes for them")
    columns = _table(data[f.at : f.at + 4 * len(present) * count], len(present))
    duration, size, sample_flags = defaults
    column = dict(zip(present, columns))
    sizes = column.get(0x200) or _u32([size]) * count
    end = offset + (sum(sizes) if 0x200 in column else size * count)
    if end > mdat.end:
        raise Invalid("samples", f"the samples of {where} end at byte {end}, past the end of the mdat ({mdat.end})")
    run.durations.extend(column.get(0x100) or _u32([duration]) * count)
    run.sizes.extend(sizes)
    flag_column = column.get(0x400) or _u32([sample_flags]) * count
    if first_flags is not None and 0x400 not in column and count:
        flag_column[0] = first_flags
    run.flags.extend(flag_column)
    composition = column.get(0x800)
    if composition is not None and version == 1:  # signed in version 1
        composition = array("i", composition.tobytes())
    run.composition.extend(array("q", composition) if composition is not None else array("q", [0]) * count)
    run.offsets.extend(accumulate(sizes[:-1], initial=offset))
    return offset, end


def _table(table: bytes, width: int) -> list[array]:
    """The columns of a trun's sample table (big-endian 32-bit fields, ``width`` per row)."""
    if not width:
        return []
    values = array("I", table)
    if _SWAP:
        values.byteswap()
    return [values[k::width] for k in range(width)]


def nal_types(sample: bytes, length_size: int) -> list[int]:
    """The NAL unit header bytes' first byte of each length-prefixed NAL unit (14496-15 §4.3.2)."""
    out, i = [], 0
    while i + length_size < len(sample):
        n = int.from_bytes(sample[i : i + length_size], "big")
        if n == 0:
            break
        out.append(sample[i + length_size])
        i += length_size + n
    return out


def is_key(sample: bytes, track: Track) -> bool | None:
    """Whether a video sample is an IDR (H.264 nal_unit_type 5) or an IRAP picture (HEVC types
    16-23) by its first coded slice; None for AV1 and others, where the sync flag is the word."""
    if not track.length_size or track.fourcc not in ("avc1", "avc3", "hvc1", "hev1"):
        return None
    for byte in nal_types(sample, track.length_size):
        if track.fourcc.startswith("avc"):
            kind = byte & 0x1F
            if kind in (1, 5):  # the first coded slice
                return kind == 5
        else:
            kind = (byte >> 1) & 0x3F
            if kind < 32:  # VCL
                return 16 <= kind <= 23
    return False
