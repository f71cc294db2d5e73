"""Language tags for EXT-X-MEDIA: ISO 639-2 stream codes and user tags into RFC 5646 tags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hlskit.domain.errors import InputError
from hlskit.domain.languages import (
    LANGUAGES,
    display_name,
    english_name,
    language_tag,
    source_language_tag,
    well_formed,
)

ISO_CODES = Path("/usr/share/iso-codes/json/iso_639-2.json")


@pytest.mark.parametrize(
    "code, tag",
    [
        ("eng", "en"),
        ("fre", "fr"),  # ISO 639-2/B
        ("fra", "fr"),  # ISO 639-2/T
        ("ger", "de"),
        ("deu", "de"),
        ("chi", "zh"),
        ("zho", "zh"),
        ("en", "en"),
        ("pt-BR", "pt-BR"),
        ("zh-Hans", "zh-Hans"),
        ("fr-CA", "fr-CA"),
        ("es-419", "es-419"),
        ("pt_br", "pt-BR"),  # locale spelling, recommended case
        ("ZH-hant-tw", "zh-Hant-TW"),
        ("por-BR", "pt-BR"),  # a 639-2 language subtag with a region: shortest form
        (" ENG ", "en"),
        ("fil", "fil"),  # ISO 639-2 without a 639-1 code: kept
        ("iw", "he"),  # withdrawn 639-1 code: the IANA registry's Preferred-Value
        ("qab", "qab"),  # ISO 639-2 local use
        ("de-CH-1996", "de-CH-1996"),  # variant
        ("en-a-bbb-x-a-ccc", "en-a-bbb-x-a-ccc"),  # extension and private use stay lower case
        ("x-klingon", "x-klingon"),
    ],
)
def test_codes_become_shortest_rfc5646_tags(code, tag):
    assert language_tag(code) == tag
    assert well_formed(tag)


@pytest.mark.parametrize("code", [None, "", "  ", "und", "UND", "zxx", "mis"])
def test_no_language_means_no_language_attribute(code):
    assert language_tag(code) is None


@pytest.mark.parametrize(
    "code, says",
    [
        ("xx", "unknown language code 'xx'"),
        ("english", "unknown language code 'english'"),
        ("yue", "unknown language code 'yue'"),  # ISO 639-3 only: not in the table
        ("en--US", "'en--US' (audio stream 0:a:1 of film.mkv) is not a language tag"),
        ("e", "is not a language tag"),
        ("en-US-", "is not a language tag"),
        ("123", "is not a language tag"),
    ],
)
def test_bad_codes_are_one_sentence_with_the_fix(code, says):
    with pytest.raises(InputError) as err:
        language_tag(code, source="audio stream 0:a:1 of film.mkv")
    message = err.value.message
    assert says in message and "film.mkv" in message
    assert "such as 'en' or 'fra'" in message and message.endswith(".") and message.count(". ") == 0
    assert err.value.exit_code == 2


@pytest.mark.parametrize(
    "code, tag",
    [
        ("yue", "yue"),  # ISO 639-3 (Cantonese): a user's is refused above, a source's is kept
        ("cmn-Hant-TW", "cmn-Hant-TW"),
        ("English", "en"),  # an English name, as some muxers write the tag
        ("fre", "fr"),
        ("und", None),
        ("Klingonese", None),  # neither a tag nor a name: published without LANGUAGE
        ("123", None),
    ],
)
def test_a_source_streams_tag_keeps_iso_639_3_codes_and_reads_english_names(code, tag):
    # they were all dropped: yue and cmn tracks were "Audio 1" and "Audio 2" without LANGUAGE
    assert source_language_tag(code) == tag


@pytest.mark.parametrize(
    "tag, ok",
    [
        ("en", True),
        ("zh-yue-HK", True),  # extlang
        ("sr-Latn-RS", True),
        ("sl-rozaj-biske", True),  # two variants
        ("en-GB-oed", True),  # grandfathered (irregular)
        ("i-klingon", True),
        ("x-whatever", True),
        ("", False),
        ("en_US", False),  # underscores are not RFC 5646
        ("en-", False),
        ("english-language", True),  # a 5-8 letter language and an 8-character variant
        ("english-languages", False),
        ("en-US-x", False),  # private use needs a subtag
        ("a", False),
        ("toolonglanguage", False),
    ],
)
def test_well_formed_follows_the_rfc5646_abnf(tag, ok):
    assert well_formed(tag) is ok


def test_display_names_prefer_the_language_itself():
    assert display_name("fr") == "Français"
    assert display_name("de") == "Deutsch"
    assert display_name("ja") == "日本語"
    assert display_name("pt-BR") == "Português (BR)"
    assert display_name("en") == "English"  # iso-codes has no English-to-English entry: the English name
    assert display_name("fil") == "Filipino"
    assert display_name("x-klingon") == "x-klingon"
    assert english_name("fr-CA") == "French" and english_name("x-a") is None


def test_table_has_every_iso_639_1_language_once():
    two = {lang.code for lang in LANGUAGES.values() if len(lang.code) == 2}
    assert len(two) == 184
    assert all(language_tag(code) == code for code in two)


@pytest.mark.skipif(not ISO_CODES.exists(), reason="Debian's iso-codes is not installed")
def test_table_matches_the_iso_639_2_list():
    """Every code of the registration authority's list (as Debian's iso-codes ships it) maps as the
    table says, and every English name is one of the list's names (or its first word)."""
    rows = json.loads(ISO_CODES.read_text())["639-2"]
    for row in rows:
        codes = [row["alpha_3"], row.get("bibliographic"), row.get("alpha_2")]
        if row["alpha_3"] in ("und", "zxx", "mis", "qaa-qtz"):
            continue
        expected = row.get("alpha_2", row["alpha_3"])
        for code in filter(None, codes):
            assert language_tag(code) == expected, code
        english = english_name(expected)
        assert english and english.split()[0].rstrip(",") in row["name"], (expected, english, row["name"])
