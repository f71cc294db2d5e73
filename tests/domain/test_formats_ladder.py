"""Codecs and segment formats, one rung per definition per codec; ladder options and files."""

from __future__ import annotations

import pytest

from hlskit.domain.errors import InputError
from hlskit.domain.formats import RATE_FACTOR, choose_format, codec_rungs, parse_codecs
from hlskit.domain.ladder import (
    PRESETS,
    Definition,
    Rung,
    choose_ladder,
    load_ladder_file,
    parse_ladder_option,
    resolve,
)


@pytest.mark.parametrize(
    "option, codecs",
    [
        ("h264", ("h264",)),
        ("hevc,h264", ("h264", "hevc")),  # H.264 first whatever the order asked
        ("AV1, h.265 ,avc", ("h264", "hevc", "av1")),
        ("h265,hevc,H.265", ("hevc",)),  # aliases of one codec count once
        (["av1", "h264"], ("h264", "av1")),
    ],
)
def test_codecs_are_parsed_known_unique_and_h264_first(option, codecs):
    assert parse_codecs(option) == codecs


@pytest.mark.parametrize(
    "option, words", [("vp9", "unknown codec 'vp9'"), (" , ", "--codec is empty"), ("", "--codec is empty")]
)
def test_bad_codecs_are_one_sentence(option, words):
    with pytest.raises(InputError, match=words) as caught:
        parse_codecs(option)
    assert "use h264, hevc or av1" in caught.value.message


@pytest.mark.parametrize(
    "option, codecs, fmt",
    [
        (None, ("h264",), "ts"),
        ("auto", ("h264",), "ts"),
        (None, ("h264", "hevc"), "fmp4"),
        (None, ("av1",), "fmp4"),
        ("fmp4", ("h264",), "fmp4"),
        (" TS ", ("h264",), "ts"),
    ],
)
def test_the_format_is_ts_for_h264_alone_and_fmp4_once_a_codec_needs_it(option, codecs, fmt):
    assert choose_format(option, codecs) == fmt


def test_hevc_and_av1_in_ts_are_refused_citing_apple():
    with pytest.raises(
        InputError, match=r"^HEVC definitions are carried in fMP4 only \(Apple HLS authoring spec 1.5\)"
    ):
        choose_format("ts", ("h264", "hevc"))
    with pytest.raises(InputError, match="^AV1 definitions"):
        choose_format("ts", ("av1",))
    with pytest.raises(InputError, match="--format must be ts or fmp4, got 'cmaf'"):
        choose_format("cmaf", ("h264",))


def test_codec_rungs_repeat_the_ladder_per_codec_with_fewer_bits():
    ladder = choose_ladder(1920, 1080, [PRESETS[0], PRESETS[2]])
    ladder[1] = Rung(ladder[1].definition, ladder[1].width, ladder[1].height, crf=24)  # a per-title CRF
    rungs = codec_rungs(ladder, ("h264", "hevc", "av1"))
    assert [r.name for r in rungs] == ["LD", "HD", "LD-hevc", "HD-hevc", "LD-av1", "HD-av1"]
    assert [r.definition.video_kbps for r in rungs] == [400, 1800, 260, 1170, 220, 990]
    assert [r.definition.video_kbps for r in rungs[2:4]] == [round(k * RATE_FACTOR["hevc"]) for k in (400, 1800)]
    # x264's CRF scale is not x265's or SVT-AV1's: only the H.264 rung keeps it.
    assert [r.crf for r in rungs] == [None, 24, None, None, None, None]
    assert {(r.width, r.height) for r in rungs if r.definition.name == "HD"} == {(1280, 720)}


def test_a_tiny_rate_never_falls_below_ten_kbps():
    tiny = Rung(Definition("T", 64, 12, 8), 64, 36)
    assert codec_rungs([tiny], ("av1",))[0].definition.video_kbps == 10


@pytest.mark.parametrize(
    "w, h, d, size",
    [
        (1920, 1080, PRESETS[2], (1280, 720)),
        (1080, 1920, PRESETS[2], (720, 1280)),  # portrait: the rung's width is its long edge
        (720, 576, PRESETS[2], (720, 576)),  # never upscaled
        (1440, 1080, PRESETS[0], (640, 480)),  # 4:3 kept
        (853, 480, PRESETS[1], (848, 478)),  # even sizes, the aspect ratio kept
    ],
)
def test_resolve_sizes_a_definition_for_the_source(w, h, d, size):
    r = resolve(d, w, h)
    assert (r.width, r.height) == size and r.width % 2 == 0 and r.height % 2 == 0


def test_ladder_names_are_case_insensitive_deduplicated_and_sorted():
    assert [d.name for d in parse_ladder_option("hd, ld,HD")] == ["LD", "HD"]
    assert parse_ladder_option(" AUTO ") is None


def test_a_folder_or_an_empty_list_is_no_ladder(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        parse_ladder_option(str(tmp_path))
    with pytest.raises(InputError, match="--ladder is empty"):
        parse_ladder_option(",")


@pytest.mark.parametrize(
    "text, words",
    [
        ("name = 1", "has no [[definition]] tables"),
        ('[[definition]]\nname="a"\nwidth=320\nvideo_kbps=300\n[other]\nx=1', "unknown key 'other'"),
        ('[[definition]]\nname="a"\nwidth=320\nvideo_kbps=300\nfps=30', "unknown key 'fps'"),
        ('[[definition]]\nname="a b"\nwidth=320\nvideo_kbps=300', "must be 1-32 ASCII letters, digits, - or _"),
        # a playlist's URIs are ASCII (RFC 3986 §2): the folder name would have to be percent-encoded
        ('[[definition]]\nname="高清"\nwidth=320\nvideo_kbps=300', "must be 1-32 ASCII letters"),
        ('[[definition]]\nname="-x"\nwidth=320\nvideo_kbps=300', "starting with a letter or digit"),
        # the package's own folders, and the name of LD's HEVC variant (it failed late, publishing)
        ('[[definition]]\nname="audio"\nwidth=320\nvideo_kbps=300', "is taken by the package's own folders"),
        ('[[definition]]\nname="Downloads"\nwidth=320\nvideo_kbps=300', "is taken"),
        ('[[definition]]\nname="LD-HEVC"\nwidth=320\nvideo_kbps=300', "HEVC/AV1 variant"),
        (
            '[[definition]]\nname="ld"\nwidth=320\nvideo_kbps=300\n[[definition]]\nname="LD"\nwidth=640\nvideo_kbps=600',
            "repeats a definition name",  # one folder on a case-insensitive file system
        ),
        ('[[definition]]\nname="a"\nwidth=9000\nvideo_kbps=300', "width must be 16-8192"),
        (
            '[[definition]]\nname="a"\nwidth=320\nvideo_kbps=300\n[[definition]]\nname="a"\nwidth=640\nvideo_kbps=600',
            "repeats a definition name",
        ),
        ("[[definition]\n", "is not valid TOML"),
    ],
)
def test_ladder_file_mistakes_are_one_sentence(tmp_path, text, words):
    path = tmp_path / "ladder.toml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_ladder_file(path)
    assert words in caught.value.message and str(path) in caught.value.message


def test_a_ladder_file_gets_default_audio_and_is_sorted_by_size(tmp_path):
    path = tmp_path / "ladder.toml"
    path.write_text(
        '[[definition]]\nname="big"\nwidth=960\nvideo_kbps=1500\n[[definition]]\nname="small"\nwidth=320\nvideo_kbps=200\ntemplate_id="T1"'
    )
    assert load_ladder_file(path) == [Definition("small", 320, 200, 128, "T1"), Definition("big", 960, 1500, 128, "")]
