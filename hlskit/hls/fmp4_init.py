"""The initialization section of fMP4 HLS (RFC 8216 §3.3): ftyp + moov with mvex, read strictly.

Per track: its ID, handler, timescale, sample entry and RFC 6381 codec (hlskit.hls.records),
display size, edit list and the trex defaults. What a player cannot start from is
:class:`~hlskit.hls.bmff.Invalid`: a timescale of 0 (ISO/IEC 14496-12 §8.4.2.3: the time units in
a second; every duration divides by it), an stsd whose entry_count is not the number of sample
entries it holds (§8.5.2), a sample entry type that names no codec (the MP4 registration
authority's list), a codec configuration record that does not parse (avcC, hvcC, av1C, esds), or
a track without its trex (§8.8.3).
"""

from __future__ import annotations

from dataclasses import dataclass

from .bmff import Box, Fields, Invalid, boxes, child, children
from .records import Audio, Codec, av1_codec, avc_codec, hevc_codec, mp4a_codec

_CONFIG = {"avc1": b"avcC", "avc3": b"avcC", "hvc1": b"hvcC", "hev1": b"hvcC", "av01": b"av1C"}
# 'avc1' and 'hvc1' keep every parameter set in the sample entry, never in the samples (14496-15
# §5.4.2.1.2, §8.4.1.1.2): without them the decoder cannot start.
_PARAMETER_SETS = {"avc1": {7: "SPS", 8: "PPS"}, "hvc1": {32: "VPS", 33: "SPS", 34: "PPS"}}
# Sample entry types of registered codecs (mp4ra.org "codecs"), protected ones (encv, enca) included.
VIDEO_ENTRIES = {
    *_CONFIG,
    *("avc2", "avc4", "dvh1", "dvhe", "dva1", "dvav", "dav1", "vp08", "vp09", "mp4v", "encv", "vvc1", "vvi1"),
    *("hvt1", "lhv1", "lhe1", "mjp2", "s263", "jpeg", "apcn", "apch", "apcs", "apco", "ap4h"),
}
AUDIO_ENTRIES = {
    *("mp4a", "ac-3", "ec-3", "ac-4", "Opus", "fLaC", "alac", "enca", "mha1", "mha2", "mhm1", "mhm2"),
    *("dtsc", "dtse", "dtsh", "dtsl", "dtsx", "ipcm", "fpcm", "lpcm", "sowt", "twos", ".mp3", "samr", "sawb"),
}
VISUAL_FIELDS = 78  # VisualSampleEntry fields before its boxes (14496-12 §12.1.3)
AUDIO_FIELDS = 28  # AudioSampleEntry (14496-12 §12.2.3)
# Boxes whose bodies hold boxes (after this many bytes of fields): every size in them is checked.
CONTAINERS = {
    **dict.fromkeys((b"moov", b"trak", b"mdia", b"minf", b"dinf", b"stbl", b"mvex", b"edts"), 0),
    b"stsd": 8,  # version, flags, entry_count
    b"dref": 8,
}


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
    entries: int = 1  # sample entries in the stsd


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
    """The tracks of a whole initialization section; ValueError saying what is missing, Invalid
    (a ValueError) saying what no player can read."""
    top: dict[bytes, Box] = {}
    for box in boxes(data, whole=len(data)):
        top.setdefault(box.type, box)
    moov = top.get(b"moov")
    if moov is None:
        raise ValueError("no moov box: not an fMP4 initialization section")
    _check_sizes(data, moov)
    mvex = child(data, moov, b"mvex")
    if mvex is None:
        raise ValueError("the moov has no mvex box, so the file is not fragmented")
    tracks = [_track(data, trak) for trak in children(data, moov, b"trak")]
    if not tracks:
        raise ValueError("the moov has no track")
    extended = set()
    for trex in children(data, mvex, b"trex"):
        f = Fields(data, trex, 4)
        track_id = f.u(4)
        track = next((t for t in tracks if t.track_id == track_id), None)
        if track:
            f.skip(4)  # default_sample_description_index
            track.default_duration, track.default_size, track.default_flags = f.u(4), f.u(4), f.u(4)
            extended.add(track.track_id)
    missing = [str(t.track_id) for t in tracks if t.track_id not in extended]
    if missing:
        raise Invalid("track", f"the mvex has no trex box for track {', '.join(missing)} (14496-12 §8.8.3)")
    return Init(tracks)


def _check_sizes(data: bytes, box: Box) -> None:
    """Every box inside ``box`` fits where it is (Invalid "box" otherwise), sample entries included:
    a player walks them all, not only the ones read here."""
    skip = CONTAINERS.get(box.type)
    if skip is None:
        skip = _entry_fields(data, box)
    if skip is not None:
        for inner in boxes(data, box.body + skip, box.end):
            _check_sizes(data, inner)


def _entry_fields(data: bytes, entry: Box) -> int | None:
    """The bytes of fields before a sample entry's boxes; None for boxes that are not sample entries."""
    if entry.name in VIDEO_ENTRIES:
        return VISUAL_FIELDS
    if entry.name in AUDIO_ENTRIES:
        return _audio_fields(data, entry)
    return None


def _audio_fields(data: bytes, entry: Box) -> int:
    """The bytes of fields before an audio sample entry's boxes: QuickTime sound description
    versions 1 and 2 add 16 and 36 bytes."""
    version = Fields(data, entry, 8).u(2)
    return AUDIO_FIELDS + {1: 16, 2: 36}.get(version, 0)


def _need(box: Box | None, what: str, where: str = "a track") -> Box:
    if box is None:
        raise ValueError(f"no {what} box in {where}")
    return box


def _track(data: bytes, trak: Box) -> Track:
    tkhd = Fields(data, _need(child(data, trak, b"tkhd"), "tkhd"))
    v1 = tkhd.u(1) == 1
    tkhd.skip(3 + (16 if v1 else 8))  # flags, creation and modification times
    track_id = tkhd.u(4)
    tkhd.skip(4 + (8 if v1 else 4) + 8 + 8 + 36)  # reserved, duration, reserved, layer..volume, matrix
    display = (tkhd.u(4) >> 16, tkhd.u(4) >> 16)
    mdia = _need(child(data, trak, b"mdia"), "mdia")
    mdhd = Fields(data, _need(child(data, mdia, b"mdhd"), "mdhd"))
    v1 = mdhd.u(1) == 1
    mdhd.skip(3 + (16 if v1 else 8))  # flags, creation and modification times
    timescale = mdhd.u(4)
    if timescale == 0:
        raise Invalid("track", f"the mdhd of track {track_id} gives a timescale of 0 (time units per second)")
    hdlr = Fields(data, _need(child(data, mdia, b"hdlr"), "hdlr"), 8)
    handler = hdlr.u(4).to_bytes(4, "big").decode("latin-1")
    stbl = _need(child(data, _need(child(data, mdia, b"minf"), "minf"), b"stbl"), "stbl")
    stsd = _need(child(data, stbl, b"stsd"), "stsd")
    count = Fields(data, stsd, 4).u(4)
    entries = list(boxes(data, stsd.body + 8, stsd.end))
    if count != len(entries) or not entries:
        raise Invalid(
            "track", f"the stsd of track {track_id} says {count} sample entries but holds {len(entries)} (§8.5.2)"
        )
    entry = entries[0]
    track = Track(track_id, handler, timescale, entry.name, None, entries=count)
    known = {"vide": VIDEO_ENTRIES, "soun": AUDIO_ENTRIES}.get(handler)
    if known is not None and entry.name not in known:
        kind = "video" if handler == "vide" else "audio"
        raise Invalid("track", f"the {kind} track {track_id} has sample entry {entry.name!r}, which names no codec")
    track.media_time = _media_time(data, trak)
    track.display_width, track.display_height = display
    if handler == "vide":
        _video_entry(data, entry, track)
    elif entry.type == b"mp4a":
        esds = child(data, entry, b"esds", skip=_audio_fields(data, entry))
        if esds is None:
            raise Invalid("config", "the mp4a sample entry has no esds box")
        try:
            track.audio = mp4a_codec(data[esds.body : esds.end])
        except ValueError as exc:
            raise Invalid("config", f"the esds of track {track_id} cannot be read: {exc}") from None
        track.codec = track.audio.codec
    return track


def _media_time(data: bytes, trak: Box) -> int:
    """The first non-empty edit's media_time (14496-12 §8.6.6), 0 without an edit list."""
    edts = child(data, trak, b"edts")
    elst = child(data, edts, b"elst") if edts else None
    if elst is None:
        return 0
    f = Fields(data, elst)
    width = 8 if f.u(1) == 1 else 4
    f.skip(3)
    count = f.u(4)
    if f.left != count * (2 * width + 4):
        raise Invalid("box", f"the elst box lists {count} edits but holds {f.left} bytes for them")
    for _ in range(count):
        f.skip(width)  # segment_duration
        media_time = f.s(width)
        f.skip(4)  # media_rate
        if media_time != -1:  # -1: an empty edit
            return media_time
    return 0


def _video_entry(data: bytes, entry: Box, track: Track) -> None:
    f = Fields(data, entry, 24)
    track.width, track.height = f.u(2), f.u(2)
    if track.fourcc not in _CONFIG:
        return
    config = child(data, entry, _CONFIG[track.fourcc], skip=VISUAL_FIELDS)
    if config is None:
        raise Invalid("config", f"the {track.fourcc} sample entry has no {_CONFIG[track.fourcc].decode()} box")
    record = data[config.body : config.end]
    read = {"avcC": avc_codec, "hvcC": hevc_codec, "av1C": av1_codec}[config.name]
    try:
        found: Codec = read(track.fourcc, record)
    except ValueError as exc:
        raise Invalid("config", f"the {config.name} of track {track.track_id} cannot be read: {exc}") from None
    needed = _PARAMETER_SETS.get(track.fourcc, {})
    missing = [name for kind, name in needed.items() if kind not in found.parameter_sets]
    if missing:
        raise Invalid("config", f"the {config.name} of the {track.fourcc} track has no {', '.join(missing)}")
    track.codec, track.profile, track.level, track.length_size = (
        found.codec,
        found.profile,
        found.level,
        found.length_size,
    )
    pasp = child(data, entry, b"pasp", skip=VISUAL_FIELDS)
    if pasp is not None:
        p = Fields(data, pasp)
        track.pasp = (p.u(4), p.u(4))
    colr = child(data, entry, b"colr", skip=VISUAL_FIELDS)  # 14496-12 §12.1.5: primaries, transfer, matrix
    if colr is not None and data[colr.body : colr.body + 4] in (b"nclx", b"nclc"):
        track.transfer = Fields(data, colr, 6).u(2)
