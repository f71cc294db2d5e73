"""Package file names and the one identifier rule."""

from __future__ import annotations

import pytest

from hlskit.domain.errors import InputError
from hlskit.domain.ids import CONTENT_ID_RULE, check_content_id, is_content_id, is_key_id
from hlskit.domain.names import IFRAMES_PLAYLIST, MEDIA_PLAYLIST, SEGMENT_SUFFIX, iframes_name, segment_name


@pytest.mark.parametrize(
    "index, suffix, name",
    [(0, ".ts", "index-00001.ts"), (9, ".ts", "index-00010.ts"), (99998, ".m4s", "index-99999.m4s")],
)
def test_segments_are_named_like_mps_from_one(index, suffix, name):
    assert segment_name(index, suffix) == name


def test_segment_names_sort_in_playing_order():
    names = [segment_name(i, SEGMENT_SUFFIX["fmp4"]) for i in range(0, 1200, 7)]
    assert sorted(names) == names and len(set(names)) == len(names)


@pytest.mark.parametrize(
    "playlist, iframes",
    [
        (MEDIA_PLAYLIST, IFRAMES_PLAYLIST),
        ("audio.m3u8", "audio-iframes.m3u8"),
        ("prog_index.m3u8", "prog_index-iframes.m3u8"),
    ],
)
def test_the_iframe_playlist_sits_beside_its_media_playlist(playlist, iframes):
    assert iframes_name(playlist) == iframes


@pytest.mark.parametrize("text", ["a", "talk", "Talk_2.v1-final", "0abc", "x" * 64, "a.b.c"])
def test_valid_content_ids(text):
    assert is_content_id(text) and check_content_id(text) == text


@pytest.mark.parametrize(
    "text",
    ["", "x" * 65, ".hidden", "-dash", "_under", "a/b", "a\\b", "..", "talk\n", "tälk", "a b", "a%2Fb", "a?b"],
)
def test_invalid_content_ids_are_refused_with_the_rule(text):
    assert not is_content_id(text)
    with pytest.raises(InputError) as caught:
        check_content_id(text)
    assert caught.value.message == f"content id {text!r} is not valid: use {CONTENT_ID_RULE}."
    assert caught.value.code == "InvalidParameter.ContentId"


def test_non_strings_are_never_ids():
    assert not is_content_id(None) and not is_content_id(7) and not is_key_id(b"abc")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text, ok",
    [
        ("0123456789abcdef", True),
        ("k-1_A", True),
        ("x" * 64, True),
        ("x" * 65, False),
        ("a.b", False),
        ("", False),
        ("k\n", False),
    ],
)
def test_key_ids(text, ok):
    assert is_key_id(text) is ok
