"""Validate an HLS stream (master or media playlist, on disk, in OSS or over HTTP).

Checks are those of hls-rules.md §5 that apply to VOD TS, each finding carrying the rule id from
hls-rules.md (``T2``, ``KF1``, ``C4``...) or Apple's authoring-spec item (``AHS-7.4``). Segments
are read sparingly: sizes by stat/HEAD; of each segment only the head (PAT, PMT, the first frame:
TS sync, IDR, first PTS) and, when encrypted, the last two AES blocks (PKCS#7 padding; CBC needs
only the block before); the first segment whole (CODECS, resolution, frame rate).

Bit rates: measured with the RFC window like stitch (so our own output matches exactly) and
compared to the declared values with Apple's VOD tolerance, |m - d| <= 10% of min(m, d), which
passes both published mediastreamvalidator formulas (hls-rules §4.3). The wider draft window is
reported too and gets a SHOULD when only it breaks the tolerance.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from ..domain.errors import InputError
from .crypto import decrypt_segment
from . import ts
from .codecs import MediaFacts, read_media_facts
from ..keys.resolve import chain, http_key_resolver
from .measure import Measure, measure
from .playlist import MUST, SHOULD, MasterPlaylist, MediaPlaylist, Segment, parse, required_version, round_half_up
from .source import KeyResolver, Keys, Source, open_source, padding_of, plain_head, plain_range, require

TOLERANCE = 0.10
HEAD_READS = (8 * 1024, 64 * 1024, 1024 * 1024)
EXAMPLES = 3


@dataclass
class Finding:
    severity: str      # MUST | SHOULD
    rule: str          # id in hls-rules.md, or AHS-<item>
    message: str
    where: str


@dataclass
class VariantReport:
    uri: str
    name: str
    segments: int = 0
    duration: float = 0.0
    target_duration: int | None = None
    max_segment: float = 0.0
    declared_bandwidth: int | None = None
    measured_peak: int | None = None
    measured_peak_wide: int | None = None
    declared_average: int | None = None
    measured_average: int | None = None
    declared_codecs: str | None = None
    codecs: str | None = None
    declared_resolution: str | None = None
    resolution: str | None = None
    declared_frame_rate: float | None = None
    frame_rate: float | None = None
    encryption: str = "none"
    idr_starts: int = 0
    checked_segments: int = 0
    iframe_uri: str | None = None


@dataclass
class Report:
    source: str
    kind: str                                   # "master" or "media"
    variants: list[VariantReport] = field(default_factory=list)
    iframes: list[VariantReport] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def must(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == MUST]

    @property
    def should(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == SHOULD]

    def rules(self, severity: str | None = None) -> set[str]:
        return {f.rule for f in self.findings if severity in (None, f.severity)}

    def to_dict(self) -> dict:
        return {**asdict(self), "must_fix": len(self.must), "should_fix": len(self.should)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


@dataclass
class _Media:
    """What validation learnt about one media playlist."""

    playlist: MediaPlaylist
    report: VariantReport
    figures: Measure | None
    facts: MediaFacts | None
    starts: list[int | None]                    # first video PTS of each segment (90 kHz)


class _Validator:
    def __init__(self, source: Source, keys: Keys, report: Report):
        self.source, self.keys, self.report = source, keys, report

    def add(self, severity: str, rule: str, message: str, where: str) -> None:
        self.report.findings.append(Finding(severity, rule, message, where))

    def add_many(self, severity: str, rule: str, what: str, items: list[str], where: str) -> None:
        """One finding for a fault repeated over segments: count and the first examples."""
        if items:
            shown = "; ".join(items[:EXAMPLES]) + (f"; ... ({len(items)} in all)" if len(items) > EXAMPLES else "")
            self.add(severity, rule, f"{what}: {shown}", where)

    # --- media playlists -------------------------------------------------------------------

    def media(self, ref: str, name: str, *, text: str | None = None) -> _Media | None:
        try:
            text = text if text is not None else self.source.text(ref)
        except Exception as exc:  # noqa: BLE001 - a missing variant is a finding, not a crash
            self.add(MUST, "ST1", f"media playlist cannot be read ({exc})", ref)
            return None
        pl = parse(text, ref)
        if not isinstance(pl, MediaPlaylist):
            self.add(MUST, "F6", "expected a media playlist, found a master playlist", ref)
            return None
        for p in pl.problems:
            self.add(p.severity, p.rule, p.message, ref)
        rep = VariantReport(ref, name, segments=len(pl.segments), duration=round(pl.duration, 6),
                            target_duration=pl.target_duration,
                            max_segment=max((s.duration for s in pl.segments), default=0.0))
        self._playlist_rules(pl, ref)
        if not pl.segments:
            self.add(MUST, "E1", "the playlist lists no segment", ref)
            return _Media(pl, rep, None, None, [])
        sizes = self._sizes(pl, ref)
        figures = None
        if None not in sizes and pl.target_duration:
            figures = measure(sizes, [s.duration_us for s in pl.segments], pl.target_duration)
            rep.measured_peak, rep.measured_average, rep.measured_peak_wide = figures.peak, figures.average, figures.peak_wide
        self._encryption(pl, rep, ref)
        facts = self._first_segment(pl, rep, ref)
        starts = self._segments(pl, rep, sizes, facts, ref)
        return _Media(pl, rep, figures, facts, starts)

    def _playlist_rules(self, pl: MediaPlaylist, ref: str) -> None:
        if pl.target_duration is None:
            self.add(MUST, "T1", "EXT-X-TARGETDURATION is missing", ref)
        else:
            long = [f"{s.raw_uri} EXTINF {s.duration:g}" for s in pl.segments
                    if round_half_up(s.duration) > pl.target_duration]
            self.add_many(MUST, "T2", f"segments whose rounded EXTINF exceeds TARGETDURATION {pl.target_duration}", long, ref)
        if pl.playlist_type != "VOD":
            self.add(MUST, "P2", f"EXT-X-PLAYLIST-TYPE is {pl.playlist_type or 'missing'}; a VOD playlist carries #EXT-X-PLAYLIST-TYPE:VOD (AHS 8.6)", ref)
        if not pl.endlist:
            self.add(MUST, "P3", "no #EXT-X-ENDLIST: the presentation never ends for a player (it is treated as live)", ref)
        self._version(pl.version, pl.features, ref)

    def _version(self, version: int | None, features: set[str], ref: str) -> None:
        need = required_version(features)
        have = version or 1
        if have < need:
            self.add(MUST, "V1", f"EXT-X-VERSION is {version or 'absent (1)'} but the features used need {need} "
                                 f"({', '.join(sorted(features))})", ref)
        elif version and version > max(need, 3):
            # Tools commonly write 3 for TS; only flag values above what anything here needs.
            self.add(SHOULD, "V2", f"EXT-X-VERSION {version} is higher than the features need ({need})", ref)

    def _sizes(self, pl: MediaPlaylist, ref: str) -> list[int | None]:
        sizes: list[int | None] = []
        missing = []
        for s in pl.segments:
            if s.byterange:
                sizes.append(s.byterange.length)
                continue
            try:
                sizes.append(self.source.size(s.uri))
            except Exception:  # noqa: BLE001
                sizes.append(None)
                missing.append(s.raw_uri)
        self.add_many(MUST, "E1", "segments cannot be fetched", missing, ref)
        return sizes

    def _encryption(self, pl: MediaPlaylist, rep: VariantReport, ref: str) -> None:
        keys = pl.keys
        if not keys:
            return
        methods = sorted({k.method for k in keys})
        rep.encryption = f"{'/'.join(methods)}, {len(keys)} key{'s' if len(keys) > 1 else ''}"
        if any(k.iv is None for k in keys):
            self.add(SHOULD, "IV3", "EXT-X-KEY without IV: the IV is the media sequence number; prefer an explicit random IV", ref)
        for k in keys:
            if k.method != "AES-128":
                self.report.notes.append(f"{ref}: METHOD={k.method} segments are not decrypted by this validator")
                continue
            key = self.keys.get(k.uri)
            if key is None:
                self.report.notes.append(f"key {k.uri} could not be fetched ({self.keys.errors.get(k.uri, 'no key source')}); "
                                         "decryption was not checked")
            elif len(key) != 16:
                looks = " (it looks like hex text)" if len(key) == 32 and all(c in b"0123456789abcdefABCDEF" for c in key) else ""
                self.add(MUST, "KF1", f"key URI {k.uri} answered {len(key)} bytes{looks}; a key is exactly 16 raw bytes", ref)

    def _key(self, seg: Segment) -> bytes | None:
        return self.keys.usable(seg.key.uri) if seg.encrypted and seg.key.method == "AES-128" else None

    def _first_segment(self, pl: MediaPlaylist, rep: VariantReport, ref: str) -> MediaFacts | None:
        seg = pl.segments[0]
        key = self._key(seg)
        if seg.encrypted and key is None:
            return None
        try:
            data = (self.source.read(seg.uri, seg.byterange.offset, seg.byterange.length) if seg.byterange
                    else self.source.read(seg.uri))
            if key is not None:
                data = decrypt_segment(data, key, seg.iv)
        except ValueError:
            return None  # reported per segment as C4
        except Exception:  # noqa: BLE001 - reported by _sizes
            return None
        try:
            facts = read_media_facts(data)
        except ValueError as exc:
            self.add(MUST, "6.1", f"CODECS cannot be derived from the first segment ({exc})", ref)
            return None
        rep.codecs = facts.codecs
        if facts.video:
            rep.resolution, rep.frame_rate = facts.video.resolution, facts.video.frame_rate
        return facts

    def _head(self, seg: Segment, key: bytes | None) -> tuple[bytes, ts.Program | None, ts.Pes | None]:
        """Plain head of a segment, grown until the first video PES shows its first slice."""
        data, program, pes = b"", None, None
        for length in HEAD_READS:
            data = plain_head(self.source, seg, key, length)
            program = ts.find_program(data)
            if program and program.video_pid is not None:
                starts = ts.pes_starts(data, program.video_pid)
                if starts:
                    pes = ts.read_pes(data, program.video_pid, starts[0])
                    if pes.complete or any(t in (1, 5) for t in ts.nal_types(pes.payload)):
                        break
            elif program and program.video_pid is None:
                break
            if len(data) < length:
                break
        return data, program, pes

    def _segments(self, pl: MediaPlaylist, rep: VariantReport, sizes: list[int | None],
                  facts: MediaFacts | None, ref: str) -> list[int | None]:
        not_ts, not_idr, bad_len, bad_pad, starts = [], [], [], [], []
        has_video = facts is None or facts.video is not None
        for seg, size in zip(pl.segments, sizes):
            key = self._key(seg)
            if size is None or (seg.encrypted and key is None):
                starts.append(None)
                continue
            rep.checked_segments += 1
            if key is not None and not seg.byterange:
                if size % 16:
                    bad_len.append(f"{seg.raw_uri} ({size} bytes)")
                    starts.append(None)
                    continue
                if padding_of(self.source, seg, key, size) is None:
                    bad_pad.append(seg.raw_uri)
            data, program, pes = self._head(seg, key)
            if not ts.synced(data[:ts.PACKET * 4]):
                not_ts.append(seg.raw_uri)
                starts.append(None)
                continue
            if has_video and program and program.video_pid is not None:
                if pes is None or ts.NAL_IDR not in ts.nal_types(pes.payload):
                    not_idr.append(seg.raw_uri)
                else:
                    rep.idr_starts += 1
                starts.append(pes.pts if pes else None)
            else:
                starts.append(None)
        encrypted = any(s.encrypted for s in pl.segments)
        self.add_many(MUST, "C3", "encrypted segments whose length is not a multiple of 16", bad_len, ref)
        self.add_many(MUST, "C4", "segments that do not decrypt to valid PKCS#7 padding with their key and IV (wrong key or IV)",
                      bad_pad, ref)
        self.add_many(MUST, "C4" if encrypted else "F1",
                      "segments that are not MPEG-2 TS after decryption (no 0x47 sync bytes): wrong key or IV"
                      if encrypted else "segments that are not MPEG-2 TS (no 0x47 sync bytes)", not_ts, ref)
        self.add_many(MUST, "AHS-7.4", "video segments that do not start with an IDR frame", not_idr, ref)
        fps = facts.video.frame_rate if facts and facts.video else None
        if fps:
            frame = 90000 / fps
            off = []
            for i, seg in enumerate(pl.segments[:-1]):
                a, b = starts[i], starts[i + 1]
                if a is not None and b is not None:
                    real = ((b - a) % (1 << 33)) / 90000
                    if abs(real - seg.duration) > 1.5 * frame / 90000:
                        off.append(f"{seg.raw_uri} EXTINF {seg.duration:g} s vs {real:.3f} s of media")
            self.add_many(MUST, "E3", "EXTINF differs from the media duration by more than one frame", off, ref)
        return starts

    # --- master ----------------------------------------------------------------------------

    def master(self, pl: MasterPlaylist, ref: str) -> None:
        for p in pl.problems:
            self.add(p.severity, p.rule, p.message, ref)
        self._version(pl.version, pl.features, ref)
        if not pl.variants:
            self.add(MUST, "ST1", "the master lists no variant", ref)
            return
        if len(pl.variants) < 2:
            self.add(MUST, "AHS-9.9", "only one variant: provide several bit rates of video", ref)
        medias: list[tuple[_Media, dict]] = []
        for v in pl.variants:
            name = v.raw_uri
            for attr, rule, sev in (("BANDWIDTH", "3.1-BANDWIDTH", MUST), ("AVERAGE-BANDWIDTH", "AHS-9.14", MUST),
                                    ("CODECS", "AHS-9.1", MUST)):
                if attr not in v.attrs:
                    self.add(sev, rule, f"EXT-X-STREAM-INF for {name} has no {attr}", ref)
            m = self.media(v.uri, name)
            if m is None:
                continue
            medias.append((m, v.attrs))
            rep = m.report
            self.report.variants.append(rep)
            rep.declared_bandwidth, rep.declared_average = v.int("BANDWIDTH"), v.int("AVERAGE-BANDWIDTH")
            rep.declared_codecs, rep.declared_resolution = v.attrs.get("CODECS"), v.attrs.get("RESOLUTION")
            try:
                rep.declared_frame_rate = float(v.attrs["FRAME-RATE"]) if "FRAME-RATE" in v.attrs else None
            except ValueError:
                self.add(MUST, "F5", f"FRAME-RATE {v.attrs['FRAME-RATE']!r} of {name} is not a decimal", ref)
            audio = self._audio_group(pl, v.attrs.get("AUDIO"), ref)
            if m.figures and audio:
                total = m.figures + audio
                rep.measured_peak, rep.measured_average, rep.measured_peak_wide = total.peak, total.average, total.peak_wide
            self._declared(rep, m.facts, name, ref)
        self._across([m for m, _ in medias], ref)
        self._independent(pl, [m for m, _ in medias], ref)
        self._iframes(pl, ref)
        self._session_keys(pl, [m for m, _ in medias], ref)

    def _audio_group(self, pl: MasterPlaylist, group: str | None, ref: str) -> Measure | None:
        """The highest-peak audio rendition of the group (B4): its figures add to the variant's."""
        if not group:
            return None
        best = None
        for media in pl.media:
            if media.get("TYPE") == "AUDIO" and media.get("GROUP-ID") == group and media.get("URI"):
                try:
                    apl = parse(self.source.text(media["URI"]), media["URI"])
                except Exception:  # noqa: BLE001
                    self.add(MUST, "G2", f"audio rendition {media['URI']} cannot be read", ref)
                    continue
                if isinstance(apl, MediaPlaylist) and apl.segments and apl.target_duration:
                    sizes = self._sizes(apl, media["URI"])
                    if None not in sizes:
                        fig = measure(sizes, [s.duration_us for s in apl.segments], apl.target_duration)
                        best = fig if best is None or fig.peak > best.peak else best
        return best

    def _declared(self, rep: VariantReport, facts: MediaFacts | None, name: str, ref: str) -> None:
        where = f"{ref} → {name}"
        for declared, measured, rule, label in (
            (rep.declared_bandwidth, rep.measured_peak, "B4", "BANDWIDTH vs measured peak"),
            (rep.declared_average, rep.measured_average, "B4", "AVERAGE-BANDWIDTH vs measured average"),
        ):
            if declared is not None and measured:
                if abs(measured - declared) > TOLERANCE * min(measured, declared):
                    self.add(MUST, rule, f"{label}: declared {declared} b/s, measured {measured} b/s "
                                         f"({(declared - measured) / measured:+.1%}; Apple allows ±10%, AHS 1.26/1.27)", where)
        if rep.declared_bandwidth and rep.measured_peak_wide and rep.measured_peak and \
                abs(rep.measured_peak - rep.declared_bandwidth) <= TOLERANCE * min(rep.measured_peak, rep.declared_bandwidth) and \
                abs(rep.measured_peak_wide - rep.declared_bandwidth) > TOLERANCE * min(rep.measured_peak_wide, rep.declared_bandwidth):
            self.add(SHOULD, "B2", f"BANDWIDTH {rep.declared_bandwidth} is within 10% of the RFC-window peak but not of the "
                                   f"draft-window peak {rep.measured_peak_wide} that mediastreamvalidator uses", where)
        if rep.declared_bandwidth and rep.declared_average and rep.declared_average > rep.declared_bandwidth:
            self.add(MUST, "3.1-AVERAGE-BANDWIDTH", "AVERAGE-BANDWIDTH is greater than BANDWIDTH", where)
        if rep.measured_average and rep.measured_peak and rep.measured_peak > 2 * rep.measured_average:
            self.add(SHOULD, "AHS-1.28", f"measured peak {rep.measured_peak} is more than twice the average {rep.measured_average}", where)
        if facts is None:
            return
        if rep.declared_codecs is not None:
            declared = {c.strip() for c in rep.declared_codecs.split(",") if c.strip()}
            measured = set(facts.codecs.split(","))
            if declared != measured:
                self.add(MUST, "6.3", f'CODECS="{rep.declared_codecs}" but the media is "{facts.codecs}"', where)
        if facts.video:
            if rep.declared_resolution is None:
                self.add(MUST, "AHS-9.2", "EXT-X-STREAM-INF has no RESOLUTION for a video variant", where)
            elif rep.declared_resolution != facts.video.resolution:
                self.add(MUST, "3.1-RESOLUTION", f"RESOLUTION={rep.declared_resolution} but the SPS (after cropping) "
                                                 f"says {facts.video.resolution} (mediastreamvalidator -50020)", where)
            if rep.declared_frame_rate is None:
                self.add(MUST, "AHS-9.15", "EXT-X-STREAM-INF has no FRAME-RATE for a video variant", where)
            elif facts.video.frame_rate and abs(rep.declared_frame_rate - facts.video.frame_rate) > 0.01 * facts.video.frame_rate:
                self.add(MUST, "3.1-FRAME-RATE", f"FRAME-RATE={rep.declared_frame_rate:.3f} but the media runs at "
                                                 f"{facts.video.frame_rate:.3f} fps", where)

    def _across(self, medias: list[_Media], ref: str) -> None:
        if len(medias) < 2:
            return
        tds = {m.playlist.target_duration for m in medias}
        if len(tds) > 1:
            self.add(MUST, "T4", f"variants have different TARGETDURATION values ({', '.join(str(t) for t in sorted(tds, key=str))})", ref)
        types = {m.playlist.playlist_type for m in medias}
        if len(types) > 1:
            self.add(MUST, "P4", f"variants have different PLAYLIST-TYPE values ({', '.join(sorted(map(str, types)))})", ref)
        fps = min((m.facts.video.frame_rate for m in medias if m.facts and m.facts.video and m.facts.video.frame_rate), default=25.0)
        frame = 1 / fps
        durations = [m.playlist.duration for m in medias]
        if max(durations) - min(durations) > frame + 1e-3:
            detail = ", ".join(f"{m.report.name} {m.playlist.duration:.3f} s" for m in medias)
            self.add(MUST, "P6", f"variants cover different durations ({detail})", ref)
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
                if abs(a.duration - b.duration) > frame or (pa is not None and pb is not None and abs(pa - pb) > 90000 * frame):
                    start = f", starts at PTS {pa / 90000:.3f} vs {pb / 90000:.3f}" if pa is not None and pb is not None else ""
                    off.append(f"segment {i}: EXTINF {a.duration:g} vs {b.duration:g}{start}")
            self.add_many(SHOULD, "AHS-8.22", f"segment boundaries of {m.report.name} are not aligned with {base.report.name} "
                                              "(switching lands mid-GOP; use a fixed GOP with scene-cut keyframes off)", off, ref)

    def _independent(self, pl: MasterPlaylist, medias: list[_Media], ref: str) -> None:
        if pl.independent:
            return
        video = [m for m in medias if m.facts is None or m.facts.video]
        missing = [m.report.name for m in video if not m.playlist.independent]
        if missing:
            self.add(MUST, "I3", "EXT-X-INDEPENDENT-SEGMENTS is in neither the master nor the video playlists "
                                 f"({', '.join(missing)}) (AHS 9.12)", ref)
        else:
            self.add(SHOULD, "I3", "put EXT-X-INDEPENDENT-SEGMENTS in the master (AHS 9.11)", ref)

    def _iframes(self, pl: MasterPlaylist, ref: str) -> None:
        if not pl.iframe_variants:
            self.add(MUST, "AHS-6.1", "no I-frame playlist (EXT-X-I-FRAME-STREAM-INF): trick play needs one", ref)
            return
        for v in pl.iframe_variants:
            where = f"{ref} → {v.raw_uri or '(no URI)'}"
            for attr, rule in (("BANDWIDTH", "IF1"), ("URI", "IF1"), ("CODECS", "IF3"), ("RESOLUTION", "IF3")):
                if attr not in v.attrs:
                    self.add(MUST, rule, f"EXT-X-I-FRAME-STREAM-INF has no {attr}", where)
            if not v.uri:
                continue
            rep = VariantReport(v.uri, v.raw_uri, declared_bandwidth=v.int("BANDWIDTH"),
                                declared_average=v.int("AVERAGE-BANDWIDTH"), declared_codecs=v.attrs.get("CODECS"),
                                declared_resolution=v.attrs.get("RESOLUTION"))
            self.report.iframes.append(rep)
            try:
                ipl = parse(self.source.text(v.uri), v.uri)
            except Exception as exc:  # noqa: BLE001
                self.add(MUST, "IF1", f"I-frame playlist cannot be read ({exc})", where)
                continue
            if not isinstance(ipl, MediaPlaylist) or not ipl.iframes_only:
                self.add(MUST, "IF2", "the I-frame playlist has no #EXT-X-I-FRAMES-ONLY", where)
                continue
            for p in ipl.problems:
                self.add(p.severity, p.rule, p.message, v.uri)
            self._version(ipl.version, ipl.features, v.uri)
            if not ipl.endlist:
                self.add(MUST, "P3", "no #EXT-X-ENDLIST in the I-frame playlist", v.uri)
            rep.segments, rep.duration, rep.target_duration = len(ipl.segments), round(ipl.duration, 6), ipl.target_duration
            bad = []
            sizes = []
            for seg in ipl.segments:
                key = self._key(seg)
                if seg.byterange is None:
                    bad.append(f"{seg.raw_uri} has no EXT-X-BYTERANGE")
                    continue
                sizes.append(seg.byterange.length)
                if seg.encrypted and key is None:
                    continue
                try:
                    data = plain_range(self.source, seg, key, seg.byterange.offset, seg.byterange.length,
                                       self.source.size(seg.uri) if key else None)
                except Exception as exc:  # noqa: BLE001
                    bad.append(f"{seg.raw_uri} @{seg.byterange.offset}: cannot be read ({exc})")
                    continue
                rep.checked_segments += 1
                program = ts.find_program(data)
                pid = program.video_pid if program else None
                if pid is None and self.report.variants:
                    pid = 0x100  # range without PSI: the usual FFmpeg video PID
                starts = ts.pes_starts(data, pid) if ts.synced(data[:ts.PACKET]) and pid is not None else []
                if not starts or not ts.is_idr(ts.read_pes(data, pid, starts[0]).payload):
                    bad.append(f"{seg.raw_uri} @{seg.byterange.offset}+{seg.byterange.length}")
                else:
                    rep.idr_starts += 1
            self.add_many(MUST, "IF2", "I-frame ranges that do not decrypt to TS starting with an IDR frame "
                                       "(decrypted as a player does, hls-rules C5)", bad, v.uri)
            if sizes and len(sizes) == len(ipl.segments) and ipl.target_duration:
                fig = measure(sizes, [s.duration_us for s in ipl.segments], ipl.target_duration)
                rep.measured_peak, rep.measured_average, rep.measured_peak_wide = fig.peak, fig.average, fig.peak_wide
                if rep.declared_bandwidth and abs(fig.peak - rep.declared_bandwidth) > TOLERANCE * min(fig.peak, rep.declared_bandwidth):
                    self.add(MUST, "IF3", f"I-frame BANDWIDTH {rep.declared_bandwidth} vs measured peak {fig.peak} "
                                          "is off by more than 10% (AHS 6.9)", where)

    def _session_keys(self, pl: MasterPlaylist, medias: list[_Media], ref: str) -> None:
        used = {k.uri: k for m in medias for k in m.playlist.keys}
        for sk in pl.session_keys:
            uri = sk.get("URI")
            if sk.get("METHOD") in (None, "NONE"):
                self.add(MUST, "SK1", "EXT-X-SESSION-KEY with METHOD NONE or none at all", ref)
            elif uri in used and used[uri].method != sk.get("METHOD"):
                self.add(MUST, "SK1", f"EXT-X-SESSION-KEY METHOD {sk.get('METHOD')} differs from the EXT-X-KEY for {uri}", ref)
        uris = {tuple(k.uri for k in m.playlist.keys) for m in medias}
        if not pl.session_keys and len(uris) == 1 and len(next(iter(uris))) == 1 and len(medias) > 1:
            self.add(SHOULD, "SK2", "all variants share one key: add EXT-X-SESSION-KEY so players can preload it", ref)


def validate(path_or_url: str, *, key_token: str | None = None, key_resolver: KeyResolver | None = None) -> Report:
    """Validate a master or media playlist. Raises InputError when the stream cannot be read at all.

    Keys: ``key_resolver`` first, then the key URI over HTTP (with ``Authorization: Bearer
    <key_token>`` when given). Keys that cannot be had leave decryption unchecked (a note).
    """
    source, ref = open_source(path_or_url)
    text = require(source, ref)
    pl = parse(text, ref)
    if "#EXT" not in text or (isinstance(pl, MediaPlaylist) and not pl.segments and any(p.rule == "M1" for p in pl.problems)):
        raise InputError(f"{path_or_url} is not an HLS playlist (no #EXT tags): pass a .m3u8 master or media playlist.")
    keys = Keys(chain(key_resolver, http_key_resolver(key_token)))
    report = Report(path_or_url, "master" if isinstance(pl, MasterPlaylist) else "media")
    v = _Validator(source, keys, report)
    if isinstance(pl, MasterPlaylist):
        v.master(pl, ref)
    else:
        m = v.media(ref, ref.rsplit("/", 1)[-1], text=text)
        if m is not None:
            report.variants.append(m.report)
            report.notes.append("a media playlist alone: master-level checks (BANDWIDTH, CODECS, I-frames) were not run")
    if report.kind == "master" and source.content_types:
        bad = {u: t for u, t in source.content_types.items() if u.endswith(".m3u8") and t.split(";")[0].strip().lower()
               not in ("application/vnd.apple.mpegurl", "audio/mpegurl", "application/x-mpegurl")}
        for u, t in list(bad.items())[:EXAMPLES]:
            v.add(MUST, "F2", f"playlist served as {t or 'no Content-Type'}; use application/vnd.apple.mpegurl", u)
    return report


def format_report(report: Report) -> str:
    """The human-readable report: per variant figures, then MUST-fix and SHOULD-fix findings."""
    out = [f"{report.source} ({report.kind} playlist)"]

    def rate(d, m):
        if m is None:
            return "-"
        return f"{m / 1000:.1f} kb/s" + (f" (declared {d / 1000:.1f})" if d is not None else "")

    for r in report.variants:
        out += [f"  {r.name}",
                f"    peak {rate(r.declared_bandwidth, r.measured_peak)}  average {rate(r.declared_average, r.measured_average)}"
                f"  draft-window peak {r.measured_peak_wide / 1000 if r.measured_peak_wide else 0:.1f} kb/s",
                f"    codecs {r.codecs or '?'}{'' if r.declared_codecs in (None, r.codecs) else f' (declared {r.declared_codecs})'}"
                f"  resolution {r.resolution or '?'}  frame rate {f'{r.frame_rate:.3f}' if r.frame_rate else '?'}",
                f"    {r.segments} segments, {r.duration:.3f} s, target {r.target_duration}, longest {r.max_segment:.3f} s;"
                f" IDR at start {r.idr_starts}/{r.checked_segments} checked; encryption {r.encryption}"]
    for r in report.iframes:
        out.append(f"  I-frames {r.name}: {r.segments} frames, peak {rate(r.declared_bandwidth, r.measured_peak)}, "
                   f"IDR {r.idr_starts}/{r.checked_segments} ranges checked")
    for label, items in (("MUST fix", report.must), ("SHOULD fix", report.should)):
        out.append(f"{label}: {len(items)}")
        out += [f"  [{f.rule}] {f.message} ({f.where})" for f in items]
    out += [f"note: {n}" for n in report.notes]
    return "\n".join(out)
