"""WebVTT files (W3C "WebVTT: The Web Video Text Tracks Format"), as HLS subtitle segments use them
(RFC 8216 §3.5): read cues with their identifiers, settings and markup, and write them back with
the ``X-TIMESTAMP-MAP`` header that ties cue times to the media's timestamps.

Reading follows the W3C parsing rules (§6.1: line terminators, the ``WEBVTT`` signature, blocks
separated by blank lines, STYLE and REGION blocks before the first cue, NOTE blocks skipped) but is
strict where the W3C parser would silently drop a cue: a malformed timing line, or a cue that does
not end after it starts, is an InputError naming the file and line. Overlapping cues are fine
(§3: cues may overlap). An input file's own X-TIMESTAMP-MAP is reported, not applied: its cue times
are taken as presentation times.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..domain.errors import InputError
from . import tags

SIGNATURE = "WEBVTT"
_SIGNATURE = re.compile(r"^WEBVTT(?:[ \t].*)?$")
_TIME = r"(?:\d+:)?[0-5]\d:[0-5]\d\.\d{3}"
_TIMESTAMP = re.compile(r"^(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})$")
_TIMING = re.compile(rf"^({_TIME})[ \t]*-->[ \t]*({_TIME})(?:[ \t]+(.*))?$")
_MAP_MPEGTS = re.compile(r"^MPEGTS:(\d{1,20})$")
MPEGTS_WRAP = 1 << 33  # PTS values are 33 bits (ISO/IEC 13818-1 §2.4.3.7)
TIMING_FIX = "write it as 'hh:mm:ss.ttt --> hh:mm:ss.ttt' (minutes and seconds below 60, three decimals)"


@dataclass(frozen=True)
class Cue:
    """One cue: times in whole milliseconds (WebVTT's resolution), text in WebVTT cue-text syntax."""

    start: int
    end: int
    text: str  # payload lines joined by "\n"; markup (<i>, <c.yellow>) and escapes (&amp;) as written
    identifier: str = ""
    settings: str = ""  # cue settings as written, e.g. "line:0 align:start"
    line: int = field(default=0, compare=False)  # where it began in its file (for messages)


@dataclass
class WebVTT:
    cues: list[Cue] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)  # the CSS of each STYLE block
    regions: list[str] = field(default_factory=list)  # the settings lines of each REGION block
    timestamp_map: tuple[int, int] | None = None  # (MPEGTS, LOCAL in ms) from the header, if any


def parse_timestamp(text: str) -> int | None:
    """A WebVTT timestamp ([hh:]mm:ss.ttt) in milliseconds, or None when malformed."""
    m = _TIMESTAMP.match(text)
    if not m:
        return None
    hours = int(m.group(1) or 0)
    return ((hours * 60 + int(m.group(2))) * 60 + int(m.group(3))) * 1000 + int(m.group(4))


def format_timestamp(ms: int) -> str:
    """hh:mm:ss.ttt, hours always written (two digits or more), as the W3C syntax allows."""
    seconds, millis = divmod(ms, 1000)
    minutes, secs = divmod(seconds, 60)
    hours, mins = divmod(minutes, 60)
    return f"{hours:02d}:{mins:02d}:{secs:02d}.{millis:03d}"


def escape(text: str) -> str:
    """Plain text as WebVTT cue text: '&' and '<' start markup in WebVTT (W3C §4.2.2), so they and
    '>' (which would otherwise let '-->' through) are written as character references."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def lines_of(text: str) -> list[str]:
    """W3C §6.1 preprocessing: NUL to U+FFFD, CRLF and CR to LF; a leading BOM dropped."""
    text = text.removeprefix("\ufeff").replace("\x00", "\ufffd")
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def read_timestamp_map(value: str) -> tuple[int, int]:
    """(MPEGTS, LOCAL in ms) of an X-TIMESTAMP-MAP value ("MPEGTS:126000,LOCAL:00:00:00.000", in
    either order, RFC 8216 §3.5); ValueError saying what is wrong."""
    mpegts = local = None
    for part in value.split(","):
        if part.startswith("LOCAL:"):
            local = parse_timestamp(part[6:])
            if local is None:
                raise ValueError(f"LOCAL {part[6:]!r} is not a WebVTT timestamp")
        elif m := _MAP_MPEGTS.match(part):
            mpegts = int(m.group(1))
            if mpegts >= MPEGTS_WRAP:
                raise ValueError(f"MPEGTS {mpegts} does not fit in 33 bits")
        else:
            raise ValueError(f"{part!r} is neither LOCAL:<cue time> nor MPEGTS:<90 kHz timestamp>")
    if mpegts is None or local is None:
        raise ValueError("it needs both LOCAL:<cue time> and MPEGTS:<90 kHz timestamp>")
    return mpegts, local


def parse_webvtt(text: str, name: str, instant: list[int] | None = None) -> WebVTT:
    """The cues, STYLE and REGION blocks of a WebVTT file; InputError (file, line, fix) when the
    signature is missing or a cue's timing is malformed or not increasing. Given ``instant``, a cue
    that ends when (or before) it starts is left out and its start (ms) added there instead (a source's
    own track: DVD-derived subtitles hold such cues, and the rest of the track is sound)."""
    lines = lines_of(text)
    if not _SIGNATURE.match(lines[0]):
        raise InputError(
            f"{name} is not a WebVTT file: its first line is {lines[0][:40]!r}, not 'WEBVTT'; "
            "start the file with a WEBVTT line."
        )
    doc = WebVTT()
    i = 1
    while i < len(lines) and lines[i] and "-->" not in lines[i]:  # the header (§6.1 step 11)
        key, _, value = lines[i].partition("=")
        if key == tags.X_TIMESTAMP_MAP:
            try:
                doc.timestamp_map = read_timestamp_map(value)
            except ValueError as exc:
                raise InputError(
                    f"{name} line {i + 1}: its {tags.X_TIMESTAMP_MAP} is malformed ({exc}): fix or remove it."
                )
        i += 1
    while i < len(lines):
        if not lines[i]:
            i += 1
            continue
        i = _block(lines, i, name, doc, instant)
    return doc


def _block(lines: list[str], i: int, name: str, doc: WebVTT, instant: list[int] | None) -> int:
    """Read the block starting at line index ``i`` into ``doc``; return the index after it."""
    first = lines[i]
    if "-->" in first:
        return _cue(lines, i, "", name, doc, instant)
    if i + 1 < len(lines) and "-->" in lines[i + 1]:
        return _cue(lines, i + 1, first, name, doc, instant)
    end = i
    while end < len(lines) and lines[end]:
        end += 1
    body = "\n".join(lines[i + 1 : end])
    if first == "NOTE" or first.startswith(("NOTE ", "NOTE\t")):  # a comment (W3C §4.1)
        return end
    if first.rstrip() in ("STYLE", "REGION"):
        if not doc.cues:  # §6.1: STYLE and REGION blocks count only before the first cue
            (doc.styles if first.rstrip() == "STYLE" else doc.regions).append(body)
        return end
    raise InputError(
        f"{name} line {i + 1}: {first[:40]!r} starts a block that is neither a cue (no '-->' timing line "
        f"follows) nor a NOTE, STYLE or REGION block: give each cue a timing line; {TIMING_FIX}."
    )


def _cue(lines: list[str], at: int, identifier: str, name: str, doc: WebVTT, instant: list[int] | None) -> int:
    timing = lines[at]
    m = _TIMING.match(timing.strip(" \t"))
    if not m:
        raise InputError(f"{name} line {at + 1}: the cue timing {timing[:60]!r} is malformed: {TIMING_FIX}.")
    start, end = parse_timestamp(m.group(1)), parse_timestamp(m.group(2))
    assert start is not None and end is not None  # the regular expression matched both
    if end <= start and instant is None:
        raise InputError(
            f"{name} line {at + 1}: the cue ends at {m.group(2)}, not after it starts at {m.group(1)}: "
            "make its end time later than its start time."
        )
    j = at + 1
    # §6.1 ends the cue text at any line holding '-->'; here only at a timing line. FFmpeg's WebVTT
    # encoder writes an ASS or SRT line such as "a --> b" as it is, which is text (escaped when written).
    while j < len(lines) and lines[j] and not ("-->" in lines[j] and _TIMING.match(lines[j].strip(" \t"))):
        j += 1
    if end <= start and instant is not None:
        instant.append(start)
        return j
    settings = " ".join((m.group(3) or "").split())
    doc.cues.append(Cue(start, end, "\n".join(lines[at + 1 : j]), identifier, settings, at + 1))
    return j


def timestamp_map(mpegts: int) -> str:
    """The X-TIMESTAMP-MAP header line (RFC 8216 §3.5): cue time 0 is media time ``mpegts`` (90 kHz)."""
    if not 0 <= mpegts < MPEGTS_WRAP:
        raise ValueError(f"MPEGTS {mpegts} is not a 33-bit timestamp")
    return f"{tags.X_TIMESTAMP_MAP}=MPEGTS:{mpegts},LOCAL:{format_timestamp(0)}"


def write_webvtt(
    cues: Iterable[Cue], *, mpegts: int | None = None, styles: Iterable[str] = (), regions: Iterable[str] = ()
) -> str:
    """A WebVTT file: the signature, X-TIMESTAMP-MAP when ``mpegts`` is given, REGION and STYLE
    blocks (before any cue, W3C §4.1), then the cues in the order given. A cue's empty lines are
    dropped, since an empty line would end it (§4.1)."""
    out = [SIGNATURE]
    if mpegts is not None:
        out.append(timestamp_map(mpegts))
    out.append("")
    for block, label in [(r, "REGION") for r in regions] + [(s, "STYLE") for s in styles]:
        out += [label, block, ""]
    for cue in cues:
        if cue.identifier:
            out.append(cue.identifier)
        timing = f"{format_timestamp(cue.start)} --> {format_timestamp(cue.end)}"
        out.append(f"{timing} {cue.settings}" if cue.settings else timing)
        out += [line.replace("-->", "--&gt;") for line in cue.text.split("\n") if line]
        out.append("")
    return "\n".join(out) + "\n"
