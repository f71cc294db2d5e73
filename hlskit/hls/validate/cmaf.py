"""fMP4 (EXT-X-MAP) media playlist checks.

The init section of each EXT-X-MAP is read, decrypted with the key of the EXT-X-KEY before the
MAP and that tag's IV (RFC 8216 §4.3.2.5), and parsed (X1, C4; box sizes FM1, tracks FM5, codec
configuration records FM6). CODECS, RESOLUTION and FRAME-RATE come from init + first segment
(hlskit.hls.codecs). Per segment: AES-128 length and padding (C3, C4), ISO BMFF boxes once
decrypted (C4/F3), their sizes (FM1), movie fragments (FM2), tfdt (FM3) and sample data (FM4), the
first video sample a sync sample and, for H.264 and HEVC, an IDR or IRAP picture (AHS-7.4), EXTINF
against the presentation span the trun durations give (E3), and each track's tfdt following on
from the previous segment (E4, Apple HLS authoring spec 7.3).

Bounded: each segment is read, checked and summed up (per track: tfdt, duration, presentation
span; hlskit.hls.fmp4.Span) before the next, so memory does not grow with the samples of earlier
segments, and the loop stops when the run's time budget is spent.
"""

from __future__ import annotations

from .. import fmp4
from ..codecs import MediaFacts
from ..crypto import decrypt_segment
from ..fragments import plain_size, read_fragments, read_init
from ..model import Map, MediaPlaylist
from ..source import plain_head
from .crypto import ciphertext_fault, report_decryption, segment_key
from .read import Context, media_facts, whole_segment, why
from .report import VariantReport

FIRST_WHOLE = 8 * 1024 * 1024
# Invalid.kind -> (rule, what the finding lists)
BROKEN = {
    "box": ("FM1", "segments whose boxes are cut short or have sizes that cannot be"),
    "fragment": ("FM2", "segments whose movie fragments are malformed"),
    "tfdt": ("FM3", "segments with a track fragment that has no tfdt"),
    "samples": ("FM4", "segments whose sample data lies outside their mdat"),
}
INIT_BROKEN = {
    "box": ("FM1", "has boxes that cannot be read"),
    "track": ("FM5", "describes a track no player can use"),
    "config": ("FM6", "has a codec configuration that does not parse"),
}
Loaded = tuple[bytes, fmp4.Init]  # an init section's plain bytes and its tracks
Inits = dict[Map, Loaded | None]


def load_init(ctx: Context, m: Map, ref: str) -> Loaded | None:
    """The plain init section of ``m`` and its tracks, once per URI; None (and a finding or a
    note saying why) when it cannot be had."""
    cache_key = (m.uri, m.byterange, m.key)
    if cache_key in ctx.inits:
        return ctx.inits[cache_key]
    ctx.inits[cache_key] = None
    key = None
    cipher = m.cipher
    if cipher is not None:
        if cipher.method != "AES-128":
            ctx.note(f"{ref}: the initialization section {m.raw_uri} is {cipher.method}; it was not decrypted")
            return None
        if cipher.iv is None:
            return None  # X2, from the parser
        key = ctx.keys.usable(cipher.uri)
        if key is None:
            ctx.note(f"{ref}: no usable key for the initialization section {m.raw_uri}; its content was not checked")
            return None
    try:
        plain = read_init(ctx.source, m, key)
    except OSError as exc:
        ctx.add("X1", f"the initialization section {m.raw_uri} cannot be read ({why(exc)})", ref)
        return None
    except ValueError as exc:
        ctx.add("C4", f"the initialization section {m.raw_uri} does not decrypt with its key and IV ({why(exc)})", ref)
        return None
    if not fmp4.is_fmp4(plain):
        rule = "C4" if m.encrypted else "X1"
        after = " after decryption (wrong key or IV)" if m.encrypted else ""
        ctx.add(rule, f"the initialization section {m.raw_uri} is not ISO BMFF boxes{after}", ref)
        return None
    try:
        init = fmp4.read_init(plain)
    except fmp4.Invalid as exc:
        rule, what = INIT_BROKEN.get(exc.kind, ("X1", "cannot be parsed"))
        ctx.add(rule, f"the initialization section {m.raw_uri} {what}: {why(exc)}", ref)
        return None
    except Exception as exc:  # noqa: BLE001 - hostile bytes may break the box reader in any way
        ctx.add("X1", f"the initialization section {m.raw_uri} cannot be parsed ({why(exc)})", ref)
        return None
    ctx.inits[cache_key] = (plain, init)
    return ctx.inits[cache_key]


def check_fmp4(
    ctx: Context, pl: MediaPlaylist, rep: VariantReport, sizes: list[int | None], ref: str
) -> tuple[MediaFacts | None, list[int | None]]:
    """(facts of the first segment, first video presentation time of each segment at 90 kHz)."""
    if any(s.map is None for s in pl.segments):
        ctx.add("X1", "segments before the first EXT-X-MAP have no initialization section", ref)
    inits: Inits = {m: load_init(ctx, m, ref) for m in dict.fromkeys(s.map for s in pl.segments if s.map)}
    first_map = pl.segments[0].map
    facts = _first_segment(ctx, pl, rep, sizes[0], inits.get(first_map) if first_map else None, ref)
    return facts, _segments(ctx, pl, rep, sizes, inits, ref)


def _first_segment(
    ctx: Context, pl: MediaPlaylist, rep: VariantReport, size: int | None, init: Loaded | None, ref: str
) -> MediaFacts | None:
    seg = pl.segments[0]
    key = segment_key(ctx, seg)
    if init is None or size is None or (seg.encrypted and key is None):
        return None
    try:
        if size > FIRST_WHOLE:
            data = plain_head(ctx.source, seg, key, FIRST_WHOLE)
        else:
            data = whole_segment(ctx.source, seg)
            data = decrypt_segment(data, key, seg.iv) if key is not None else data
    except Exception:  # noqa: BLE001 - reported per segment (E2, C3, C4)
        return None
    if not fmp4.is_fmp4(data):
        return None  # reported per segment
    unnamed = [t.fourcc for t in init[1].tracks if t.handler in ("vide", "soun") and t.codec is None]
    if unnamed:
        ctx.note(
            f"{ref}: the segments carry {', '.join(unnamed)}; CODECS, RESOLUTION and FRAME-RATE are checked "
            "for H.264, HEVC, AV1 and AAC only"
        )
        return None
    return media_facts(ctx, rep, data, init[0], ref)


def _segments(
    ctx: Context, pl: MediaPlaylist, rep: VariantReport, sizes: list[int | None], inits: Inits, ref: str
) -> list[int | None]:
    bad_len: list[str] = []
    bad_pad: list[str] = []
    not_boxes: list[str] = []
    unreadable: list[str] = []
    not_sync: list[str] = []
    lacking: list[str] = []
    broken: dict[str, list[str]] = {kind: [] for kind in BROKEN}
    read: list[dict[int, fmp4.Span] | None] = []  # per segment, when all its fragments were read
    for seg, size in zip(pl.segments, sizes):
        key = segment_key(ctx, seg)
        got = inits.get(seg.map) if seg.map else None
        read.append(None)
        if size is None or (seg.encrypted and key is None) or ctx.source.budget.spent():
            continue
        try:
            if key is not None and not seg.byterange:
                fault = ciphertext_fault(ctx, seg, key, size)
                if fault is not None:
                    (bad_len if fault == "length" else bad_pad).append(seg.raw_uri)
                    rep.checked_segments += 1
                    continue
            if got is None:  # no init section to read the fragments with: the box headers only
                if not fmp4.is_fmp4(plain_head(ctx.source, seg, key, 16)):
                    not_boxes.append(seg.raw_uri)
                rep.checked_segments += 1
                continue
            total = plain_size(ctx.source, seg, key, size)
            frags, _ = read_fragments(ctx.source, seg, key, size, got[1], total=total)
        except OSError as exc:
            unreadable.append(f"{seg.raw_uri} ({why(exc)})")
            continue
        except fmp4.Invalid as exc:
            broken.get(exc.kind, not_boxes).append(f"{seg.raw_uri} ({why(exc)})")
            rep.checked_segments += 1
            continue
        except Exception as exc:  # noqa: BLE001 - hostile bytes may break the box reader in any way
            not_boxes.append(f"{seg.raw_uri} ({why(exc)})")
            rep.checked_segments += 1
            continue
        rep.checked_segments += 1
        tracks = {t.track_id: t for t in got[1].tracks}
        read[-1] = {tid: run.span(tracks[tid].media_time) for tid, run in frags.runs.items()}
        runs = frags.runs
        media = [t for t in tracks.values() if t.handler in ("vide", "soun")]
        gone = [
            f"{t.handler} track {t.track_id}" for t in media if t.track_id not in runs or not runs[t.track_id].sizes
        ]
        if gone:
            lacking.append(f"{seg.raw_uri} (no samples of the {', '.join(gone)})")
        if got[1].video is not None:
            first = frags.first_video
            if first is None or not first.sync or first.key is False:
                kind = "no video sample" if first is None else "not a sync sample" if not first.sync else "not IDR/IRAP"
                not_sync.append(f"{seg.raw_uri} ({kind})")
            else:
                rep.idr_starts += 1
    encrypted = any(s.encrypted for s in pl.segments)
    report_decryption(
        ctx,
        bad_length=bad_len,
        bad_padding=bad_pad,
        not_ts=not_boxes,
        encrypted=encrypted,
        ref=ref,
        container="fMP4 (ISO BMFF movie fragments)",
    )
    ctx.add_many("E2", "segments that cannot be read", unreadable, ref)
    for kind, (rule, what) in BROKEN.items():
        ctx.add_many(rule, what, broken[kind], ref)
    ctx.add_many("AHS-7.4", "video segments whose first sample is not a sync sample (IDR)", not_sync, ref)
    ctx.add_many("E4", "segments that interrupt a track of the initialization section", lacking, ref)
    return _timing(ctx, pl, read, inits, ref)


def _timing(
    ctx: Context, pl: MediaPlaylist, read: list[dict[int, fmp4.Span] | None], inits: Inits, ref: str
) -> list[int | None]:
    """EXTINF against the media (E3) and tfdt continuity per track (E4); the 90 kHz starts."""
    starts: list[int | None] = []
    spans: list[tuple[float, float, float] | None] = []  # (start, end, one frame) in seconds
    off, gaps = [], []
    for i, (seg, summed) in enumerate(zip(pl.segments, read)):
        got = inits.get(seg.map) if seg.map else None
        track = (got[1].video or got[1].audio) if got else None
        span = summed.get(track.track_id) if summed and track else None
        # timescale 0 is refused (FM5)
        shown = span.presentation if span and track and track.timescale else None
        if shown is None or span is None or track is None:
            spans.append(None)
            starts.append(None)
        else:
            scale = track.timescale
            spans.append((shown[0] / scale, shown[1] / scale, span.longest / scale))
            starts.append(round(shown[0] * 90000 / scale) if track.handler == "vide" else None)
        prev = read[i - 1] if i else None
        if not (prev and summed and got) or seg.discontinuity:  # a segment read had its init section
            continue
        for tid, r in summed.items():
            p = prev.get(tid)
            t = got[1].track(tid)
            if p and t and t.timescale and p.decode_time is not None and r.decode_time is not None:
                if p.decode_time + p.duration != r.decode_time:
                    gaps.append(
                        f"{seg.raw_uri} track {tid}: tfdt {r.decode_time / t.timescale:.6f} s, "
                        f"the previous segment ends at {(p.decode_time + p.duration) / t.timescale:.6f} s"
                    )
    # One frame: the track's longest sample anywhere, since a last segment may hold one shortened
    # sample (an AAC stream's final frame keeps only the samples that remain).
    frame = max((s[2] for s in spans if s), default=0.0)
    for i, seg in enumerate(pl.segments):
        timed = spans[i]
        if timed is None:
            continue
        start, end, _ = timed
        after = spans[i + 1] if i + 1 < len(spans) and not pl.segments[i + 1].discontinuity else None
        real = (after[0] - start) if after is not None else (end - start)
        if abs(real - seg.duration) > 1.5 * frame:
            off.append(f"{seg.raw_uri} EXTINF {seg.duration:g} s vs {real:.3f} s of media")
    ctx.add_many("E3", "EXTINF differs from the media duration (trun) by more than one frame", off, ref)
    ctx.add_many("E4", "fragments whose tfdt does not follow on from the previous segment", gaps, ref)
    return starts


def iframe_range_ok(data: bytes, init: fmp4.Init) -> bool:
    """An fMP4 I-frame range (decrypted): boxes from the segment start, a moof (Apple HLS
    authoring spec 6.10), and the first video sample inside the range and a sync sample."""
    if not fmp4.is_fmp4(data) or init.video is None:
        return False
    try:
        first = fmp4.read_segment(data, init, None).first_video
    except Exception:  # noqa: BLE001 - a cut or hostile range is the finding
        return False
    return first is not None and first.sync and first.key is not False
