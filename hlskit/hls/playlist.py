"""A strict m3u8 reader: playlists into the model (hls/model.py), plus what is wrong with them.

Stitching needs the parsed facts; validation also needs the faults the parser saw on the way
(duplicate tags, quoted enumerations, missing EXTINF...), so :func:`parse` records them as
``problems`` (the id of the broken rule in :mod:`hlskit.hls.validate.rules`, and a message)
instead of giving up. Syntax as in RFC 8216 §4.
"""

from __future__ import annotations

import functools
import math
import posixpath
import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urljoin

from . import tags
from .model import ByteRange, Key, Map, MasterPlaylist, MediaPlaylist, Problem, Rendition, Segment, Variant

_ATTR = re.compile(r'([^=,]+)=("[^"]*"|[^,]*)')
_EXTINF = re.compile(r"^#EXTINF:(\d+(?:\.\d+)?),(.*)$")
_QUOTED = {
    "URI",
    "CODECS",
    "GROUP-ID",
    "NAME",
    "LANGUAGE",
    "AUDIO",
    "VIDEO",
    "SUBTITLES",
    "KEYFORMAT",
    "KEYFORMATVERSIONS",
    "ASSOC-LANGUAGE",
    "CHARACTERISTICS",
    "CHANNELS",
    "BYTERANGE",
    "INSTREAM-ID",
    "PATHWAY-ID",
    "STABLE-VARIANT-ID",
    "STABLE-RENDITION-ID",
}
_UNQUOTED = {
    "METHOD",
    "TYPE",
    "DEFAULT",
    "AUTOSELECT",
    "FORCED",
    "HDCP-LEVEL",
    "VIDEO-RANGE",
    "RESOLUTION",
    "BANDWIDTH",
    "AVERAGE-BANDWIDTH",
    "FRAME-RATE",
    "IV",
}
# decimal-integer attributes (RFC 8216 §4.2: digits only, 0 to 2^64-1)
_DECIMAL_INTEGER = {"BANDWIDTH", "AVERAGE-BANDWIDTH"}
MAX_DECIMAL_INTEGER = 2**64 - 1
_DURATION = re.compile(r"\d{1,9}(?:\.\d{1,30})?")  # EXTINF: at most ~31 years, microsecond-exact
_BYTERANGE = re.compile(r"^(\d{1,20})(?:@(\d{1,20}))?$")


def parse_attributes(text: str, where: str, problems: list[Problem] | None = None) -> dict[str, str]:
    """An attribute list as {NAME: value without quotes}; type and syntax faults go to ``problems``."""
    out: dict[str, str] = {}
    for m in _ATTR.finditer(text):
        name, raw = m.group(1), m.group(2)
        value = raw[1:-1] if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2 else raw
        if problems is not None:
            if not re.fullmatch(r"[A-Z0-9-]+", name) or raw != raw.strip():
                problems.append(
                    Problem("F4", f"{where}: attribute name {name!r} has whitespace or characters outside [A-Z0-9-]")
                )
            if name in out:
                problems.append(Problem("F4", f"{where}: attribute {name} appears twice"))
            quoted = raw.startswith('"')
            if name in _QUOTED and not quoted and name != "BYTERANGE":
                problems.append(Problem("F5", f"{where}: {name} must be a quoted string"))
            if name in _UNQUOTED and quoted:
                problems.append(Problem("F5", f"{where}: {name}={raw} must not be quoted"))
            if name in _DECIMAL_INTEGER and decimal_integer(value) is None:
                shown = value if len(value) <= 24 else f"{value[:20]}... ({len(value)} characters)"
                problems.append(
                    Problem(
                        "F5",
                        f"{where}: {name}={shown!r} is not a decimal-integer "
                        "(digits only, at most 2^64-1; RFC 8216 §4.2 and §4.3.4.2)",
                    )
                )
        out[name.strip()] = value
    return out


def decimal_integer(text: str) -> int | None:
    """The value of an RFC 8216 §4.2 decimal-integer (0 to 2^64-1), else None."""
    if not re.fullmatch(r"\d{1,20}", text):
        return None
    value = int(text)
    return value if value <= MAX_DECIMAL_INTEGER else None


_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_PLAIN = re.compile(r"[\w-]+(?:\.[\w-]+)*(?:/[\w-]+(?:\.[\w-]+)*)*")  # no '.', '..' or '//' steps


def join_uri(base: str, ref: str) -> str:
    """Resolve ``ref`` against the playlist at ``base`` (a URL or a '/'-separated storage path)."""
    if _SCHEME.match(ref):
        return ref
    if _URL.match(base):
        return urljoin(base, ref)
    if ref.startswith("/"):
        return ref
    folder = posixpath.dirname(base)
    if folder and _normal(folder) and _PLAIN.fullmatch(ref):
        return f"{folder}/{ref}"  # nothing for normpath to do: the common case, cheap for huge playlists
    return posixpath.normpath(posixpath.join(folder, ref))


@functools.lru_cache(maxsize=64)
def _normal(folder: str) -> bool:
    return posixpath.normpath(folder) == folder


def _duration_us(text: str) -> int:
    try:
        return int((Decimal(text) * 1_000_000).to_integral_value(rounding="ROUND_HALF_UP"))
    except InvalidOperation:
        return 0


def _byterange(text: str, prev_end: int | None) -> ByteRange | None:
    """<n>[@<o>] (RFC 8216 §4.3.2.2); without @<o> the range follows ``prev_end``. None when malformed
    (signs, fractions, more than 20 digits) or when there is no previous range to follow."""
    m = _BYTERANGE.match(text.strip())
    if not m:
        return None
    if m.group(2) is not None:
        return ByteRange(int(m.group(1)), int(m.group(2)))
    if prev_end is None:
        return None
    return ByteRange(int(m.group(1)), prev_end)


def parse(text: str, uri: str) -> MediaPlaylist | MasterPlaylist:
    """Parse a master or media playlist fetched from ``uri`` (used to resolve relative URIs)."""
    problems: list[Problem] = []
    if text.startswith("\ufeff"):
        problems.append(Problem("F1", f"{uri}: the file starts with a byte order mark"))
        text = text[1:]
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    if not lines or lines[0] != tags.EXTM3U:
        problems.append(Problem("M1", f"{uri}: the first line is not #EXTM3U"))
    seen = {ln.split(":", 1)[0] for ln in lines if ln.startswith("#EXT")}
    is_master = bool(seen & tags.MASTER_TAGS)
    if is_master and seen & (tags.MEDIA_PLAYLIST_TAGS | tags.SEGMENT_TAGS):
        problems.append(
            Problem(
                "F6",
                f"{uri}: master tags mixed with media playlist tags "
                f"({', '.join(sorted(seen & (tags.MEDIA_PLAYLIST_TAGS | tags.SEGMENT_TAGS)))})",
            )
        )
    counts: dict[str, int] = {}
    for ln in lines:
        name = ln.split(":", 1)[0]
        if name in tags.ONCE_TAGS:
            counts[name] = counts.get(name, 0) + 1
    for name, n in counts.items():
        if n > 1:
            problems.append(Problem("F7", f"{uri}: {name} appears {n} times"))
    if is_master:
        return _parse_master(lines, uri, problems)
    return _parse_media(lines, uri, problems)


def _version(value: str, uri: str, problems: list[Problem]) -> int | None:
    version = decimal_integer(value)
    if version is None:
        problems.append(Problem("V1", f"{uri}: EXT-X-VERSION {value[:40]!r} is not a decimal-integer"))
    return version


def _parse_master(lines: list[str], uri: str, problems: list[Problem]) -> MasterPlaylist:
    pl = MasterPlaylist(uri, problems=problems)
    pending: tuple[dict[str, str], int] | None = None
    for n, ln in enumerate(lines, 1):
        where = f"{uri} line {n}"
        tag, _, value = ln.partition(":")
        if tag == tags.VERSION:
            pl.version = _version(value, uri, problems)
        elif tag == tags.INDEPENDENT_SEGMENTS:
            pl.independent = True
        elif tag == tags.STREAM_INF:
            if pending:
                problems.append(Problem("ST1", f"{uri} line {pending[1]}: EXT-X-STREAM-INF has no URI line"))
            pending = (parse_attributes(value, where, problems), n)
        elif tag == tags.I_FRAME_STREAM_INF:
            attrs = parse_attributes(value, where, problems)
            raw = attrs.get("URI", "")
            pl.iframe_variants.append(Variant(attrs, join_uri(uri, raw) if raw else "", raw))
        elif tag == tags.MEDIA:
            attrs = parse_attributes(value, where, problems)
            media_uri = attrs.get("URI")
            pl.media.append(Rendition.from_attrs(attrs, join_uri(uri, media_uri) if media_uri else None, n))
        elif tag == tags.SESSION_KEY:
            attrs = parse_attributes(value, where, problems)
            pl.session_keys.append(attrs)
            if "IV" in attrs:
                pl.features.add("iv")
            if "KEYFORMAT" in attrs or "KEYFORMATVERSIONS" in attrs:
                pl.features.add("keyformat")
        elif ln and not ln.startswith("#"):
            if pending:
                pl.variants.append(Variant(pending[0], join_uri(uri, ln.strip()), ln.strip()))
                pending = None
    if pending:
        problems.append(Problem("ST1", f"{uri} line {pending[1]}: EXT-X-STREAM-INF has no URI line"))
    return pl


def _parse_media(lines: list[str], uri: str, problems: list[Problem]) -> MediaPlaylist:
    pl = MediaPlaylist(uri, problems=problems)
    key: Key | None = None
    extinf: tuple[str, int] | None = None
    byterange: ByteRange | None = None
    prev_end: int | None = None
    prev_uri: str | None = None
    pending_range: tuple[str, str] | None = None
    current_map: Map | None = None
    discontinuity = False
    seen_segment = False
    for n, ln in enumerate(lines, 1):
        where = f"{uri} line {n}"
        tag, _, value = ln.partition(":")
        if tag == tags.VERSION:
            pl.version = _version(value, uri, problems)
        elif tag == tags.TARGETDURATION:
            pl.target_duration = decimal_integer(value)
            if pl.target_duration is None:
                problems.append(Problem("T1", f"{where}: TARGETDURATION {value[:40]!r} is not a decimal-integer"))
        elif tag == tags.MEDIA_SEQUENCE:
            if seen_segment:
                problems.append(Problem("S1", f"{where}: EXT-X-MEDIA-SEQUENCE after the first segment"))
            sequence = decimal_integer(value)
            if sequence is None:
                problems.append(Problem("S1", f"{where}: MEDIA-SEQUENCE {value[:40]!r} is not a decimal-integer"))
            else:
                pl.media_sequence = sequence
        elif tag == tags.PLAYLIST_TYPE:
            pl.playlist_type = value
        elif tag == tags.ENDLIST:
            pl.endlist = True
        elif tag == tags.INDEPENDENT_SEGMENTS:
            pl.independent = True
        elif tag == tags.I_FRAMES_ONLY:
            pl.iframes_only = True
            pl.features.add("iframes-only")
        elif tag == tags.DISCONTINUITY:
            discontinuity = True
        elif tag == tags.KEY:
            key = _parse_key(value, uri, where, problems, pl.features)
        elif tag == tags.MAP:
            attrs = parse_attributes(value, where, problems)
            br = _byterange(attrs["BYTERANGE"], 0) if "BYTERANGE" in attrs else None
            if "BYTERANGE" in attrs and br is None:
                problems.append(Problem("F5", f"{where}: bad EXT-X-MAP BYTERANGE {attrs['BYTERANGE']!r}"))
            raw = attrs.get("URI", "")
            if not raw:
                problems.append(Problem("X1", f"{where}: EXT-X-MAP has no URI"))
            if key is not None and key.method == "AES-128" and key.iv is None:
                problems.append(
                    Problem(
                        "X2",
                        f"{where}: the EXT-X-KEY that applies to this EXT-X-MAP has no IV; an encrypted "
                        "initialization section needs an explicit IV (RFC 8216 §4.3.2.5)",
                    )
                )
            current_map = Map(join_uri(uri, raw), br, key if key is not None and key.encrypted else None, raw)
            pl.features.add("map")
        elif tag == tags.EXTINF:
            m = _EXTINF.match(ln)
            if not m:
                problems.append(Problem("E1", f"{where}: malformed EXTINF {ln!r} (needs '#EXTINF:<duration>,')"))
                m = re.match(r"^#EXTINF:(\d+(?:\.\d+)?)", ln)
            if extinf is not None:
                problems.append(Problem("E1", f"{where}: two EXTINF tags for one segment"))
            if m and not _DURATION.fullmatch(m.group(1)):
                problems.append(Problem("E1", f"{where}: EXTINF duration {m.group(1)[:40]!r} is not a usable number"))
                m = None
            if m:
                extinf = (m.group(1), n)
                if "." in m.group(1):
                    pl.features.add("float-extinf")
        elif tag == tags.BYTERANGE:
            pending_range = (value, where)
            pl.features.add("byterange")
        elif ln and not ln.startswith("#"):
            seen_segment = True
            if pending_range is not None:
                # @<offset> may be left out only after a sub-range of the same resource (RFC 8216 §4.3.2.2)
                follows = prev_end if prev_uri == join_uri(uri, ln.strip()) else None
                byterange = _byterange(pending_range[0], follows)
                if byterange is None:
                    shown = pending_range[0] if len(pending_range[0]) <= 44 else f"{pending_range[0][:40]}..."
                    problems.append(
                        Problem(
                            "F5",
                            f"{pending_range[1]}: bad EXT-X-BYTERANGE {shown!r} (<length>[@<offset>], "
                            "non-negative integers; without @<offset> the previous segment must be a "
                            "sub-range of the same resource)",
                        )
                    )
            if extinf is None:
                problems.append(Problem("E1", f"{where}: segment {ln.strip()} has no EXTINF"))
                extinf = ("0", n)
            seg = Segment(
                join_uri(uri, ln.strip()),
                ln.strip(),
                float(extinf[0]),
                _duration_us(extinf[0]),
                pl.media_sequence + len(pl.segments),
                key,
                byterange,
                current_map,
                discontinuity,
            )
            pl.segments.append(seg)
            prev_end = byterange.offset + byterange.length if byterange else None
            prev_uri = seg.uri
            extinf, byterange, discontinuity, pending_range = None, None, False, None
    return pl


def _parse_key(value: str, uri: str, where: str, problems: list[Problem], features: set[str]) -> Key:
    attrs = parse_attributes(value, where, problems)
    method = attrs.get("METHOD")
    if not method:
        problems.append(Problem("K1", f"{where}: EXT-X-KEY has no METHOD"))
        method = "NONE"
    if method == "NONE":
        if len(attrs) > 1:
            problems.append(Problem("K2", f"{where}: METHOD=NONE with other attributes"))
        return Key("NONE")
    if "URI" not in attrs:
        problems.append(Problem("K3", f"{where}: METHOD={method} without a URI"))
    iv = None
    if "IV" in attrs:
        features.add("iv")
        digits = attrs["IV"][2:] if attrs["IV"].lower().startswith("0x") else None
        if digits is None or not re.fullmatch(r"[0-9a-fA-F]+", digits) or len(digits) > 32:
            problems.append(Problem("K4", f"{where}: IV {attrs['IV']} is not 0x + at most 32 hex digits"))
        else:
            if len(digits) < 32:
                problems.append(Problem("K5", f"{where}: IV has {len(digits)} hex digits; write all 32"))
            iv = int(digits, 16).to_bytes(16, "big")
    if method == "SAMPLE-AES":
        features.add("sample-aes")
    if "KEYFORMAT" in attrs or "KEYFORMATVERSIONS" in attrs:
        features.add("keyformat")
    raw = attrs.get("URI")
    return Key(method, join_uri(uri, raw) if raw else None, iv, attrs.get("KEYFORMAT", "identity"), raw)


def required_version(features: set[str]) -> int:
    """The lowest EXT-X-VERSION that allows every feature used (RFC 8216 §7)."""
    need = 1
    table = {"iv": 2, "float-extinf": 3, "byterange": 4, "iframes-only": 4, "sample-aes": 5, "keyformat": 5}
    for f in features:
        need = max(need, table.get(f, 1))
    if "map" in features:
        need = max(need, 5 if "iframes-only" in features else 6)
    return need


def round_half_up(x: float) -> int:
    return math.floor(x + 0.5)
