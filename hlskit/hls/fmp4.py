"""Just enough ISO BMFF (ISO/IEC 14496-12) to read fMP4 HLS: init sections and media segments.

Pure functions on bytes. An init section (ftyp + moov with mvex, RFC 8216 §3.3) gives per track
its ID, handler, timescale, sample entry and RFC 6381 codec (hlskit.hls.records), display size
and the trex defaults. A media segment ([styp] [sidx] moof mdat ..., 14496-12 §8.8) gives per
track the tfdt and every sample's duration, size and flags (trun, else tfhd, else trex defaults,
§8.8.7-8.8.8), and the byte range of the first video sample with whether it is a sync sample.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .records import Audio, Codec, av1_codec, avc_codec, hevc_codec, mp4a_codec

# Box types that may open an ISO BMFF file or segment (14496-12 §4.3, §8.16.2 styp, §8.16.3 sidx).
LEADING = {b"ftyp", b"styp", b"moof", b"moov", b"sidx", b"emsg", b"prft", b"free", b"skip"}
NON_SYNC = 0x10000  # sample_is_non_sync_sample in sample flags (14496-12 §8.8.3.1)
MAX_SAMPLES = 1 << 20  # per segment: far above any frame count, and a bound on hostile input


class Truncated(ValueError):
    """The data ends before what is needed; ``need`` is how many bytes from the start would do."""

    def __init__(self, need: int):
        super().__init__(f"the data ends before byte {need}")
        self.need = need


@dataclass(frozen=True)
class Box:
    type: bytes
    start: int
    body: int  # first byte after the header
    end: int

    @property
    def name(self) -> str:
        return self.type.decode("latin-1")


def boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """The boxes laid end to end in ``data[start:end]``; the last may reach past the data (a head).
    Raises ValueError on a size that cannot be (smaller than its header)."""
    end = len(data) if end is None else end
    i = start
    while i + 8 <= end:
        size = int.from_bytes(data[i : i + 4], "big")
        header = 8
        if size == 1:
            if i + 16 > len(data):
                raise Truncated(i + 16)
            size, header = int.from_bytes(data[i + 8 : i + 16], "big"), 16
        elif size == 0:  # to the end of the file (14496-12 §4.2): of what we have
            size = end - i
        if size < header:
            raise ValueError(f"box at byte {i} has size {size}")
        yield Box(data[i + 4 : i + 8], i, i + header, i + size)
        i += size


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


def _u(data: bytes, at: int, n: int) -> int:
    if at + n > len(data):
        raise Truncated(at + n)
    return int.from_bytes(data[at : at + n], "big")


@dataclass
class Track:
    track_id: int
    handler: str  # "vide", "soun", ...
    timescale: int
    fourcc: str  # sample entry type
    codec: str | None  # RFC 6381, None when the sample entry is not one hlskit names
    width: int = 0  # sample entry size (the coded picture after cropping, 14496-15)
    height: int = 0
    display_width: int = 0  # tkhd (after pixel aspect ratio)
    display_height: int = 0
    pasp: tuple[int, int] = (1, 1)
    profile: int = 0
    level: int = 0
    length_size: int = 0  # NAL unit length prefix (AVC/HEVC)
    audio: Audio | None = None
    transfer: int | None = None  # colr nclx transfer characteristics (ITU-T H.273), None without one
    media_time: int = 0  # elst: the media time presented first (14496-12 §8.6.6), empty edits aside
    default_duration: int = 0  # trex (14496-12 §8.8.3)
    default_size: int = 0
    default_flags: int = 0


@dataclass
class Init:
    tracks: list[Track]

    @property
    def video(self) -> Track | None:
        return next((t for t in self.tracks if t.handler == "vide"), None)

    @property
    def audio(self) -> Track | None:
        return next((t for t in self.tracks if t.handler == "soun"), None)

    def track(self, track_id: int) -> Track | None:
        return next((t for t in self.tracks if t.track_id == track_id), None)


def read_init(data: bytes) -> Init:
    """The tracks of an initialization section; ValueError saying what is missing."""
    top = {b.type: b for b in boxes(data)}
    moov = top.get(b"moov")
    if moov is None or moov.end > len(data):
        raise ValueError("no whole moov box: not an fMP4 initialization section")
    mvex = child(data, moov, b"mvex")
    if mvex is None:
        raise ValueError("the moov has no mvex box, so the file is not fragmented")
    tracks = [_track(data, trak) for trak in children(data, moov, b"trak")]
    if not tracks:
        raise ValueError("the moov has no track")
    for trex in children(data, mvex, b"trex"):
        track = next((t for t in tracks if t.track_id == _u(data, trex.body + 4, 4)), None)
        if track:
            track.default_duration = _u(data, trex.body + 12, 4)
            track.default_size = _u(data, trex.body + 16, 4)
            track.default_flags = _u(data, trex.body + 20, 4)
    return Init(tracks)


def _need(box: Box | None, what: str) -> Box:
    if box is None:
        raise ValueError(f"no {what} box in a track")
    return box


def _track(data: bytes, trak: Box) -> Track:
    tkhd = _need(child(data, trak, b"tkhd"), "tkhd")
    v1 = data[tkhd.body] == 1
    track_id = _u(data, tkhd.body + (20 if v1 else 12), 4)
    mdia = _need(child(data, trak, b"mdia"), "mdia")
    mdhd = _need(child(data, mdia, b"mdhd"), "mdhd")
    timescale = _u(data, mdhd.body + (20 if data[mdhd.body] == 1 else 12), 4)
    hdlr = _need(child(data, mdia, b"hdlr"), "hdlr")
    handler = data[hdlr.body + 8 : hdlr.body + 12].decode("latin-1")
    stbl = _need(child(data, _need(child(data, mdia, b"minf"), "minf"), b"stbl"), "stbl")
    stsd = _need(child(data, stbl, b"stsd"), "stsd")
    entry = next(boxes(data, stsd.body + 8, stsd.end), None)
    if entry is None:
        raise ValueError(f"track {track_id} has no sample entry")
    track = Track(track_id, handler, timescale, entry.name, None)
    edts = child(data, trak, b"edts")
    elst = child(data, edts, b"elst") if edts else None
    if elst is not None:
        v1, at = data[elst.body] == 1, elst.body + 8
        for _ in range(_u(data, elst.body + 4, 4)):
            width = 8 if v1 else 4
            media_time = int.from_bytes(data[at + width : at + 2 * width], "big", signed=True)
            at += 2 * width + 4
            if media_time != -1:  # -1: an empty edit
                track.media_time = media_time
                break
    track.display_width = _u(data, tkhd.end - 8, 4) >> 16
    track.display_height = _u(data, tkhd.end - 4, 4) >> 16
    if handler == "vide":
        _video_entry(data, entry, track)
    elif entry.type == b"mp4a":
        esds = child(data, entry, b"esds", skip=28)  # AudioSampleEntry fields (14496-12 §12.2.3)
        if esds is None:
            raise ValueError("the mp4a sample entry has no esds box")
        track.audio = mp4a_codec(data[esds.body : esds.end])
        track.codec = track.audio.codec
    return track


_CONFIG = {"avc1": b"avcC", "avc3": b"avcC", "hvc1": b"hvcC", "hev1": b"hvcC", "av01": b"av1C"}


def _video_entry(data: bytes, entry: Box, track: Track) -> None:
    track.width, track.height = _u(data, entry.body + 24, 2), _u(data, entry.body + 26, 2)
    if track.fourcc not in _CONFIG:
        return
    skip = 78  # VisualSampleEntry fields before the boxes (14496-12 §12.1.3)
    config = child(data, entry, _CONFIG[track.fourcc], skip=skip)
    if config is None:
        raise ValueError(f"the {track.fourcc} sample entry has no {_CONFIG[track.fourcc].decode()} box")
    record = data[config.body : config.end]
    read = {"avcC": avc_codec, "hvcC": hevc_codec, "av1C": av1_codec}[config.name]
    found: Codec = read(track.fourcc, record)
    track.codec, track.profile, track.level, track.length_size = (
        found.codec,
        found.profile,
        found.level,
        found.length_size,
    )
    pasp = child(data, entry, b"pasp", skip=skip)
    if pasp is not None:
        track.pasp = (_u(data, pasp.body, 4), _u(data, pasp.body + 4, 4))
    colr = child(data, entry, b"colr", skip=skip)  # 14496-12 §12.1.5: primaries, transfer, matrix
    if colr is not None and data[colr.body : colr.body + 4] in (b"nclx", b"nclc"):
        track.transfer = _u(data, colr.body + 6, 2)


@dataclass
class Run:
    """One track's samples in a segment (every traf of every moof, in order)."""

    track_id: int
    decode_time: int | None = None  # tfdt baseMediaDecodeTime of the first traf
    durations: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    flags: list[int] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)  # byte offset of each sample in the segment
    composition: list[int] = field(default_factory=list)  # composition time offsets (B-frames)

    @property
    def duration(self) -> int:
        return sum(self.durations)

    def presentation(self, media_time: int = 0) -> tuple[int, int] | None:
        """(earliest presentation time, end of the last presented sample) in the track timescale:
        decode time + composition offset - the edit list's media time (14496-12 §8.6.1.1)."""
        if self.decode_time is None or not self.durations:
            return None
        dts, first, last = self.decode_time, None, None
        for d, c in zip(self.durations, self.composition):
            pts = dts + c - media_time
            first = pts if first is None else min(first, pts)
            last = pts + d if last is None else max(last, pts + d)
            dts += d
        return first, last


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
    runs: dict[int, Run] = {}
    first_moof = None
    complete = True
    seen_mdat = False
    last_end = 0
    for box in boxes(data):
        last_end = box.end
        if box.type == b"moof":
            if box.end > len(data):
                raise Truncated(box.end)
            first_moof = box.start if first_moof is None else first_moof
            _moof(data, box, init, runs)
        elif box.type == b"mdat":
            seen_mdat = True
            if box.end > len(data):
                if total is not None and box.end < total:
                    raise Truncated(box.end + 16)  # more fragments follow: their moof too
                complete = total is not None and box.end >= total
                break
        elif box.end > len(data) and not seen_mdat:
            raise Truncated(box.end)
    else:
        if total is not None and last_end < total and len(data) < total:
            raise Truncated(last_end + 16)  # a box header lies beyond the data
    if first_moof is None:
        if is_fmp4(data) and (total is None or len(data) < total):
            raise Truncated(max(4 * len(data), 4096))
        raise ValueError("no moof box: not an fMP4 media segment")
    video = init.video
    first = None
    if video is not None and video.track_id in runs and runs[video.track_id].sizes:
        run = runs[video.track_id]
        sample = Sample(run.offsets[0], run.sizes[0], not run.flags[0] & NON_SYNC, None)
        if sample.end > len(data):
            raise Truncated(sample.end)
        sample.key = is_key(data[sample.offset : sample.end], video)
        first = sample
    return Fragments(runs, first_moof, first, complete)


def _moof(data: bytes, moof: Box, init: Init, runs: dict[int, Run]) -> None:
    data_end = moof.start  # where the previous traf's data ended (no base offset flags)
    for traf in children(data, moof, b"traf"):
        tfhd = child(data, traf, b"tfhd")
        if tfhd is None:
            raise ValueError("a traf has no tfhd box")
        flags = _u(data, tfhd.body, 4) & 0xFFFFFF
        track_id = _u(data, tfhd.body + 4, 4)
        track = init.track(track_id)
        at = tfhd.body + 8
        base = data_end
        if flags & 0x1:  # base-data-offset-present
            base, at = _u(data, at, 8), at + 8
        elif flags & 0x20000:  # default-base-is-moof
            base = moof.start
        if flags & 0x2:  # sample-description-index-present
            at += 4
        duration = size = sample_flags = None
        if flags & 0x8:
            duration, at = _u(data, at, 4), at + 4
        if flags & 0x10:
            size, at = _u(data, at, 4), at + 4
        if flags & 0x20:
            sample_flags = _u(data, at, 4)
        duration = duration if duration is not None else (track.default_duration if track else 0)
        size = size if size is not None else (track.default_size if track else 0)
        sample_flags = sample_flags if sample_flags is not None else (track.default_flags if track else 0)
        run = runs.setdefault(track_id, Run(track_id))
        tfdt = child(data, traf, b"tfdt")
        if tfdt is not None and run.decode_time is None:
            run.decode_time = _u(data, tfdt.body + 4, 8 if data[tfdt.body] == 1 else 4)
        offset = base
        for trun in children(data, traf, b"trun"):
            if sum(len(r.sizes) for r in runs.values()) + _u(data, trun.body + 4, 4) > MAX_SAMPLES:
                raise ValueError(f"the segment lists more than {MAX_SAMPLES} samples")
            offset = _trun(data, trun, base, offset, (duration, size, sample_flags), run)
        data_end = offset


def _trun(data: bytes, trun: Box, base: int, offset: int, defaults: tuple[int, int, int], run: Run) -> int:
    flags = _u(data, trun.body, 4) & 0xFFFFFF
    count = _u(data, trun.body + 4, 4)
    at = trun.body + 8
    if flags & 0x1:  # data-offset-present: relative to the base
        offset, at = base + int.from_bytes(data[at : at + 4], "big", signed=True), at + 4
    first_flags = None
    if flags & 0x4:
        first_flags, at = _u(data, at, 4), at + 4
    per = 4 * bin(flags & 0xF00).count("1")
    if at + count * per > trun.end:
        raise ValueError(f"a trun lists {count} samples but is only {trun.end - trun.start} bytes")
    duration, size, sample_flags = defaults
    for i in range(count):
        d, s, f = duration, size, sample_flags
        if flags & 0x100:
            d, at = _u(data, at, 4), at + 4
        if flags & 0x200:
            s, at = _u(data, at, 4), at + 4
        if flags & 0x400:
            f, at = _u(data, at, 4), at + 4
        elif i == 0 and first_flags is not None:
            f = first_flags
        c = 0
        if flags & 0x800:  # sample_composition_time_offset: signed in version 1
            c = int.from_bytes(data[at : at + 4], "big", signed=data[trun.body] == 1)
            at += 4
        run.composition.append(c)
        run.durations.append(d)
        run.sizes.append(s)
        run.flags.append(f)
        run.offsets.append(offset)
        offset += s
    return offset


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
