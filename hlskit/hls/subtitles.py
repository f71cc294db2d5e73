"""Subtitle files a user gives (SRT or WebVTT), read into WebVTT cues for the segmenter.

Bytes are decoded in the declared encoding (when none is declared: UTF-8, or UTF-16/UTF-32 when
the file starts with their byte order mark, as Windows tools save "Unicode" text); bytes that do
not decode, NUL characters, or UTF-8 text declared as a single-byte code page are one sentence
naming the file and line. SRT (the SubRip format: a cue number, a
``hh:mm:ss,mmm --> hh:mm:ss,mmm`` line, text lines, a blank line) becomes WebVTT cue text: its
<i>, <b> and <u> tags are kept (WebVTT has them, W3C WebVTT §4.2.2), <font color> becomes a
WebVTT default text colour class (<c.yellow>, W3C WebVTT "default text colour") where the colour is one of them and
is dropped otherwise, ASS override blocks such as {\\an8} are dropped, and '&', '<', '>' are
escaped. A file with no cue is refused: a subtitle rendition with nothing in it is a mistake.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from ..domain.errors import InputError
from ..domain.text import unicode_encoding
from .webvtt import SIGNATURE, Cue, WebVTT, escape, lines_of, parse_webvtt

_SRT_TIME = r"(\d{1,3}):([0-5]\d):([0-5]\d)[,.](\d{1,3})"
_SRT_TIMING = re.compile(rf"^{_SRT_TIME}\s*-->\s*{_SRT_TIME}(?:\s+.*)?$")  # X1:.. Y2:.. coordinates ignored
_TAG = re.compile(r"<(?P<end>/?)(?P<tag>[ibu])>|<font(?P<attrs>\s[^<>]*)?>|(?P<close></font\s*>)|\{\\[^}]*\}", re.I)
_COLOR = re.compile(r"""color\s*=\s*["']?([#\w]+)""", re.IGNORECASE)
# W3C WebVTT's eight default text colour classes (#default-text-color), and the colours SRT writes for them.
_COLOURS = {
    "white": "#ffffff",
    "lime": "#00ff00",
    "cyan": "#00ffff",
    "red": "#ff0000",
    "yellow": "#ffff00",
    "magenta": "#ff00ff",
    "blue": "#0000ff",
    "black": "#000000",
}
_BY_HEX = {v: k for k, v in _COLOURS.items()}


def decode(data: bytes, name: str, encoding: str | None = None) -> str:
    """``data`` as text in ``encoding`` (default UTF-8, BOM or not, or the UTF-16/32 its BOM names);
    InputError naming the line and the fix when it is not text in that encoding."""
    declared = encoding or unicode_encoding(data)
    try:
        codec = codecs.lookup(declared).name
    except LookupError:
        raise InputError(
            f"{declared!r} (the encoding of {name}) is not a text encoding: use a name such as utf-8, "
            "cp1252, latin-1 or utf-16."
        ) from None
    try:
        text = data.decode("utf-8-sig" if codec == "utf-8" else codec)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].decode(codec, errors="replace").count("\n") + 1
        raise InputError(
            f"{name} line {line} is not {declared} text (byte 0x{data[exc.start]:02x} at offset {exc.start}): "
            "save the file as UTF-8, or declare its real encoding (for example cp1252 or utf-16)."
        ) from None
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError(
            f"{name} line {line} holds NUL characters, so it is not {declared} text: declare its real "
            "encoding (for example utf-16), or give a text subtitle file."
        )
    if encoding and _single_byte(codec) and not data.isascii():
        try:
            utf8 = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            utf8 = None
        if utf8 is not None:  # multi-byte UTF-8 sequences that also decode as a code page: mojibake
            line = next(n for n, ln in enumerate(utf8.split("\n"), 1) if not ln.isascii())
            raise InputError(
                f"{name} is declared {declared} but is UTF-8 text (line {line}): declare utf-8, or leave "
                "the encoding out."
            )
    return text


def _single_byte(codec: str) -> bool:
    """A code page where every byte is one character (cp1252, latin-1, koi8-r...), not UTF-* or CJK."""
    return not codec.startswith("utf") and len(bytes(range(256)).decode(codec, errors="replace")) == 256


def parse_srt(text: str, name: str) -> WebVTT:
    """The cues of a SubRip file, their text as WebVTT cue text; InputError (file, line, fix) for
    text before the first cue, a cue number or blank line followed by a malformed timing line, or a
    cue that does not end after it starts.

    A cue's text runs until the next cue (a timing line, or a number and a timing line), as FFmpeg's
    SubRip demuxer reads it: text after a blank line that starts no cue belongs to the cue before
    (translators leave such lines; WebVTT cue text cannot hold a blank line, so it is dropped). Inside
    text, a line with "-->" that is no timing is text."""
    lines = [ln.rstrip() for ln in lines_of(text)]
    doc = WebVTT()
    cue: tuple[int, int, int] | None = None  # start, end (ms) and timing line of the cue being read
    body: list[str] = []
    after_blank = True  # a cue starts at the file's start or after a blank line
    numbered = False  # the line before was a cue number: this one must be its timing
    for i, line in enumerate(lines + [""]):  # a blank line after the last: a number there lacks its timing
        m = _SRT_TIMING.match(line.strip()) if "-->" in line else None
        if m is None and (numbered or ("-->" in line and (after_blank or cue is None))):
            shown = repr(line[:60]) if line.strip() else "missing"
            raise InputError(
                f"{name} line {i + 1}: the cue timing is {shown}: write it as 'hh:mm:ss,mmm --> hh:mm:ss,mmm' "
                "(minutes and seconds below 60)."
            )
        if not line.strip():
            after_blank = True
            continue
        # a number after a blank line numbers a cue when a timing follows, the first cue comes or nothing
        # follows (a file cut short)
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        numbered = (
            after_blank
            and line.strip().isdigit()
            and (cue is None or "-->" in nxt or not any(ln.strip() for ln in lines[i + 1 :]))
        )
        if numbered:
            after_blank = False
            continue
        after_blank = False
        if m is None:
            if cue is None:
                raise InputError(
                    f"{name} line {i + 1}: {line[:40]!r} is not a cue number or a timing line: "
                    "an SRT cue is a number, a 'hh:mm:ss,mmm --> hh:mm:ss,mmm' line and its text, "
                    "separated from the next cue by a blank line."
                )
            body.append(to_webvtt_text(line))
            continue
        start, end = _srt_ms(m.groups()[:4]), _srt_ms(m.groups()[4:])
        if end <= start:
            raise InputError(
                f"{name} line {i + 1}: the cue ends at {_srt_time(end)}, not after it starts at "
                f"{_srt_time(start)}: make its end time later than its start time."
            )
        _add(doc, cue, body)
        cue, body = (start, end, i + 1), []
    _add(doc, cue, body)
    return doc


def _add(doc: WebVTT, cue: tuple[int, int, int] | None, body: list[str]) -> None:
    """The cue read so far, unless it has no text (it would show nothing)."""
    text = "\n".join(ln for ln in body if ln.strip())
    if cue and text:
        doc.cues.append(Cue(cue[0], cue[1], text, line=cue[2]))


def _srt_ms(parts: tuple[str, ...]) -> int:
    h, m, s, frac = parts
    return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(frac.ljust(3, "0"))


def _srt_time(ms: int) -> str:
    s, millis = divmod(ms, 1000)
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d},{millis:03d}"


def to_webvtt_text(line: str) -> str:
    """One line of SRT text as WebVTT cue text (see the module docstring)."""
    out: list[str] = []
    fonts: list[str | None] = []  # what each open <font> became
    at = 0
    for m in _TAG.finditer(line):
        out.append(escape(line[at : m.start()]))
        at = m.end()
        if m.group("tag"):
            out.append(f"<{m.group('end')}{m.group('tag').lower()}>")
        elif m.group("close"):
            if fonts and fonts.pop():
                out.append("</c>")
        elif not m.group(0).startswith("{"):  # <font ...>; an ASS override block is dropped
            colour = _COLOR.search(m.group("attrs") or "")
            value = colour.group(1).lower() if colour else ""
            cls = value if value in _COLOURS else _BY_HEX.get(value)
            fonts.append(cls)
            if cls:
                out.append(f"<c.{cls}>")
    out.append(escape(line[at:]))
    return "".join(out)


def read_subtitles(data: bytes, name: str, encoding: str | None = None) -> WebVTT:
    """An SRT or WebVTT file's bytes as cues (see the module docstring); InputError when it is
    empty, not text in its encoding, neither format, has a bad cue, or has no cue at all."""
    if not data:
        raise InputError(f"{name} is empty (0 bytes): give an SRT or WebVTT file with at least one cue.")
    text = decode(data, name, encoding)
    first = next((ln.strip() for ln in lines_of(text) if ln.strip()), "")
    if first.startswith(SIGNATURE):
        doc = parse_webvtt(text, name)
    elif first.isdigit() or "-->" in first:
        doc = parse_srt(text, name)
    else:
        raise InputError(
            f"{name} is neither WebVTT nor SRT (it begins {first[:40]!r}): give an .srt or .vtt file "
            "(other formats convert with: ffmpeg -i FILE out.vtt)."
        )
    if not doc.cues:
        raise InputError(f"{name} holds no subtitle cue: give an SRT or WebVTT file with at least one cue.")
    return doc


def load_subtitles(path: str | Path, encoding: str | None = None) -> WebVTT:
    """:func:`read_subtitles` of a local file; InputError when it cannot be read."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path} does not exist: check the path of the subtitle file.") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder: give the path of an SRT or WebVTT file.") from None
    except OSError as exc:
        raise InputError(f"{path} cannot be read ({exc.strerror or exc}): check its permissions.") from None
    return read_subtitles(data, str(path), encoding)
