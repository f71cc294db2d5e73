"""Option text → plain values, shared by `hlskit package` flags and `hlskit submit` CSV cells.

Each parser takes the text a user typed and returns a dataclass from :mod:`hlskit.engines.base`
or raises :class:`~hlskit.errors.InputError` with one sentence naming the problem and the fix,
so a bad option is refused before any encoding starts.

Grammar (fields after the first are optional; an empty field keeps its default):

* image watermark  ``PATH[:ReferPos[:Dx[:Dy[:Width]]]]``, e.g. ``logo.png:TopRight:0.05:0.05:0.12``.
  ``PATH`` is a local PNG (checked now: it must exist and start with the PNG signature) or an
  ``oss://bucket/key`` object (checked by MPS). A local path cannot contain ``:``.
* text watermark   ``TEXT[:ReferPos[:Dx[:Dy[:Size]]]]``, e.g. ``Preview {definition}:BottomLeft:0.03:0.03:0.05``.
  The suffix is recognised only when it starts with a ReferPos name, so ``Live 10:30`` is all text.
  ``{definition}`` is replaced by the definition name (LD, SD, ...); no other placeholder exists.
  ``Size`` is the font height.
* ``Dx``/``Dy``/``Width``/``Size``: a value ≥ 1 is whole pixels; a value < 1 is a fraction of the
  output's width (Dx, Width) or height (Dy, Size), as in MPS, so a mark keeps its relative place
  and size in every definition. Defaults as MPS: TopRight, 0, 0, width 0.12; text size 0.05.
* clip             ``START[+DURATION]`` where each is ``SS[.f]``, ``MM:SS[.f]`` or ``HH:MM:SS[.f]``,
  e.g. ``00:01:30+45`` = 45 s from 1 min 30 s. Without ``+DURATION`` the clip runs to the end.
* audio/subtitles  ``FILE:LANG[:NAME]``, e.g. ``commentary.m4a:en:Commentary``, ``fr.srt:fr+forced``.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .languages import language_tag
from .plan import Clip, Watermark

REFER_POSITIONS = ("TopLeft", "TopRight", "BottomLeft", "BottomRight")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DEFAULT_IMAGE_WIDTH = 0.12  # MPS: 0.12 × output width when no template says otherwise
DEFAULT_TEXT_SIZE = 0.05  # font height, fraction of output height (MPS has no relative default)
TEXT_FIELDS = ("definition",)

_REFER_BY_LOWER = {p.lower(): p for p in REFER_POSITIONS}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^:]*")
_DURATION = re.compile(r"^(?:(?:(\d+):)?(\d+):)?(\d+(?:\.\d+)?)$")


def parse_duration(text: str, what: str = "duration") -> float:
    """``"45"``, ``"1:30"``, ``"00:01:30.5"`` → seconds. Minutes and seconds after a colon are < 60."""
    raw = text.strip()
    m = _DURATION.match(raw)
    if not m:
        raise InputError(f"{what} {text!r} is not a time: write seconds (90, 90.5) or HH:MM:SS[.f] (00:01:30).")
    hours, minutes, seconds = m.group(1), m.group(2), float(m.group(3))
    if minutes is not None and seconds >= 60:
        raise InputError(f"{what} {text!r} has {m.group(3)} seconds: seconds after a colon must be below 60.")
    if hours is not None and int(minutes) >= 60:
        raise InputError(f"{what} {text!r} has {minutes} minutes: minutes after a colon must be below 60.")
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + seconds


def parse_clip(text: str) -> Clip:
    """``START[+DURATION]`` → Clip(seek, duration); e.g. ``"00:01:30+45"`` → Clip(90.0, 45.0)."""
    start, plus, length = text.strip().partition("+")
    if not start:
        raise InputError(f"clip {text!r} has no start: write START+DURATION, e.g. 00:01:30+45 or 90+45.")
    seek = parse_duration(start, "clip start")
    if not plus:
        return Clip(seek=seek, duration=None)
    duration = parse_duration(length, "clip duration")
    if duration <= 0:
        raise InputError(f"clip {text!r} has a zero duration: give a duration above 0 after the +.")
    return Clip(seek=seek, duration=duration)


def _refer_pos(value: str, spec: str) -> str:
    if not value:
        return "TopRight"
    pos = _REFER_BY_LOWER.get(value.lower())
    if pos is None:
        raise InputError(f"watermark {spec!r}: position {value!r} is unknown; use one of {', '.join(REFER_POSITIONS)}.")
    return pos


def _size(value: str, name: str, default: float, spec: str, *, positive: bool) -> float:
    """Pixels if ≥ 1 (whole numbers), a fraction of the output size if < 1."""
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if number != number or number < 0 or (positive and number == 0):
        low = "above 0" if positive else "0 or more"
        raise InputError(
            f"watermark {spec!r}: {name} {value!r} must be a number {low} (pixels, or a fraction below 1)."
        )
    if number >= 1 and not number.is_integer():
        raise InputError(
            f"watermark {spec!r}: {name} {value!r} is ambiguous; use whole pixels (≥ 1) or a fraction below 1."
        )
    return number


def _placement(fields: list[str], spec: str, default_width: float) -> dict:
    if len(fields) > 4:
        raise InputError(f"watermark {spec!r} has too many ':' fields: use ...:ReferPos:Dx:Dy:Width.")
    fields = fields + [""] * (4 - len(fields))
    return {
        "refer_pos": _refer_pos(fields[0].strip(), spec),
        "dx": _size(fields[1].strip(), "Dx", 0.0, spec, positive=False),
        "dy": _size(fields[2].strip(), "Dy", 0.0, spec, positive=False),
        "width": _size(fields[3].strip(), "Width", default_width, spec, positive=True),
    }


def check_png(path: str | Path, spec: str | None = None) -> None:
    """Refuse a missing file or one that is not a PNG (MPS: WaterMarkFileFormatNotSupported)."""
    p = Path(path)
    label = f"watermark {spec!r}" if spec else f"watermark image {str(p)!r}"
    try:
        with p.open("rb") as f:
            head = f.read(len(PNG_SIGNATURE))
    except FileNotFoundError:
        raise InputError(f"{label}: file {p} does not exist; check the path.")
    except IsADirectoryError:
        raise InputError(f"{label}: {p} is a folder; give a PNG file.")
    except OSError as exc:
        raise InputError(f"{label}: cannot read {p} ({exc.strerror}); check its permissions.")
    if head != PNG_SIGNATURE:
        raise InputError(f"{label}: {p} is not a PNG image; convert it to PNG (with alpha for transparency).")


def parse_watermark(spec: str, base: str | Path | None = None) -> Watermark:
    """``PATH[:ReferPos[:Dx[:Dy[:Width]]]]`` → an image Watermark; local files are checked now.

    A relative local ``PATH`` is taken from ``base`` when given (a batch file's folder).
    """
    text = spec.strip()
    m = _SCHEME.match(text)
    path, rest = (m.group(0), text[m.end() :]) if m else (text.partition(":")[0], text[len(text.partition(":")[0]) :])
    if not path:
        raise InputError(f"watermark {spec!r} has no image: write PATH.png[:ReferPos:Dx:Dy:Width].")
    fields = rest[1:].split(":") if rest else []
    placement = _placement(fields, spec, DEFAULT_IMAGE_WIDTH)
    if m:
        if not path.lower().startswith("oss://"):
            raise InputError(
                f"watermark {spec!r}: only local files and oss:// objects are supported; download it first."
            )
    else:
        if base is not None and not Path(path).is_absolute():
            path = str(Path(base) / path)
        check_png(path, spec)
    return Watermark(kind="image", image=path, **placement)


def parse_text_watermark(spec: str) -> Watermark:
    """``TEXT[:ReferPos[:Dx[:Dy[:Size]]]]`` → a text Watermark; ``{definition}`` is the only placeholder."""
    parts = spec.split(":")
    # The suffix starts at the last field naming a ReferPos, if at most 3 fields follow it.
    cut = next(
        (
            i
            for i in range(len(parts) - 1, 0, -1)
            if parts[i].strip().lower() in _REFER_BY_LOWER and len(parts) - i <= 4
        ),
        None,
    )
    text, fields = (":".join(parts[:cut]), parts[cut:]) if cut else (spec, [])
    if not text.strip():
        raise InputError(f"text watermark {spec!r} has no text: write TEXT[:ReferPos:Dx:Dy:Size].")
    try:
        fields_used = [(name, conv, fmt) for _, name, fmt, conv in string.Formatter().parse(text) if name is not None]
    except ValueError:
        raise InputError(f"text watermark {spec!r} has an unmatched brace: write {{{{ or }}}} for a literal brace.")
    # Only the bare field: a conversion (!r) or format spec ({definition:>99999999}) is refused too.
    for name, conv, fmt in fields_used:
        if name not in TEXT_FIELDS or conv or fmt:
            used = name + (f"!{conv}" if conv else "") + (f":{fmt}" if fmt else "")
            raise InputError(f"text watermark {spec!r} uses {{{used}}}: only {{definition}} can be filled in.")
    return Watermark(kind="text", text=text, **_placement(fields, spec, DEFAULT_TEXT_SIZE))


def watermark_text(mark: Watermark, definition: str) -> str:
    """The text a text watermark shows in one definition."""
    return mark.text.format(definition=definition)


def parse_positive_int(text: str, what: str, *, minimum: int = 1) -> int:
    """Whole numbers for counts such as --segment-duration or --rotate-key-every."""
    try:
        value = int(text.strip())
    except ValueError:
        raise InputError(f"{what} {text!r} is not a whole number: give a whole number of {minimum} or more.")
    if value < minimum:
        raise InputError(f"{what} {text!r} is too small: give a whole number of {minimum} or more.")
    return value


@dataclass(frozen=True)
class TrackSpec:
    """``FILE:LANG[:NAME]`` from --audio or --subtitles; LANG may end in ``+forced`` and/or ``+sdh``."""

    path: str
    language: str | None  # RFC 5646, or None for "und"
    name: str | None
    forced: bool = False
    sdh: bool = False  # subtitles for the deaf and hard of hearing (CHARACTERISTICS)


def parse_track_spec(spec: str, option: str) -> TrackSpec:
    """Read ``FILE:LANG[:NAME]`` (the file may itself hold colons; LANG is an RFC 5646 tag such as
    en, fr, pt-BR, or und for none); flags after LANG: ``+forced``, ``+sdh`` (subtitles only). A NAME
    may hold colons ("Commentary: Director") after a FILE whose name has an extension."""
    parts = spec.split(":")
    sample = "commentary.m4a:en:Commentary" if option == "--audio" else "fr.srt:fr:Français"
    example = f"write {option} FILE:LANG[:NAME], e.g. {option} {sample}"
    # the first FILE with an extension followed by a LANG; else FILE:LANG:NAME, then FILE:LANG from the right
    cuts = [i for i in range(1, len(parts)) if "." in parts[i - 1].rsplit("/", 1)[-1]]
    cuts += [len(parts) - 2, len(parts) - 1]
    for at in cuts:
        if at < 1:
            continue
        lang, *flags = parts[at].split("+")
        if not re.fullmatch(r"[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*", lang or ""):
            continue
        unknown = [f for f in flags if f.lower() not in ("forced", "sdh")]
        if unknown:
            raise InputError(f"{option} {spec!r}: unknown flag +{unknown[0]} (use +forced or +sdh).")
        path = ":".join(parts[:at])
        if not path:
            break
        name = ":".join(parts[at + 1 :]).strip()
        return TrackSpec(
            path,
            language_tag(lang, source=f"{option} {spec}"),
            name or None,
            forced="forced" in (f.lower() for f in flags),
            sdh="sdh" in (f.lower() for f in flags),
        )
    raise InputError(f"{option} {spec!r} names no language: {example}.")
