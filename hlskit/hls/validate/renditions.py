"""EXT-X-MEDIA checks: the tags themselves (RFC 8216 §4.3.4.1), their groups (§4.3.4.1.1), the
variants' references to them (§4.3.4.2), and their media: audio and video renditions are read and
checked like a variant's media playlist (their figures add to the variant's BANDWIDTH, their codecs
belong in its CODECS); subtitle renditions are checked as playlists, and their first segments are
read (at most SUBTITLE_READS of them, SUBTITLE_CAP bytes each) to see WebVTT with an X-TIMESTAMP-MAP
(§3.5). Durations are compared with the video's once the variants are read (:func:`check_durations`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ...domain.languages import well_formed
from .. import tags
from ..measure import Measure
from ..model import RENDITION_TYPES, MasterPlaylist, MediaPlaylist, Rendition
from ..playlist import parse
from ..source import plain_head
from ..webvtt import SIGNATURE, read_timestamp_map
from .crypto import segment_key
from .media import MediaCheck, add_problems, check_media, playlist_rules
from .read import Context, segment_sizes, why
from .report import VariantReport

SUBTITLE_READS = 3  # subtitle segments read per playlist: the first ones
SUBTITLE_CAP = 256 * 1024  # bytes read of each (a WebVTT segment is a few kB)
TEXT_FORMATS = ("wvtt", "stpp")  # subtitle formats a CODECS may list; WebVTT in TS packages is not listed


@dataclass
class RenditionCheck:
    rendition: Rendition
    media: MediaCheck | None = None  # AUDIO/VIDEO with a URI: its media playlist, checked
    playlist: MediaPlaylist | None = None  # any rendition whose playlist could be read
    report: VariantReport | None = None


@dataclass
class Renditions:
    """What the master's renditions turned out to be, for the variant checks."""

    checks: list[RenditionCheck] = field(default_factory=list)

    def group(self, kind: str, group: str | None) -> list[RenditionCheck]:
        return [c for c in self.checks if c.rendition.type == kind and c.rendition.group_id == group]

    def peak(self, group: str | None) -> Measure | None:
        """The audio rendition of the group with the highest peak: it adds to the variant's figures."""
        figures = [c.media.figures for c in self.group("AUDIO", group) if c.media and c.media.figures]
        return max(figures, key=lambda f: f.peak, default=None)

    def codecs(self, kind: str, group: str | None) -> set[str]:
        """The formats the group's renditions carry (from their first segments)."""
        out: set[str] = set()
        for c in self.group(kind, group):
            if c.media and c.media.facts:
                out |= set(c.media.facts.codecs.split(","))
        return out


def check_renditions(ctx: Context, pl: MasterPlaylist, ref: str) -> Renditions:
    """Every EXT-X-MEDIA check that needs no variant: tags, groups, references, rendition media."""
    _tags(ctx, pl, ref)
    _groups(ctx, pl, ref)
    _references(ctx, pl, ref)
    out = Renditions()
    read: dict[str, RenditionCheck] = {}
    for r in pl.media:
        check = RenditionCheck(r)
        out.checks.append(check)
        if not r.uri or r.type not in ("AUDIO", "VIDEO", "SUBTITLES"):  # captions are in the video (G1)
            continue
        if r.uri in read:  # one playlist in several groups (e.g. per audio rate) is read once
            done = read[r.uri]
            check.media, check.playlist, check.report = done.media, done.playlist, done.report
            continue
        read[r.uri] = check
        try:
            text = ctx.source.text(r.uri)
        except Exception as exc:  # noqa: BLE001 - an unreadable rendition is the finding
            ctx.add("G2", f"{r.type} rendition {r.raw_uri} cannot be read ({why(exc)})", ref)
            continue
        if r.type == "SUBTITLES":
            check.playlist, check.report = _subtitles(ctx, r, text)
        else:
            check.media = check_media(ctx, r.uri, r.raw_uri or r.uri, text=text)
            if check.media is not None:
                check.playlist, check.report = check.media.playlist, check.media.report
        if check.report is not None:
            ctx.report.renditions.append(check.report)
    return out


def _tags(ctx: Context, pl: MasterPlaylist, ref: str) -> None:
    for r in pl.media:
        where = f"{ref} line {r.line}"
        missing = [a for a in ("TYPE", "GROUP-ID", "NAME") if not r.attrs.get(a)]
        if missing:
            ctx.add("G1", f"EXT-X-MEDIA has no {', '.join(missing)}", where)
        if r.type and r.type not in RENDITION_TYPES:
            ctx.add("G1", f"EXT-X-MEDIA TYPE={r.type} is not one of {', '.join(RENDITION_TYPES)}", where)
        if r.type == "SUBTITLES" and not r.uri:
            ctx.add("G1", f"the SUBTITLES rendition {r.name!r} has no URI", where)
        if r.type == "CLOSED-CAPTIONS" and r.raw_uri is not None:
            ctx.add("G1", f"the CLOSED-CAPTIONS rendition {r.name!r} has a URI", where)
        if r.type in RENDITION_TYPES and (r.type == "CLOSED-CAPTIONS") != (r.instream_id is not None):
            ctx.add("G1", f"INSTREAM-ID on a {r.type} rendition: it belongs on CLOSED-CAPTIONS only, and always", where)
        for attr in ("DEFAULT", "AUTOSELECT", "FORCED"):
            if r.attrs.get(attr, "NO") not in ("YES", "NO"):
                ctx.add("F5", f"EXT-X-MEDIA {attr}={r.attrs[attr]} is not YES or NO", where)
        if r.default and r.attrs.get("AUTOSELECT") not in (None, "YES"):
            ctx.add("G5", f"{r.name!r} has DEFAULT=YES but AUTOSELECT={r.attrs['AUTOSELECT']}", where)
        for attr, value in (("LANGUAGE", r.language), ("ASSOC-LANGUAGE", r.assoc_language)):
            if value is not None and not well_formed(value):
                ctx.add("G6", f"{attr}={value!r} of {r.name!r} is not an RFC 5646 language tag (e.g. en, pt-BR)", where)
        if "FORCED" in r.attrs and r.type != "SUBTITLES":
            ctx.add(
                "G8", f"FORCED on the {r.type or 'untyped'} rendition {r.name!r}: only SUBTITLES may carry it", where
            )


def _groups(ctx: Context, pl: MasterPlaylist, ref: str) -> None:
    groups: dict[tuple[str, str], list[Rendition]] = defaultdict(list)
    for r in pl.media:
        groups[(r.type, r.group_id)].append(r)
    for (kind, group), members in groups.items():
        label = f'{kind} group "{group}"'
        defaults = [r.name for r in members if r.default]
        if len(defaults) > 1:
            ctx.add("G4", f"{label} has {len(defaults)} members with DEFAULT=YES ({', '.join(defaults)})", ref)
        names = Counter(r.name for r in members)
        for name, n in names.items():
            if n > 1:
                ctx.add("G7", f"{label} has {n} members named {name!r}", ref)
        combos = Counter((r.language, r.assoc_language, r.forced, r.characteristics) for r in members if r.autoselect)
        for combo, n in combos.items():
            if n > 1:
                ctx.add(
                    "G13",
                    f"{label} has {n} AUTOSELECT=YES members with LANGUAGE={combo[0]}, FORCED={'YES' if combo[2] else 'NO'} "
                    "and the same ASSOC-LANGUAGE and CHARACTERISTICS: a player cannot tell them apart",
                    ref,
                )


def _references(ctx: Context, pl: MasterPlaylist, ref: str) -> None:
    have = {(r.type, r.group_id) for r in pl.media}
    for v in pl.variants + pl.iframe_variants:
        for kind in RENDITION_TYPES:  # the attribute is named like the TYPE it refers to
            group = v.attrs.get(kind)
            if group is None or (kind == "CLOSED-CAPTIONS" and group == "NONE"):
                continue
            if (kind, group) not in have:
                ctx.add("G3", f'{kind}="{group}" of {v.raw_uri or "a variant"} names no {kind} group', ref)


def _subtitles(ctx: Context, r: Rendition, text: str) -> tuple[MediaPlaylist | None, VariantReport | None]:
    uri = r.uri or ""
    pl = parse(text, uri)
    if not isinstance(pl, MediaPlaylist):
        ctx.add("F6", "expected a subtitle media playlist, found a master playlist", uri)
        return None, None
    add_problems(ctx, pl.problems, uri)
    playlist_rules(ctx, pl, uri)
    rep = VariantReport(uri, r.raw_uri or uri, len(pl.segments), round(pl.duration, 6), pl.target_duration)
    rep.max_segment = max((s.duration for s in pl.segments), default=0.0)
    if not pl.segments:
        ctx.add("E2", "the playlist lists no segment", uri)
        return pl, rep
    sizes = segment_sizes(ctx, pl, uri)
    not_vtt: list[str] = []
    no_map: list[str] = []
    bad_map: list[str] = []
    for seg, size in list(zip(pl.segments, sizes))[:SUBTITLE_READS]:
        key = segment_key(ctx, seg)
        if size is None or (seg.encrypted and key is None):
            continue
        try:
            data = plain_head(ctx.source, seg, key, SUBTITLE_CAP)
        except Exception as exc:  # noqa: BLE001 - reported like any unreadable segment
            ctx.add("E2", f"{seg.raw_uri} cannot be read ({why(exc)})", uri)
            continue
        rep.checked_segments += 1
        fault = _webvtt_header(data, complete=size <= SUBTITLE_CAP)
        if fault == "no map":
            no_map.append(seg.raw_uri)
        elif fault:
            (bad_map if fault.startswith(tags.X_TIMESTAMP_MAP) else not_vtt).append(f"{seg.raw_uri} ({fault})")
    ctx.add_many("G9", "subtitle segments that are not WebVTT", not_vtt, uri)
    ctx.add_many("G9", "subtitle segments with a malformed X-TIMESTAMP-MAP", bad_map, uri)
    ctx.add_many("G10", "subtitle segments without X-TIMESTAMP-MAP (their cues map to timestamp 0)", no_map, uri)
    return pl, rep


def _webvtt_header(data: bytes, *, complete: bool) -> str | None:
    """None when ``data`` starts a WebVTT file whose header holds a well-formed X-TIMESTAMP-MAP;
    else what is wrong ("no map" when it simply has none)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if complete or exc.start < len(data) - 4:  # a head may cut a character in two
            return f"not UTF-8 at byte {exc.start}"
        text = data[: exc.start].decode("utf-8")
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = lines[0]
    if not (first == SIGNATURE or first.startswith((SIGNATURE + " ", SIGNATURE + "\t"))):
        return f"it begins {first[:20]!r}, not WEBVTT"
    for line in lines[1:]:
        if not line or "-->" in line:
            break
        if line.startswith(tags.X_TIMESTAMP_MAP + "="):
            try:
                read_timestamp_map(line.split("=", 1)[1])
            except ValueError as exc:
                return f"{tags.X_TIMESTAMP_MAP} {exc}"
            return None
    return "no map"


def check_durations(ctx: Context, renditions: Renditions, video: MediaCheck | None, ref: str) -> None:
    """Each rendition covers the video's duration, to within the video's target duration (G11)."""
    if video is None or not video.playlist.segments:
        return
    length, target = video.playlist.duration, video.playlist.target_duration or 1
    off = []
    seen = set()
    for c in renditions.checks:
        pl = c.playlist
        if pl is None or not pl.segments or c.rendition.uri in seen:
            continue
        seen.add(c.rendition.uri)
        if abs(pl.duration - length) > target:
            off.append(f"{c.rendition.raw_uri} {pl.duration:.3f} s")
    ctx.add_many(
        "G11",
        f"renditions whose duration differs from the video's {length:.3f} s ({video.report.name}) "
        f"by more than its target duration, {target} s",
        off,
        ref,
    )
