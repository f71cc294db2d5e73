"""Media playlist and segment checks: playlist tags, protocol version, segment sizes, the first
segment's codecs, and per segment TS sync, IDR at the start and EXTINF against the media (fMP4
segments: hlskit.hls.validate.cmaf)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .. import ts
from ..codecs import MediaFacts
from ..crypto import decrypt_segment
from ..measure import Measure, measure
from ..model import Problem
from ..playlist import MediaPlaylist, parse, required_version, round_half_up
from ..source import plain_head
from .cmaf import check_fmp4
from .crypto import check_keys, ciphertext_fault, report_decryption, segment_key
from .read import Context, media_facts, segment_head, segment_sizes, whole_segment, why
from .report import VariantReport

FIRST_WHOLE = 8 * 1024 * 1024  # the first segment is read whole up to this size, else its head


@dataclass
class MediaCheck:
    """What validation learnt about one media playlist."""

    playlist: MediaPlaylist
    report: VariantReport
    figures: Measure | None
    facts: MediaFacts | None
    starts: list[int | None]  # first video PTS of each segment (90 kHz)


def add_problems(ctx: Context, problems: Iterable[Problem], where: str) -> None:
    """The faults the parser saw, as findings."""
    for p in problems:
        ctx.add(p.rule, p.message, where)


def check_media(
    ctx: Context, ref: str, name: str, *, text: str | None = None, playlist: MediaPlaylist | None = None
) -> MediaCheck | None:
    """Every check of one media playlist and its segments; None when it cannot be read at all.
    ``playlist``: the playlist at ``ref`` already parsed (not read nor parsed again)."""
    if playlist is None:
        try:
            text = text if text is not None else ctx.source.text(ref)
        except Exception as exc:  # noqa: BLE001 - a missing variant is a finding, not a crash
            ctx.add("ST1", f"media playlist cannot be read ({why(exc)})", ref)
            return None
        pl = parse(text, ref)
    else:
        pl = playlist
    if not isinstance(pl, MediaPlaylist):
        ctx.add("F6", "expected a media playlist, found a master playlist", ref)
        return None
    add_problems(ctx, pl.problems, ref)
    rep = VariantReport(
        ref,
        name,
        segments=len(pl.segments),
        duration=round(pl.duration, 6),
        target_duration=pl.target_duration,
        max_segment=max((s.duration for s in pl.segments), default=0.0),
    )
    playlist_rules(ctx, pl, ref)
    if not pl.segments:
        ctx.add("E2", "the playlist lists no segment", ref)
        return MediaCheck(pl, rep, None, None, [])
    sizes = segment_sizes(ctx, pl, ref)
    figures = None
    known = [s for s in sizes if s is not None]
    if len(known) == len(sizes) and pl.target_duration:
        figures = measure(known, [s.duration_us for s in pl.segments], pl.target_duration)
        rep.measured_peak, rep.measured_average, rep.measured_peak_wide = (
            figures.peak,
            figures.average,
            figures.peak_wide,
        )
    check_keys(ctx, pl, rep, ref)
    if "map" in pl.features:  # fragmented MP4 (EXT-X-MAP, RFC 8216 §3.3)
        facts, starts = check_fmp4(ctx, pl, rep, sizes, ref)
        return MediaCheck(pl, rep, figures, facts, starts)
    facts = _first_segment(ctx, pl, rep, sizes[0], ref)
    starts = _segments(ctx, pl, rep, sizes, facts, ref)
    return MediaCheck(pl, rep, figures, facts, starts)


def playlist_rules(ctx: Context, pl: MediaPlaylist, ref: str) -> None:
    if pl.target_duration is None:
        ctx.add("T1", "EXT-X-TARGETDURATION is missing", ref)
    else:
        long = [
            f"{s.raw_uri} EXTINF {s.duration:g}" for s in pl.segments if round_half_up(s.duration) > pl.target_duration
        ]
        ctx.add_many("T2", f"segments whose rounded EXTINF exceeds TARGETDURATION {pl.target_duration}", long, ref)
    if pl.playlist_type != "VOD":
        ctx.add(
            "P2",
            f"EXT-X-PLAYLIST-TYPE is {pl.playlist_type or 'missing'}; a VOD playlist carries "
            "#EXT-X-PLAYLIST-TYPE:VOD (AHS 8.6)",
            ref,
        )
    if not pl.endlist:
        ctx.add("P3", "no #EXT-X-ENDLIST: the presentation never ends for a player (it is treated as live)", ref)
    check_version(ctx, pl.version, pl.features, ref)


def check_version(ctx: Context, version: int | None, features: set[str], ref: str) -> None:
    need = required_version(features)
    have = version or 1
    if have < need:
        ctx.add(
            "V1",
            f"EXT-X-VERSION is {version or 'absent (1)'} but the features used need {need} "
            f"({', '.join(sorted(features))})",
            ref,
        )
    elif version and version > max(need, 3):
        # Tools commonly write 3 for TS; only flag values above what anything here needs.
        ctx.add("V2", f"EXT-X-VERSION {version} is higher than the features need ({need})", ref)


def _first_segment(
    ctx: Context, pl: MediaPlaylist, rep: VariantReport, size: int | None, ref: str
) -> MediaFacts | None:
    seg = pl.segments[0]
    key = segment_key(ctx, seg)
    if size is None or (seg.encrypted and key is None):
        return None
    try:
        if size > FIRST_WHOLE:  # a head holds SPS, ADTS and enough frames for the frame rate
            data = plain_head(ctx.source, seg, key, FIRST_WHOLE)
        else:
            data = whole_segment(ctx.source, seg)
            if key is not None:
                data = decrypt_segment(data, key, seg.iv)
    except ValueError:
        return None  # reported per segment as C4
    except Exception:  # noqa: BLE001 - reported per segment as E2
        return None
    program = ts.find_program(data)
    if program and (program.video_type not in (None, "h264") or program.audio_type not in (None, "aac")):
        ctx.note(
            f"{ref}: the segments carry {program.video_type or 'no video'} and {program.audio_type or 'no audio'}; "
            "CODECS, RESOLUTION, FRAME-RATE and IDR are checked for H.264 and AAC only"
        )
        return None
    return media_facts(ctx, rep, data, None, ref)


def _segments(
    ctx: Context, pl: MediaPlaylist, rep: VariantReport, sizes: list[int | None], facts: MediaFacts | None, ref: str
) -> list[int | None]:
    not_ts: list[str] = []
    not_idr: list[str] = []
    bad_len: list[str] = []
    bad_pad: list[str] = []
    starts: list[int | None] = []
    unreadable: list[str] = []
    has_video = facts is None or facts.video is not None
    for seg, size in zip(pl.segments, sizes):
        key = segment_key(ctx, seg)
        if size is None or (seg.encrypted and key is None) or ctx.source.budget.spent():
            starts.append(None)
            continue
        try:
            if key is not None and not seg.byterange:
                fault = ciphertext_fault(ctx, seg, key, size)
                if fault == "length":
                    bad_len.append(f"{seg.raw_uri} ({size} bytes)")
                    starts.append(None)
                    rep.checked_segments += 1
                    continue
                if fault == "padding":
                    bad_pad.append(seg.raw_uri)
            data, program, pes = segment_head(ctx.source, seg, key)
        except OSError as exc:
            unreadable.append(f"{seg.raw_uri} ({why(exc)})")
            starts.append(None)
            continue
        except Exception as exc:  # noqa: BLE001 - hostile bytes may break the TS reader in any way
            not_ts.append(f"{seg.raw_uri} ({why(exc)})")
            starts.append(None)
            continue
        rep.checked_segments += 1
        if not ts.synced(data[: ts.PACKET * 4]):
            not_ts.append(seg.raw_uri)
            starts.append(None)
            continue
        if has_video and program and program.video_pid is not None and program.video_type == "h264":
            if pes is None or ts.NAL_IDR not in ts.nal_types(pes.payload):
                not_idr.append(seg.raw_uri)
            else:
                rep.idr_starts += 1
            starts.append(pes.pts if pes else None)
        else:
            starts.append(None)
    report_decryption(
        ctx,
        bad_length=bad_len,
        bad_padding=bad_pad,
        not_ts=not_ts,
        encrypted=any(s.encrypted for s in pl.segments),
        ref=ref,
    )
    ctx.add_many("E2", "segments that cannot be read", unreadable, ref)
    ctx.add_many("AHS-7.4", "video segments that do not start with an IDR frame", not_idr, ref)
    _durations(ctx, pl, facts, starts, ref)
    return starts


def _durations(ctx: Context, pl: MediaPlaylist, facts: MediaFacts | None, starts: list[int | None], ref: str) -> None:
    """EXTINF against the first PTS of the next segment, to within one frame (E3)."""
    fps = facts.video.frame_rate if facts and facts.video else None
    if not fps:
        return
    frame = 90000 / fps
    off = []
    for i, seg in enumerate(pl.segments[:-1]):
        a, b = starts[i], starts[i + 1]
        # across an EXT-X-DISCONTINUITY timestamps may restart (RFC 8216 §4.3.2.3): nothing to compare
        if a is not None and b is not None and not pl.segments[i + 1].discontinuity:
            real = ((b - a) % (1 << 33)) / 90000
            if abs(real - seg.duration) > 1.5 * frame / 90000:
                off.append(f"{seg.raw_uri} EXTINF {seg.duration:g} s vs {real:.3f} s of media")
    ctx.add_many("E3", "EXTINF differs from the media duration by more than one frame", off, ref)
