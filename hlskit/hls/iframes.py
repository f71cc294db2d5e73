"""I-frame playlists: EXT-X-I-FRAMES-ONLY with byte ranges into the media segments.

Which I-frames: the IDR that starts each segment (segments must start with one, Apple HLS
authoring spec 7.4). Finding it needs only the head of each segment (PAT, PMT, the first access
unit, read in growing chunks), never whole segments, so a 2-hour title costs one small read per
segment. The trick-play rate is then one frame per segment; Apple's dense 1 fps rendition (Apple
HLS authoring spec 6.2) is a SHOULD and would need every segment read whole.

Each range starts at byte 0 of its segment and ends with the packet before the next video PES:
PAT, PMT (and SDT) then the IDR access unit, a self-contained TS that any demuxer reads without
an EXT-X-MAP (version 4 is enough) and with no init section to exclude (RFC 8216 §4.3.3.6).

Encrypted segments (AES-128-CBC, RFC 8216 §4.3.2.4): offsets are the same in the ciphertext,
because CBC keeps offsets until the padding. A player widens a range to 16-byte boundaries and takes the block
before it as the IV; starting every range at 0 means that block is the segment IV itself, so a
player needs nothing but the explicit IV this playlist states, and the end is widened to the next
block. We write that widened end ourselves (rounded up to the block, capped at the file size):
FFmpeg reads exactly the range and decodes a cut last block with errors, and a player that
widens again loses nothing. The start needs no widening: it is byte 0. Every EXT-X-KEY here
carries an explicit IV, because the media sequence numbers of this playlist are not those of the
segments (RFC 8216 §5.2).

fMP4 (EXT-X-MAP): each range runs from byte 0 of the segment (styp, sidx, the moof, Apple HLS
authoring spec 6.10) through the end of the first video sample in the mdat, which must be a sync
sample (and an IDR or IRAP picture by its NAL units); the same rounding applies. The I-frame
playlist carries the segments' EXT-X-MAP, with the EXT-X-KEY that applies to it before it, and so
needs version 5 (RFC 8216 §4.3.2.5, §7).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import fmp4, ts
from .fragments import read_fragments
from .measure import Measure, measure
from .model import Map
from .playlist import Segment, round_half_up
from .source import BLOCK, Source, plain_head
from .write import CLEAR, Entry, KeyTag, media_playlist

FIRST_READ = 64 * 1024


@dataclass(frozen=True)
class IFrame:
    segment: Segment
    offset: int  # 0: the range carries the segment's PAT/PMT before the IDR
    length: int


def _widen(seg: Segment, end: int, size: int | None) -> int:
    """For an encrypted segment, ``end`` rounded up to the next 16-byte AES block from the segment
    start, capped at ``size``: the range is whole CBC blocks (RFC 8216 §4.3.2.4)."""
    if seg.encrypted:
        end += -end % BLOCK
        end = min(end, size) if size is not None else end
    return end


def first_iframe(
    source: Source,
    seg: Segment,
    key: bytes | None,
    *,
    head: bytes | None = None,
    size: int | None = None,
    init: fmp4.Init | None = None,
) -> IFrame | None:
    """The range of the I-frame that starts ``seg``, or None when the first video frame is not one.

    TS: PSI + the IDR access unit. fMP4 (``init``: the parsed init section of the segment's
    EXT-X-MAP): the boxes before the mdat + the first video sample. ``size``: the segment's length
    in bytes; the end is widened for encrypted segments (see :func:`_widen`)."""
    base = seg.byterange.offset if seg.byterange else 0
    if init is not None:
        frags, _ = read_fragments(source, seg, key, size, init, head=head)
        first = frags.first_video
        if first is None or not first.sync or first.key is False:
            return None
        return IFrame(seg, base, _widen(seg, first.end, size))
    length = FIRST_READ
    while True:
        data = head if head is not None else plain_head(source, seg, key, length)
        at_end = head is not None or len(data) < length
        program = ts.find_program(data)
        pid = program.video_pid if program is not None else None
        starts = ts.pes_starts(data, pid) if pid is not None else []
        if pid is not None and starts:
            pes = ts.read_pes(data, pid, starts[0])
            if pes.complete or at_end:
                if not ts.is_idr(pes.payload):
                    return None
                return IFrame(seg, base, _widen(seg, pes.end, size))
        if at_end:
            return None
        length *= 4


def _key_tag(seg: Segment) -> KeyTag:
    """The segment's key with its IV always explicit (the MSNs here are not the segments')."""
    cipher = seg.cipher
    return KeyTag(cipher.method, cipher.raw_uri, seg.iv) if cipher is not None else KeyTag()


@dataclass(frozen=True)
class IFramePlaylist:
    text: str
    figures: Measure
    target_duration: int
    count: int


def _map_entry(m: Map) -> Entry:
    """The EXT-X-MAP of the I-frame playlist, with the key that applies to it (IV explicit)."""
    cipher = m.cipher
    key = KeyTag(cipher.method, cipher.raw_uri, cipher.iv) if cipher is not None else CLEAR
    return Entry(m.raw_uri, 0.0, key, (m.byterange.length, m.byterange.offset) if m.byterange else None)


def build(
    iframes: list[IFrame], segments: list[Segment], total_duration_us: int, init: Map | None = None
) -> IFramePlaylist:
    """The playlist text: each EXTINF is the time to the next listed I-frame (RFC 8216 §4.3.3.6).
    ``init``: the segments' EXT-X-MAP (fMP4), repeated here; version 5 then, else 4 (§7)."""
    start_us, t = {}, 0
    for s in segments:
        start_us[id(s)] = t
        t += s.duration_us
    times = [start_us[id(f.segment)] for f in iframes]
    durs = [b - a for a, b in zip(times, times[1:] + [total_duration_us])]
    target = max([1] + [round_half_up(d / 1e6) for d in durs])
    entries = [
        Entry(f.segment.raw_uri, dur / 1e6, _key_tag(f.segment), (f.length, f.offset)) for f, dur in zip(iframes, durs)
    ]
    init_entry = _map_entry(init) if init is not None else None
    text = media_playlist(entries, target_duration=target, version=5 if init else 4, iframes_only=True, init=init_entry)
    figures = measure([f.length for f in iframes], durs, target)
    return IFramePlaylist(text, figures, target, len(iframes))
