"""Subtitle files a user gives: encodings, SRT into WebVTT cue text, and one sentence for each fault."""

from __future__ import annotations

import pytest

from hlskit.domain.errors import InputError
from hlskit.hls.subtitles import load_subtitles, parse_srt, read_subtitles, to_webvtt_text
from hlskit.hls.webvtt import Cue

SRT = (
    "1\n00:00:01,000 --> 00:00:02,500\n<i>Bonjour</i> & <b>bienvenue</b>\n\n"
    '2\n00:00:02,000 --> 00:00:04,000 X1:10 X2:20 Y1:5 Y2:9\n{\\an8}<font color="#FFFF00">Jaune</font> <3\n'
    "second <u>ligne</u>\n\n"
    "3\n00:00:05.5 --> 00:00:06,000\n\n"  # no text: nothing to show, dropped
    "4\n00:00:07,000 --> 00:00:08,000\n-->\n"
)


def test_srt_becomes_webvtt_cues():
    doc = read_subtitles(SRT.encode(), "fr.srt")
    assert doc.cues == [
        Cue(1000, 2500, "<i>Bonjour</i> &amp; <b>bienvenue</b>"),
        Cue(2000, 4000, "<c.yellow>Jaune</c> &lt;3\nsecond <u>ligne</u>"),
        Cue(7000, 8000, "--&gt;"),
    ]
    assert doc.cues[1].line == 6


@pytest.mark.parametrize(
    "line, vtt",
    [
        ('<font color="red">r</font> <font color="#123456">x</font>', "<c.red>r</c> x"),
        ("<I>up</I> <span>s</span>", "<i>up</i> &lt;span&gt;s&lt;/span&gt;"),
        ("{\\pos(10,10)}moved", "moved"),
        ("a < b && c > d", "a &lt; b &amp;&amp; c &gt; d"),
        ("</font>stray", "stray"),
    ],
)
def test_srt_markup(line, vtt):
    assert to_webvtt_text(line) == vtt


@pytest.mark.parametrize(
    "srt, texts",
    [
        # text after a blank line that starts no cue belongs to the cue before, as FFmpeg reads SubRip
        (
            b"1\n00:00:01,000 --> 00:00:02,000\nHi\n\nstill cue 1\n\n2\n00:00:03,000 --> 00:00:04,000\nB\n",
            ["Hi\nstill cue 1", "B"],
        ),
        (
            b"1\n00:00:01,000 --> 00:00:02,000\nThe score:\n\n42\n\n2\n00:00:03,000 --> 00:00:04,000\nB\n",
            ["The score:\n42", "B"],
        ),
        (b"1\n00:00:01,000 --> 00:00:02,000\nleft -> right\nx --> y\n", ["left -&gt; right\nx --&gt; y"]),
        # a timing line starts a cue even without the blank line before it
        (b"1\n00:00:01,000 --> 00:00:02,000\nA\n00:00:03,000 --> 00:00:04,000\nB\n", ["A", "B"]),
    ],
)
def test_srt_text_runs_to_the_next_cue(srt, texts):
    assert [c.text for c in read_subtitles(srt, "en.srt").cues] == texts


def test_srt_text_before_the_first_cue_is_refused():
    with pytest.raises(InputError, match="en.srt line 1: 'loose text' is not a cue number or a timing line"):
        parse_srt("loose text\n\n1\n00:00:01,000 --> 00:00:02,000\nx\n", "en.srt")


def test_webvtt_files_are_read_as_webvtt():
    doc = read_subtitles(b"\xef\xbb\xbfWEBVTT\n\n00:01.000 --> 00:02.000 align:end\n<v Bob>hi\n", "en.vtt")
    assert doc.cues == [Cue(1000, 2000, "<v Bob>hi", settings="align:end")]


@pytest.mark.parametrize(
    "data, encoding",
    [
        ("1\n00:00:01,000 --> 00:00:02,000\nÇa coûte 5 €\n".encode("cp1252"), "cp1252"),
        ("1\n00:00:01,000 --> 00:00:02,000\nÇa coûte 5 ¤\n".encode("latin-1"), "latin-1"),
        ("1\n00:00:01,000 --> 00:00:02,000\nÇa coûte 5 €\n".encode("utf-16"), "utf-16"),
        ("1\n00:00:01,000 --> 00:00:02,000\nÇa coûte 5 €\n".encode("utf-8-sig"), None),
        # a byte order mark names UTF-16 or UTF-32 (Windows' "Unicode" text) without a declaration
        ("1\n00:00:01,000 --> 00:00:02,000\nÇa coûte 5 €\n".encode("utf-16"), None),
        ("\ufeff1\n00:00:01,000 --> 00:00:02,000\nÇa coûte 5 €\n".encode("utf-16-be"), None),
        ("1\n00:00:01,000 --> 00:00:02,000\nÇa coûte 5 €\n".encode("utf-32"), None),
        ("1\r\n00:00:01,000 --> 00:00:02,000\r\nÇa coûte 5 €\r\n".encode(), "UTF8"),
    ],
)
def test_declared_encodings_are_honoured(data, encoding):
    (cue,) = read_subtitles(data, "fr.srt", encoding).cues
    assert cue.text.startswith("Ça coûte 5 ")


@pytest.mark.parametrize(
    "data, encoding, says",
    [
        (b"", None, "fr.srt is empty (0 bytes)"),
        (b"\n\n  \n", None, "fr.srt is neither WebVTT nor SRT"),
        (b"WEBVTT\n\nNOTE nothing here\n", None, "fr.srt holds no subtitle cue"),
        (b"1\n00:00:01,000 --> 00:00:02,000\n\n", None, "fr.srt holds no subtitle cue"),
        (b"[Script Info]\nTitle: x\n", None, "neither WebVTT nor SRT (it begins '[Script Info]')"),
        (
            b"1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:03,000 --> 00:00:04,000\n\xe9t\xe9\n",
            None,
            "fr.srt line 7 is not utf-8 text (byte 0xe9 at offset",
        ),
        ("1\n00:00:01,000 --> 00:00:02,000\nété\n".encode("utf-16-le"), "latin-1", "line 1 holds NUL characters"),
        ("1\n00:00:01,000 --> 00:00:02,000\nété\n".encode(), "cp1252", "declared cp1252 but is UTF-8 text (line 3)"),
        (b"1\n00:00:01,000 --> 00:00:02,000\n\x81\n", "cp1252", "line 3 is not cp1252 text (byte 0x81"),
        (
            b"1\n00:00:01,000 --> 00:00:02,000\nx\n",
            "klingon-8",
            "'klingon-8' (the encoding of fr.srt) is not a text encoding",
        ),
        (
            b"1\n00:00:01,000 -> 00:00:02,000\nx\n",
            None,
            "fr.srt line 2: the cue timing is '00:00:01,000 -> 00:00:02,000'",
        ),
        (
            b"1\n00:00:03,000 --> 00:00:02,000\nx\n",
            None,
            "line 2: the cue ends at 00:00:02,000, not after it starts at 00:00:03,000",
        ),
        (b"1\n00:00:01,000 --> 00:00:02,000\nx\n\n2\n", None, "line 6: the cue timing is missing"),
        (b"1\n00:61:01,000 --> 00:62:02,000\nx\n", None, "line 2: the cue timing is"),
        (b"WEBVTT\n\n00:00:01.000 --> 00:00:00.500\nx\n", None, "fr.srt line 3: the cue ends at 00:00:00.500"),
    ],
)
def test_bad_subtitle_files_are_one_sentence(data, encoding, says):
    with pytest.raises(InputError) as err:
        read_subtitles(data, "fr.srt", encoding)
    message = err.value.message
    assert says in message, message
    assert message.endswith(".") and "\n" not in message and ": " in message
    assert err.value.exit_code == 2


def test_load_subtitles_from_disk(tmp_path):
    path = tmp_path / "en.srt"
    path.write_bytes(b"1\n00:00:01,000 --> 00:00:02,000\nhi\n")
    assert load_subtitles(path).cues == [Cue(1000, 2000, "hi")]
    for target, says in ((tmp_path / "missing.srt", "does not exist"), (tmp_path, "is a folder")):
        with pytest.raises(InputError, match=says):
            load_subtitles(target)


def test_multibyte_code_pages_are_not_taken_for_mislabelled_utf8():
    data = "1\n00:00:01,000 --> 00:00:02,000\nこんにちは\n".encode("cp932")
    assert read_subtitles(data, "ja.srt", "cp932").cues == [Cue(1000, 2000, "こんにちは")]
