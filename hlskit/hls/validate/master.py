"""Master playlist checks: declared against measured (BANDWIDTH, AVERAGE-BANDWIDTH, CODECS,
RESOLUTION, FRAME-RATE), what must agree across variants, EXT-X-INDEPENDENT-SEGMENTS, I-frame
playlists and session keys.

Bit rates are measured with the RFC 8216 §4.3.4.2 window like stitch (so our own output matches
exactly) and compared to the declared values with Apple's VOD tolerance (authoring spec 1.26 and
1.27), |m - d| <= 10% of min(m, d), which passes both published mediastreamvalidator formulas.
The wider draft window is reported too and gets a SHOULD when only it breaks the tolerance.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet

from .. import ts
from ..codecs import MediaFacts
from ..measure import measure
from ..model import Variant
from ..playlist import MasterPlaylist, MediaPlaylist, parse
from ..source import BLOCK, plain_range
from .cmaf import Inits, iframe_range_ok, load_init
from .crypto import segment_key
from .media import MediaCheck, add_problems, check_media, check_version
from .read import Context, why
from .renditions import TEXT_FORMATS, check_durations, check_renditions
from .report import VariantReport

TOLERANCE = 0.10


def _off(measured: int, declared: int) -> bool:
    return abs(measured - declared) > TOLERANCE * min(measured, declared)


def check_master(ctx: Context, pl: MasterPlaylist, ref: str) -> None:
    add_problems(ctx, pl.problems, ref)
    check_version(ctx, pl.version, pl.features, ref)
    if not pl.variants:
        ctx.add("ST1", "the master lists no variant", ref)
        return
    if len(pl.variants) < 2:
        ctx.add("AHS-9.9", "only one variant: provide several bit rates of video", ref)
    renditions = check_renditions(ctx, pl, ref)
    medias: list[MediaCheck] = []
    for v in pl.variants:
        name = v.raw_uri
        if "BANDWIDTH" not in v.attrs:
            ctx.add("3.1-BANDWIDTH", f"EXT-X-STREAM-INF for {name} has no BANDWIDTH", ref)
        if "AVERAGE-BANDWIDTH" not in v.attrs:
            ctx.add("AHS-9.14", f"EXT-X-STREAM-INF for {name} has no AVERAGE-BANDWIDTH", ref)
        if "CODECS" not in v.attrs:
            ctx.add("AHS-9.1", f"EXT-X-STREAM-INF for {name} has no CODECS", ref)
        frame_rate = None
        if "FRAME-RATE" in v.attrs:
            raw = v.attrs["FRAME-RATE"]
            if re.fullmatch(r"\d{1,6}(\.\d{1,9})?", raw):
                frame_rate = float(raw)
            else:  # decimal-floating-point (RFC 8216 §4.2): no sign, exponent, NaN or infinity
                ctx.add("F5", f"FRAME-RATE {raw[:40]!r} of {name} is not a decimal-floating-point", ref)
        m = check_media(ctx, v.uri, name)
        if m is None:
            continue
        medias.append(m)
        rep = m.report
        ctx.report.variants.append(rep)
        rep.declared_bandwidth, rep.declared_average = v.int("BANDWIDTH"), v.int("AVERAGE-BANDWIDTH")
        rep.declared_codecs, rep.declared_resolution = v.attrs.get("CODECS"), v.attrs.get("RESOLUTION")
        rep.declared_frame_rate = frame_rate
        rep.declared_video_range = v.attrs.get("VIDEO-RANGE")
        audio = renditions.peak(v.attrs.get("AUDIO"))
        if m.figures and audio:
            total = m.figures + audio
            rep.measured_peak, rep.measured_average, rep.measured_peak_wide = total.peak, total.average, total.peak_wide
        grouped = renditions.codecs("AUDIO", v.attrs.get("AUDIO")) | renditions.codecs("VIDEO", v.attrs.get("VIDEO"))
        _declared(ctx, rep, m.facts, name, ref, fmp4="map" in m.playlist.features, grouped=grouped)
    check_durations(ctx, renditions, medias[0] if medias else None, ref)
    _across(ctx, medias, ref)
    _independent(ctx, pl, medias, ref)
    _iframes(ctx, pl, ref)
    _session_keys(ctx, pl, medias, ref)


def _declared(
    ctx: Context,
    rep: VariantReport,
    facts: MediaFacts | None,
    name: str,
    ref: str,
    *,
    fmp4: bool = False,
    grouped: AbstractSet[str] = frozenset(),
) -> None:
    """Declared against measured. ``grouped``: the formats of the variant's AUDIO and VIDEO
    renditions, which CODECS must list too (G12) besides the variant's own media (6.3)."""
    where = f"{ref} → {name}"
    if rep.declared_bandwidth is not None and rep.measured_peak and rep.declared_bandwidth < rep.measured_peak:
        ctx.add(
            "B1",
            f"BANDWIDTH {rep.declared_bandwidth} b/s is below the measured peak {rep.measured_peak} b/s "
            f"({(rep.declared_bandwidth - rep.measured_peak) / rep.measured_peak:+.1%}): declare at least the peak",
            where,
        )
    for declared, measured, label, below_is_b1 in (
        (rep.declared_bandwidth, rep.measured_peak, "BANDWIDTH vs measured peak", True),
        (rep.declared_average, rep.measured_average, "AVERAGE-BANDWIDTH vs measured average", False),
    ):
        if below_is_b1 and declared is not None and measured and declared < measured:
            continue  # B1 already says it, as the MUST it is
        if declared is not None and measured and _off(measured, declared):
            ctx.add(
                "B4",
                f"{label}: declared {declared} b/s, measured {measured} b/s "
                f"({(declared - measured) / measured:+.1%}; Apple allows ±10%, AHS 1.26/1.27)",
                where,
            )
    if (
        rep.declared_bandwidth
        and rep.measured_peak_wide
        and rep.measured_peak
        and not _off(rep.measured_peak, rep.declared_bandwidth)
        and _off(rep.measured_peak_wide, rep.declared_bandwidth)
    ):
        ctx.add(
            "B2",
            f"BANDWIDTH {rep.declared_bandwidth} is within 10% of the RFC-window peak but not of the "
            f"draft-window peak {rep.measured_peak_wide} that mediastreamvalidator uses",
            where,
        )
    if rep.declared_bandwidth and rep.declared_average and rep.declared_average > rep.declared_bandwidth:
        ctx.add("3.1-AVERAGE-BANDWIDTH", "AVERAGE-BANDWIDTH is greater than BANDWIDTH", where)
    if rep.measured_average and rep.measured_peak and rep.measured_peak > 2 * rep.measured_average:
        ctx.add(
            "AHS-1.28",
            f"measured peak {rep.measured_peak} is more than twice the average {rep.measured_average}",
            where,
        )
    if facts is None:
        return
    if rep.declared_codecs is not None:
        listed = {c.strip() for c in rep.declared_codecs.split(",") if c.strip()}
        own = {_as_listed(c, listed) for c in facts.codecs.split(",")}
        text = {c for c in listed if c.startswith(TEXT_FORMATS)}  # subtitle formats: allowed, not required
        if own - listed or listed - own - grouped - text:
            shown = f'"{facts.codecs}"' + (f" (renditions: {', '.join(sorted(grouped))})" if grouped else "")
            ctx.add("6.3", f'CODECS="{rep.declared_codecs}" but the media is {shown}', where)
        if grouped - listed - own:
            ctx.add(
                "G12",
                f'CODECS="{rep.declared_codecs}" does not list {", ".join(sorted(grouped - listed - own))}, '
                "the format of its renditions",
                where,
            )
    if facts.video:
        if rep.declared_resolution is None:
            ctx.add("AHS-9.2", "EXT-X-STREAM-INF has no RESOLUTION for a video variant", where)
        elif rep.declared_resolution != facts.video.resolution:
            ctx.add(
                "3.1-RESOLUTION",
                f"RESOLUTION={rep.declared_resolution} but {'the video sample entry' if fmp4 else 'the SPS (after cropping)'} "
                f"says {facts.video.resolution} (mediastreamvalidator -50020)",
                where,
            )
        declared_range = rep.declared_video_range or "SDR"
        if facts.video.video_range is not None and declared_range != facts.video.video_range:
            ctx.add(
                "3.1-VIDEO-RANGE",
                f"VIDEO-RANGE is {declared_range}{'' if rep.declared_video_range else ' (absent)'} but the "
                f"media's transfer characteristics ({facts.video.transfer}) make it {facts.video.video_range}",
                where,
            )
        if rep.declared_frame_rate is None:
            ctx.add("AHS-9.15", "EXT-X-STREAM-INF has no FRAME-RATE for a video variant", where)
        elif (
            facts.video.frame_rate
            and abs(rep.declared_frame_rate - facts.video.frame_rate) > 0.01 * facts.video.frame_rate
        ):
            ctx.add(
                "3.1-FRAME-RATE",
                f"FRAME-RATE={rep.declared_frame_rate:.3f} but the media runs at {facts.video.frame_rate:.3f} fps",
                where,
            )


def _across(ctx: Context, medias: list[MediaCheck], ref: str) -> None:
    if len(medias) < 2:
        return
    tds = {m.playlist.target_duration for m in medias}
    if len(tds) > 1:
        ctx.add(
            "T4",
            f"variants have different TARGETDURATION values ({', '.join(str(t) for t in sorted(tds, key=str))})",
            ref,
        )
    types = {m.playlist.playlist_type for m in medias}
    if len(types) > 1:
        ctx.add("P4", f"variants have different PLAYLIST-TYPE values ({', '.join(sorted(map(str, types)))})", ref)
    fps = min(
        (m.facts.video.frame_rate for m in medias if m.facts and m.facts.video and m.facts.video.frame_rate),
        default=25.0,
    )
    frame = 1 / fps
    durations = [m.playlist.duration for m in medias]
    if max(durations) - min(durations) > frame + 1e-3:
        detail = ", ".join(f"{m.report.name} {m.playlist.duration:.3f} s" for m in medias)
        ctx.add("P6", f"variants cover different durations ({detail})", ref)
    # Boundaries: the EXTINF list and each segment's first PTS agree across variants (AHS 8.22).
    base = medias[0]
    for m in medias[1:]:
        off = []
        n = max(len(base.playlist.segments), len(m.playlist.segments))
        for i in range(n):
            a = base.playlist.segments[i] if i < len(base.playlist.segments) else None
            b = m.playlist.segments[i] if i < len(m.playlist.segments) else None
            if a is None or b is None:
                off.append(f"segment {i} exists in one variant only")
                continue
            pa = base.starts[i] if i < len(base.starts) else None
            pb = m.starts[i] if i < len(m.starts) else None
            if abs(a.duration - b.duration) > frame or (
                pa is not None and pb is not None and abs(pa - pb) > 90000 * frame
            ):
                start = (
                    f", starts at PTS {pa / 90000:.3f} vs {pb / 90000:.3f}" if pa is not None and pb is not None else ""
                )
                off.append(f"segment {i}: EXTINF {a.duration:g} vs {b.duration:g}{start}")
        ctx.add_many(
            "AHS-8.22",
            f"segment boundaries of {m.report.name} are not aligned with {base.report.name} "
            "(switching lands mid-GOP; use a fixed GOP with scene-cut keyframes off)",
            off,
            ref,
        )


def _independent(ctx: Context, pl: MasterPlaylist, medias: list[MediaCheck], ref: str) -> None:
    if pl.independent:
        return
    video = [m for m in medias if m.facts is None or m.facts.video]
    missing = [m.report.name for m in video if not m.playlist.independent]
    if missing:
        ctx.add(
            "I3",
            "EXT-X-INDEPENDENT-SEGMENTS is in neither the master nor the video playlists "
            f"({', '.join(missing)}) (AHS 9.12)",
            ref,
        )
    else:
        ctx.add("AHS-9.11", "put EXT-X-INDEPENDENT-SEGMENTS in the master (AHS 9.11)", ref)


def _iframes(ctx: Context, pl: MasterPlaylist, ref: str) -> None:
    if not pl.iframe_variants:
        ctx.add("AHS-6.1", "no I-frame playlist (EXT-X-I-FRAME-STREAM-INF): trick play needs one", ref)
        return
    for v in pl.iframe_variants:
        where = f"{ref} → {v.raw_uri or '(no URI)'}"
        for attr in ("BANDWIDTH", "URI"):
            if attr not in v.attrs:
                ctx.add("IF1", f"EXT-X-I-FRAME-STREAM-INF has no {attr}", where)
        for attr in ("CODECS", "RESOLUTION"):
            if attr not in v.attrs:
                ctx.add("IF3", f"EXT-X-I-FRAME-STREAM-INF has no {attr}", where)
        if v.uri:
            _iframe_playlist(ctx, v, where)


def _iframe_playlist(ctx: Context, v: Variant, where: str) -> None:
    rep = VariantReport(
        v.uri,
        v.raw_uri,
        declared_bandwidth=v.int("BANDWIDTH"),
        declared_average=v.int("AVERAGE-BANDWIDTH"),
        declared_codecs=v.attrs.get("CODECS"),
        declared_resolution=v.attrs.get("RESOLUTION"),
    )
    ctx.report.iframes.append(rep)
    try:
        ipl = parse(ctx.source.text(v.uri), v.uri)
    except Exception as exc:  # noqa: BLE001
        ctx.add("IF1", f"I-frame playlist cannot be read ({why(exc)})", where)
        return
    if not isinstance(ipl, MediaPlaylist) or not ipl.iframes_only:
        ctx.add("IF2", "the I-frame playlist has no #EXT-X-I-FRAMES-ONLY", where)
        return
    add_problems(ctx, ipl.problems, v.uri)
    check_version(ctx, ipl.version, ipl.features, v.uri)
    if not ipl.endlist:
        ctx.add("P3", "no #EXT-X-ENDLIST in the I-frame playlist", v.uri)
    rep.segments, rep.duration, rep.target_duration = len(ipl.segments), round(ipl.duration, 6), ipl.target_duration
    bad, cut = [], []
    sizes = []
    inits: Inits = {m: load_init(ctx, m, v.uri) for m in dict.fromkeys(s.map for s in ipl.segments if s.map)}
    for seg in ipl.segments:
        key = segment_key(ctx, seg)
        if seg.byterange is None:
            bad.append(f"{seg.raw_uri} has no EXT-X-BYTERANGE")
            continue
        sizes.append(seg.byterange.length)
        try:
            size = ctx.source.size(seg.uri) if seg.encrypted else None
            end = seg.byterange.offset + seg.byterange.length
            if size is not None and end % BLOCK and end != size:
                cut.append(f"{seg.raw_uri} @{seg.byterange.offset}+{seg.byterange.length}")
            if seg.encrypted and key is None:
                continue
            data = plain_range(ctx.source, seg, key, seg.byterange.offset, seg.byterange.length, size)
        except Exception as exc:  # noqa: BLE001 - an unreadable range is the finding
            bad.append(f"{seg.raw_uri} @{seg.byterange.offset}: cannot be read ({why(exc)})")
            continue
        got = inits.get(seg.map) if seg.map is not None else None
        if seg.map is not None and got is None:
            continue  # the init section could not be had: reported with it
        rep.checked_segments += 1
        try:
            if got is not None:
                idr = iframe_range_ok(data, got[1])
            else:
                idr = _starts_with_idr(data, guess_pid=bool(ctx.report.variants))
        except Exception:  # noqa: BLE001 - hostile bytes may break the TS reader in any way
            idr = False
        if not idr:
            bad.append(f"{seg.raw_uri} @{seg.byterange.offset}+{seg.byterange.length}")
        else:
            rep.idr_starts += 1
    ctx.add_many(
        "IF2",
        "I-frame ranges that do not decrypt to TS starting with an IDR frame, or to fMP4 boxes with a moof "
        "and a first video sample that is a sync sample "
        "(decrypted as a player does: widened to 16-byte blocks, the block before as IV)",
        bad,
        v.uri,
    )
    ctx.add_many(
        "IF5",
        "encrypted I-frame ranges that end inside a 16-byte AES block (round the end up to the block, "
        "capped at the file size)",
        cut,
        v.uri,
    )
    if sizes and len(sizes) == len(ipl.segments) and ipl.target_duration:
        fig = measure(sizes, [s.duration_us for s in ipl.segments], ipl.target_duration)
        rep.measured_peak, rep.measured_average, rep.measured_peak_wide = fig.peak, fig.average, fig.peak_wide
        if rep.declared_bandwidth and _off(fig.peak, rep.declared_bandwidth):
            ctx.add(
                "IF4",
                f"I-frame BANDWIDTH {rep.declared_bandwidth} vs measured peak {fig.peak} "
                "is off by more than 10% (AHS 6.9)",
                where,
            )


def _starts_with_idr(data: bytes, *, guess_pid: bool) -> bool:
    program = ts.find_program(data)
    pid = program.video_pid if program else None
    if pid is None and guess_pid:
        pid = 0x100  # range without PSI: the usual FFmpeg video PID
    if pid is None or not ts.synced(data[: ts.PACKET]):
        return False
    starts = ts.pes_starts(data, pid)
    return bool(starts) and ts.is_idr(ts.read_pes(data, pid, starts[0]).payload)


def _session_keys(ctx: Context, pl: MasterPlaylist, medias: list[MediaCheck], ref: str) -> None:
    used = {k.uri: k for m in medias for k in m.playlist.keys}
    for sk in pl.session_keys:
        uri = sk.get("URI")
        if sk.get("METHOD") in (None, "NONE"):
            ctx.add("SK1", "EXT-X-SESSION-KEY with METHOD NONE or none at all", ref)
        elif uri in used and used[uri].method != sk.get("METHOD"):
            ctx.add("SK1", f"EXT-X-SESSION-KEY METHOD {sk.get('METHOD')} differs from the EXT-X-KEY for {uri}", ref)
    uris = {tuple(k.uri for k in m.playlist.keys) for m in medias}
    if not pl.session_keys and len(uris) == 1 and len(next(iter(uris))) == 1 and len(medias) > 1:
        ctx.add("SK2", "all variants share one key: add EXT-X-SESSION-KEY so players can preload it", ref)


def _as_listed(codec: str, listed: set[str]) -> str:
    """An AV1 string as the master may list it: its mandatory fields alone (sample entry, profile, level
    and tier, bit depth: AV1 ISOBMFF binding, "Codecs Parameter String"), which many packagers write,
    stand for the full one; every other codec is compared whole."""
    short = ".".join(codec.split(".")[:4])
    return short if codec.startswith("av01.") and codec not in listed and short in listed else codec
