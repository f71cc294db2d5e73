"""Language tags for renditions: a stream's ISO 639-2 code or a user's tag, as the RFC 5646 tag that
EXT-X-MEDIA's LANGUAGE carries (RFC 8216 §4.3.4.1), and a name to show for it.

RFC 5646 §2.2.1 (BCP 47): when a language has both an ISO 639-1 and an ISO 639-2 code, the tag
uses the shorter, so a source's ``eng``, ``fre``/``fra`` or ``chi``/``zho`` become ``en``, ``fr``,
``zh``. Other ISO 639-2 codes (``fil``, ``haw``) stay as they are. ``und`` (undetermined), ``zxx``
(no linguistic content) and ``mis`` (uncoded) say nothing a player could use, so they give None:
no LANGUAGE attribute. Codes only in ISO 639-3 (``yue``, ``cmn``) are not in the table here: a
user's are refused with the fix (their ISO 639-1 or 639-2 code, ``zh``, or a typo caught), a
source's are kept as written (:func:`source_language_tag`: they are valid primary subtags).

Names (:func:`display_name`) are in the language itself where the table has that name ("Français"),
else in English: RFC 8216 §4.3.4.1 asks that NAME be in the rendition's language when LANGUAGE is
present. The data and its sources are in :mod:`hlskit.domain.iso639`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InputError
from .iso639 import THREE_LETTER, TWO_LETTER

NO_LANGUAGE = frozenset({"und", "zxx", "mis"})  # ISO 639-2 special codes: no LANGUAGE attribute

# IANA Language Subtag Registry: withdrawn ISO 639-1 codes and their Preferred-Value.
_DEPRECATED = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro"}


@dataclass(frozen=True)
class Language:
    code: str  # the shortest code: ISO 639-1 where there is one, else ISO 639-2/T
    english: str
    native: str | None  # the name in the language itself, when the table has it


def _table() -> dict[str, Language]:
    out: dict[str, Language] = {}
    for line in TWO_LETTER.strip().splitlines():
        two, t, b, names = line.split(" ", 3)
        english, _, native = names.partition("|")
        lang = Language(two, english, native or None)
        for code in (two, t, b):
            if code != "-":
                out[code] = lang
    for item in " ".join(THREE_LETTER.split()).split("; "):
        code, _, english = item.partition("=")
        out[code] = Language(code, english, None)
    return out


LANGUAGES: dict[str, Language] = _table()

# RFC 5646 §2.1 ABNF (well-formed, not necessarily registered): language["-"extlang] / 4-8 letters,
# then ["-"script] ["-"region] *("-"variant) *("-"extension) ["-"privateuse]; or privateuse alone.
_ALNUM = "[a-z0-9]"
_PRIVATE = rf"x(?:-{_ALNUM}{{1,8}})+"
_LANGTAG = re.compile(
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})"  # language, extlang
    r"(?:-[a-z]{4})?"  # script
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"  # region
    rf"(?:-(?:{_ALNUM}{{5,8}}|[0-9]{_ALNUM}{{3}}))*"  # variants
    rf"(?:-[0-9a-wyz](?:-{_ALNUM}{{2,8}})+)*"  # extensions
    rf"(?:-{_PRIVATE})?"
    rf"|{_PRIVATE}",
    re.IGNORECASE,
)
# RFC 5646 §2.2.8: irregular grandfathered tags (the regular ones match the ABNF above).
_GRANDFATHERED = frozenset(
    "en-gb-oed i-ami i-bnn i-default i-enochian i-hak i-klingon i-lux i-mingo i-navajo i-pwn i-tao "
    "i-tay i-tsu sgn-be-fr sgn-be-nl sgn-ch-de".split()
)
_FIX = "use an ISO 639-1 or ISO 639-2 code such as 'en' or 'fra', optionally with a script or region such as 'zh-Hans' or 'pt-BR'"


def well_formed(tag: str) -> bool:
    """Whether ``tag`` is a well-formed RFC 5646 language tag (§2.2.9: it follows the ABNF of §2.1)."""
    return bool(_LANGTAG.fullmatch(tag)) or tag.lower() in _GRANDFATHERED


def language_tag(code: str | None, *, source: str = "") -> str | None:
    """The RFC 5646 tag for a stream's ISO 639-2/B or /T code (``fre``, ``deu``) or a user's tag
    (``en``, ``pt-BR``, ``zh-Hans``, ``es-419``; ``pt_BR`` is read as ``pt-BR``), in its shortest
    form and with the recommended case (RFC 5646 §2.1.1: ``zh-Hant-TW``). None for no language:
    empty, ``und``, ``zxx``, ``mis``. ``source`` names where the code came from, for the error.

    Raises InputError, one sentence with the fix, for a tag that is not well-formed or whose
    language is not an ISO 639-1/639-2 code."""
    raw = (code or "").strip()
    if not raw or raw.lower() in NO_LANGUAGE:
        return None
    where = f" ({source})" if source else ""
    text = raw.replace("_", "-")
    if text.lower() in _GRANDFATHERED:
        return text.lower()
    if not _LANGTAG.fullmatch(text):
        raise InputError(f"{raw!r}{where} is not a language tag: {_FIX}.", code="InvalidParameter.Language")
    parts = text.split("-")
    first = parts[0].lower()
    if first == "x":  # private use only (RFC 5646 §2.2.7)
        return text.lower()
    primary = _primary(first)
    if primary is None:
        raise InputError(f"unknown language code {raw!r}{where}: {_FIX}.", code="InvalidParameter.Language")
    return "-".join([primary, *_cased(parts[1:])])


def source_language_tag(code: str | None, *, source: str = "") -> str | None:
    """A source stream's language tag: :func:`language_tag`, and where it refuses, a well-formed tag
    whose language is a three-letter code the table lacks (ISO 639-3: ``yue``, ``cmn``, RFC 5646
    §2.2.1) kept as written, or a language's English name (``English``, as some muxers write it)
    read as its code. None when it is neither: the stream is then published without LANGUAGE."""
    try:
        return language_tag(code, source=source)
    except InputError:
        pass
    text = (code or "").strip().replace("_", "-")
    by_name = next((lang.code for lang in LANGUAGES.values() if lang.english.lower() == text.lower()), None)
    if by_name is not None:
        return by_name
    parts = text.split("-")
    if _LANGTAG.fullmatch(text) and len(parts[0]) == 3 and parts[0].isalpha():
        return "-".join([parts[0].lower(), *_cased(parts[1:])])
    return None


def _primary(code: str) -> str | None:
    if code in _DEPRECATED:
        return _DEPRECATED[code]
    if code in LANGUAGES:
        return LANGUAGES[code].code
    if len(code) == 3 and "qaa" <= code <= "qtz":  # ISO 639-2 local use: a private language (§2.2.1)
        return code
    return None


def _cased(subtags: list[str]) -> list[str]:
    """RFC 5646 §2.1.1: script in title case, region in upper case, everything else in lower case;
    after a singleton (extension or private use) every subtag is lower case."""
    out = []
    free = True
    for s in subtags:
        if len(s) == 1:
            free = False
        if free and len(s) == 4 and s.isalpha():
            out.append(s.title())
        elif free and len(s) == 2 and s.isalpha():
            out.append(s.upper())
        else:
            out.append(s.lower())
    return out


def language(tag: str) -> Language | None:
    """The table entry of a tag's primary language subtag, or None (private use, unknown)."""
    return LANGUAGES.get(tag.split("-")[0].lower())


def display_name(tag: str) -> str:
    """A name for a menu: the language's own name where known, else its English name, with any
    script or region subtags after it ("Português (BR)", "Français (CA)"); the tag itself when unknown."""
    lang = language(tag)
    if lang is None:
        return tag
    name = lang.native or lang.english
    rest = tag.split("-")[1:]
    return f"{name} ({'-'.join(rest)})" if rest else name


def english_name(tag: str) -> str | None:
    """The English name of the tag's language ("French"), or None when the table does not have it."""
    lang = language(tag)
    return lang.english if lang else None
