"""EXT-X-MEDIA in the HLS core: RenditionInfo rendered by write.master_playlist, read back by the
parser as typed Renditions (and by the m3u8 library, an independent reader); masters without
renditions render byte for byte as before."""

from __future__ import annotations

import m3u8
import pytest

from hlskit.hls.master import (
    DESCRIBES_VIDEO,
    MasterInfo,
    RenditionInfo,
    VariantInfo,
    characteristics,
    quotable,
    quoted_string,
    unique_names,
    unquotable,
)
from hlskit.hls.model import Rendition
from hlskit.hls.playlist import MasterPlaylist, parse
from hlskit.hls.write import master_playlist, media_tag


def _variants(**groups) -> list[VariantInfo]:
    hd = VariantInfo(
        "HD",
        "HD/index.m3u8",
        1200000,
        900000,
        "avc1.64001f,mp4a.40.2",
        "1280x720",
        25.0,
        3,
        6.0,
        450000,
        2,
        1300000,
        ["https://k/1"],
        "HD/iframes.m3u8",
        200000,
        150000,
        3,
        **groups,
    )
    ld = VariantInfo(
        "LD",
        "LD/index.m3u8",
        400000,
        300000,
        "avc1.42c01e,mp4a.40.2",
        "640x360",
        25.0,
        3,
        6.0,
        150000,
        2,
        420000,
        ["https://k/1"],
        None,
        None,
        None,
        0,
        "PQ",
        **groups,
    )
    return [ld, hd]


# master_playlist output of main before renditions existed (same VariantInfo values), byte for byte,
# with the CLOSED-CAPTIONS=NONE that masters without CEA-608/708 declare since (docs/clients.md).
BEFORE = (
    '#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-SESSION-KEY:METHOD=AES-128,URI="https://k/1"\n'
    '#EXT-X-STREAM-INF:BANDWIDTH=400000,AVERAGE-BANDWIDTH=300000,CODECS="avc1.42c01e,mp4a.40.2",'
    "RESOLUTION=640x360,FRAME-RATE=25.000,VIDEO-RANGE=PQ,CLOSED-CAPTIONS=NONE\nLD/index.m3u8\n"
    '#EXT-X-STREAM-INF:BANDWIDTH=1200000,AVERAGE-BANDWIDTH=900000,CODECS="avc1.64001f,mp4a.40.2",'
    "RESOLUTION=1280x720,FRAME-RATE=25.000,VIDEO-RANGE=SDR,CLOSED-CAPTIONS=NONE\nHD/index.m3u8\n"
    '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=200000,AVERAGE-BANDWIDTH=150000,CODECS="avc1.64001f",'
    'RESOLUTION=1280x720,VIDEO-RANGE=SDR,URI="HD/iframes.m3u8"\n'
)

RENDITIONS = [
    RenditionInfo("SUBTITLES", "subs", "English", "subtitles/en/index.m3u8", "en", autoselect=True),
    RenditionInfo("AUDIO", "aud", "English", "audio/en/index.m3u8", "en", default=True, channels="2"),
    RenditionInfo(
        "SUBTITLES",
        "subs",
        "Français (forcés)",
        "subtitles/fr-forced/index.m3u8",
        "fr",
        forced=True,
        characteristics=characteristics("SUBTITLES", hearing_impaired=True),
    ),
    RenditionInfo(
        "AUDIO",
        "aud",
        "Français",
        "audio/fr/index.m3u8",
        "fr",
        channels="6",
        characteristics=characteristics("AUDIO", visual_impaired=True),
    ),
    RenditionInfo("AUDIO", "aud", "Sans langue", "audio/und/index.m3u8", None, autoselect=False),
]


def test_masters_without_renditions_are_byte_identical():
    assert master_playlist(_variants(), ("AES-128", "https://k/1")) == BEFORE
    assert master_playlist(_variants(), ("AES-128", "https://k/1"), []) == BEFORE
    record = _variants()[0].record()
    assert record.audio_group is None and record.subtitles_group is None


def test_renditions_come_first_grouped_and_variants_name_their_groups():
    text = master_playlist(_variants(audio_group="aud", subtitles_group="subs"), None, RENDITIONS)
    lines = text.splitlines()
    media = [ln for ln in lines if ln.startswith("#EXT-X-MEDIA:")]
    assert lines.index(media[-1]) < min(i for i, ln in enumerate(lines) if ln.startswith("#EXT-X-STREAM-INF"))
    assert [ln.split("NAME=")[1].split(",")[0] for ln in media] == [
        '"English"',
        '"Français"',
        '"Sans langue"',
        '"English"',
        '"Français (forcés)"',
    ]  # audio group first, then subtitles, each in the order given
    assert media[0] == (
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",LANGUAGE="en",NAME="English",DEFAULT=YES,AUTOSELECT=YES,'
        'CHANNELS="2",URI="audio/en/index.m3u8"'
    )
    assert media[2] == (
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="Sans langue",DEFAULT=NO,AUTOSELECT=NO,URI="audio/und/index.m3u8"'
    )
    assert "FORCED=YES" in media[4] and "FORCED" not in "".join(media[:4])
    stream_infs = [ln for ln in lines if ln.startswith("#EXT-X-STREAM-INF")]
    assert all(ln.endswith(',AUDIO="aud",SUBTITLES="subs"') for ln in stream_infs)
    assert "AUDIO=" not in next(ln for ln in lines if ln.startswith("#EXT-X-I-FRAME-STREAM-INF"))
    assert _variants(audio_group="aud")[0].record().audio_group == "aud"


def test_parser_reads_typed_renditions():
    text = master_playlist(_variants(audio_group="aud", subtitles_group="subs"), None, RENDITIONS)
    pl = parse(text, "https://cdn.example/title/master.m3u8")
    assert isinstance(pl, MasterPlaylist) and not pl.problems
    assert all(isinstance(r, Rendition) for r in pl.media)
    en, fr, und, subs_en, subs_fr = pl.media
    assert (en.type, en.group_id, en.name, en.language, en.default, en.autoselect, en.channels) == (
        "AUDIO",
        "aud",
        "English",
        "en",
        True,
        True,
        "2",
    )
    assert en.uri == "https://cdn.example/title/audio/en/index.m3u8" and en.raw_uri == "audio/en/index.m3u8"
    assert fr.characteristics == DESCRIBES_VIDEO and fr.channels == "6" and not fr.default
    assert und.language is None and not und.autoselect
    assert subs_fr.forced and subs_fr.characteristics.startswith("public.accessibility.transcribes-spoken-dialog")
    assert en.line == 3 and en.attrs["DEFAULT"] == "YES"


def test_an_independent_reader_sees_the_same_renditions():
    text = master_playlist(_variants(audio_group="aud", subtitles_group="subs"), None, RENDITIONS)
    pl = m3u8.loads(text)
    assert [(m.type, m.group_id, m.language, m.name, m.default, m.forced) for m in pl.media] == [
        ("AUDIO", "aud", "en", "English", "YES", None),
        ("AUDIO", "aud", "fr", "Français", "NO", None),
        ("AUDIO", "aud", None, "Sans langue", "NO", None),
        ("SUBTITLES", "subs", "en", "English", "NO", None),
        ("SUBTITLES", "subs", "fr", "Français (forcés)", "NO", "YES"),
    ]
    assert {p.stream_info.audio for p in pl.playlists} == {"aud"}
    assert {p.stream_info.subtitles for p in pl.playlists} == {"subs"}


def test_media_tag_guards():
    forced_audio = RenditionInfo("AUDIO", "a", "x", "a.m3u8", forced=True)
    assert "FORCED" not in media_tag(forced_audio)  # FORCED only on SUBTITLES (RFC 8216 §4.3.4.1)
    default_only = RenditionInfo("AUDIO", "a", "x", "a.m3u8", default=True, autoselect=False)
    assert "AUTOSELECT=YES" in media_tag(default_only)  # YES whenever DEFAULT=YES
    for bad in (RenditionInfo("AUDIO", "a", 'say "hi"', "a.m3u8"), RenditionInfo("CLOSED-CAPTIONS", "c", "x", "")):
        with pytest.raises(ValueError):
            media_tag(bad)
    for bad in ("a\nb", "a\tb", "a\x85b", 'a"b'):  # RFC 8216 §4.1: no control character; §4.2: no quote
        with pytest.raises(ValueError, match="double quote or a control character"):
            quoted_string(bad, "NAME")
    assert quotable('Le "cut"\t\r\n(v2)\x7f') == "Le 'cut' (v2)" and not unquotable(quotable('"\n'))
    assert unquotable("Français") is False  # any other character, accents included, is fine


def test_names_and_characteristics():
    assert unique_names(["English", "English", "Français", "English"]) == [
        "English",
        "English 2",
        "Français",
        "English 3",
    ]
    assert characteristics("SUBTITLES") is None and characteristics("AUDIO", hearing_impaired=True) is None
    assert characteristics("SUBTITLES", hearing_impaired=True) == (
        "public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound"
    )
    info = RENDITIONS[1]
    assert info.language == "en" and info.type == "AUDIO"  # the manifest records the same dataclass


def test_master_info_lists_renditions_only_when_it_has_some():
    plain = MasterInfo("out/c/master.m3u8", _variants(), None, "")
    assert plain.record().renditions == [] and "renditions" not in plain.to_dict()
    info = MasterInfo("out/c/master.m3u8", _variants(audio_group="aud"), None, "", renditions=RENDITIONS[:2])
    assert [r.name for r in info.record().renditions] == ["English", "English"]
    assert info.to_dict()["renditions"][1]["group"] == "aud"
