"""WebVTT reading and writing (W3C WebVTT), as HLS subtitle segments use it (RFC 8216 §3.5)."""

from __future__ import annotations

import pytest

from hlskit.domain.errors import InputError
from hlskit.hls.webvtt import (
    Cue,
    escape,
    format_timestamp,
    parse_timestamp,
    parse_webvtt,
    read_timestamp_map,
    timestamp_map,
    write_webvtt,
)

SAMPLE = (
    "\ufeffWEBVTT - a title\r\n"
    "Kind: captions\r\n"
    "\r\n"
    "STYLE\r\n"
    "::cue(.loud) { color: red }\r\n"
    "\r\n"
    "REGION\r\n"
    "id:top width:40% lines:3\r\n"
    "\r\n"
    "NOTE a comment\r\n"
    "that spans lines\r\n"
    "\r\n"
    "intro\r\n"
    "00:01.000 --> 00:00:04.500 line:0   align:start\r\n"
    "<i>Hello</i> &amp; welcome\r\n"
    "second line\r\n"
    "\r\n"
    "00:00:03.000 --> 00:00:05.000\r\n"  # overlaps the first: allowed
    "<c.loud>Overlap</c>\r\n"
    "\r\n"
    "STYLE\r\n"  # after the first cue: ignored, as the W3C parser does
    "::cue { color: blue }\r\n"
    "\r\n"
    "100:00:00.000 --> 100:00:01.000\r\n"
    "late\r\n"
)


def test_parse_keeps_cues_settings_markup_styles_and_regions():
    doc = parse_webvtt(SAMPLE, "s.vtt")
    assert [(c.start, c.end) for c in doc.cues] == [(1000, 4500), (3000, 5000), (360_000_000, 360_001_000)]
    first = doc.cues[0]
    assert first.identifier == "intro" and first.settings == "line:0 align:start"
    assert first.text == "<i>Hello</i> &amp; welcome\nsecond line" and first.line == 14
    assert doc.styles == ["::cue(.loud) { color: red }"]
    assert doc.regions == ["id:top width:40% lines:3"]
    assert doc.timestamp_map is None


def test_write_then_parse_is_the_same_cues():
    doc = parse_webvtt(SAMPLE, "s.vtt")
    text = write_webvtt(doc.cues, mpegts=126000, styles=doc.styles, regions=doc.regions)
    assert text.startswith("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\nREGION\n")
    again = parse_webvtt(text, "again.vtt")
    assert again.cues == doc.cues and again.styles == doc.styles and again.regions == doc.regions
    assert again.timestamp_map == (126000, 0)
    assert "00:00:01.000 --> 00:00:04.500 line:0 align:start\n" in text


def test_a_timing_line_ends_the_cue_text_and_any_other_arrow_is_text():
    doc = parse_webvtt("WEBVTT\n\n00:01.000 --> 00:02.000\na\n00:03.000 --> 00:04.000\nb\n", "x.vtt")
    assert [(c.start, c.text) for c in doc.cues] == [(1000, "a"), (3000, "b")]
    # FFmpeg's WebVTT encoder writes a subtitle line "Red --> arrow" as it is: text, not a broken
    # timing (the package failed on it), and written back escaped
    doc = parse_webvtt("WEBVTT\n\n00:01.000 --> 00:02.000\nRed --> arrow\n\n00:03.000 --> 00:04.000\nb\n", "f")
    assert [c.text for c in doc.cues] == ["Red --> arrow", "b"]
    assert "Red --&gt; arrow\n" in write_webvtt(doc.cues)
    # no blank line after the signature: the header ends at the first timing line
    assert len(parse_webvtt("WEBVTT\n00:01.000 --> 00:02.000\na\n", "x.vtt").cues) == 1


@pytest.mark.parametrize(
    "text, says",
    [
        ("WEBVTTX\n", "its first line is 'WEBVTTX', not 'WEBVTT'"),
        ("1\n00:00:01,000 --> 00:00:02,000\nsrt\n", "is not a WebVTT file"),
        (
            "WEBVTT\n\n00:00:01,000 --> 00:00:02,000\na\n",
            "line 3: the cue timing '00:00:01,000 --> 00:00:02,000' is malformed",
        ),
        ("WEBVTT\n\n00:00:61.000 --> 00:01:02.000\na\n", "line 3: the cue timing"),
        ("WEBVTT\n\n00:01.00 --> 00:02.000\na\n", "line 3: the cue timing"),
        ("WEBVTT\n\n00:01.000 --> 00:02.000align:start\na\n", "line 3: the cue timing"),
        ("WEBVTT\n\n00:00:05.000 --> 00:00:04.000\na\n", "line 3: the cue ends at 00:00:04.000, not after it starts"),
        ("WEBVTT\n\n00:00:05.000 --> 00:00:05.000\na\n", "not after it starts at 00:00:05.000"),
        ("WEBVTT\n\nhello\nworld\n", "line 3: 'hello' starts a block that is neither a cue"),
        ("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:abc,LOCAL:00:00:00.000\n\n", "line 2: its X-TIMESTAMP-MAP is malformed"),
    ],
)
def test_bad_files_are_one_sentence_naming_file_and_line(text, says):
    with pytest.raises(InputError) as err:
        parse_webvtt(text, "subs/en.vtt")
    message = err.value.message
    assert message.startswith("subs/en.vtt") and says in message, message
    assert message.endswith(".") and "\n" not in message


def test_timestamps():
    assert parse_timestamp("01:02.003") == 62_003
    assert parse_timestamp("1:00:00.000") == 3_600_000
    assert parse_timestamp("123:00:00.000") == 123 * 3_600_000
    for bad in ("00:60.000", "0:00.000", "00:00.0000", "00:00:00,000", "-00:01.000"):
        assert parse_timestamp(bad) is None, bad
    assert format_timestamp(0) == "00:00:00.000"
    assert format_timestamp(360_001_234) == "100:00:01.234"


def test_timestamp_map_header():
    assert timestamp_map(126000) == "X-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000"
    assert read_timestamp_map("LOCAL:00:00:01.000,MPEGTS:900000") == (900000, 1000)  # either order (RFC 8216 §3.5)
    for bad in ("MPEGTS:1", "LOCAL:00:00:00.000", "MPEGTS:-1,LOCAL:00:00:00.000", "MPEGTS:9999999999,LOCAL:00:00.000"):
        with pytest.raises(ValueError):
            read_timestamp_map(bad)
    with pytest.raises(ValueError):
        timestamp_map(1 << 33)


def test_writer_escapes_nothing_it_is_given_but_never_lets_a_cue_break():
    cue = Cue(0, 1000, "a --> b\n\nc")  # an arrow and an empty line would end the cue (W3C §4.1)
    text = write_webvtt([cue])
    assert parse_webvtt(text, "w.vtt").cues == [Cue(0, 1000, "a --&gt; b\nc")]
    assert escape("Tom & Jerry <3 >_<") == "Tom &amp; Jerry &lt;3 &gt;_&lt;"
