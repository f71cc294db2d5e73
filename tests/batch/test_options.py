"""Option parsers shared by `hlskit package` flags and batch CSV cells."""

from __future__ import annotations

import pytest

from hlskit.domain.errors import InputError
from hlskit.domain.options import (
    parse_clip,
    parse_duration,
    parse_positive_int,
    parse_text_watermark,
    parse_track_spec,
    parse_watermark,
    watermark_text,
)
from hlskit.domain.plan import Clip, Watermark

# --- durations and clips -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("45", 45.0),
        ("90.5", 90.5),
        ("1:30", 90.0),
        ("00:01:30", 90.0),
        ("00:01:30.5", 90.5),
        ("01:00:00", 3600.0),
        (" 7 ", 7.0),
        ("0", 0.0),
    ],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "not a time"),
        ("abc", "not a time"),
        ("-5", "not a time"),
        ("1:2:3:4", "not a time"),
        ("00:01:75", "below 60"),
        ("00:75:00", "below 60"),
        ("1,5", "not a time"),
    ],
)
def test_parse_duration_rejects(text, fragment):
    with pytest.raises(InputError, match=fragment):
        parse_duration(text)


@pytest.mark.parametrize(
    "text, clip",
    [
        ("00:01:30+45", Clip(90.0, 45.0)),
        ("90+45", Clip(90.0, 45.0)),
        ("00:01:30.5+00:00:45", Clip(90.5, 45.0)),
        ("5+10", Clip(5.0, 10.0)),
        ("12.25", Clip(12.25, None)),
    ],
)
def test_parse_clip(text, clip):
    assert parse_clip(text) == clip


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("+45", "no start"),
        ("90+", "not a time"),
        ("90+0", "zero duration"),
        ("a+b", "not a time"),
        ("90+45+3", "not a time"),
        ("90-45", "not a time"),
    ],
)
def test_parse_clip_rejects(text, fragment):
    with pytest.raises(InputError, match=fragment) as err:
        parse_clip(text)
    assert err.value.exit_code == 2


# --- image watermarks -----------------------------------------------------------------------


def test_image_watermark_full(png):
    mark = parse_watermark(f"{png}:TopRight:0.05:0.05:0.12")
    assert mark == Watermark(kind="image", refer_pos="TopRight", dx=0.05, dy=0.05, width=0.12, image=str(png))


def test_image_watermark_defaults_follow_mps(png):
    mark = parse_watermark(str(png))
    assert (mark.refer_pos, mark.dx, mark.dy, mark.width) == ("TopRight", 0.0, 0.0, 0.12)


def test_image_watermark_pixels_and_empty_fields(png):
    mark = parse_watermark(f"{png}:bottomleft:16::200")
    assert (mark.refer_pos, mark.dx, mark.dy, mark.width) == ("BottomLeft", 16.0, 0.0, 200.0)


def test_image_watermark_oss_object_is_not_checked_locally():
    mark = parse_watermark("oss://bucket/marks/logo.png:BottomRight:8:8:0.1")
    assert mark.image == "oss://bucket/marks/logo.png" and mark.refer_pos == "BottomRight"


def test_image_watermark_missing_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        parse_watermark(f"{tmp_path / 'nope.png'}:TopLeft")


def test_image_watermark_not_png(tmp_path):
    jpeg = tmp_path / "logo.png"
    jpeg.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 64)  # a JPEG with a .png name
    with pytest.raises(InputError, match="not a PNG"):
        parse_watermark(str(jpeg))


def test_image_watermark_folder(tmp_path):
    with pytest.raises(InputError, match="folder"):
        parse_watermark(str(tmp_path))


@pytest.mark.parametrize(
    "suffix, fragment",
    [
        (":Middle", "position 'Middle' is unknown"),
        (":TopLeft:-3", "Dx '-3' must be a number 0 or more"),
        (":TopLeft:0:x", "Dy 'x' must be a number"),
        (":TopLeft:0:0:0", "Width '0' must be a number above 0"),
        (":TopLeft:0:0:12.5", "ambiguous"),
        (":TopLeft:0:0:0.1:9", "too many"),
        (":TopLeft:nan", "Dx 'nan' must be a number"),
    ],
)
def test_image_watermark_bad_fields(png, suffix, fragment):
    with pytest.raises(InputError, match=fragment):
        parse_watermark(f"{png}{suffix}")


def test_image_watermark_other_scheme_refused():
    with pytest.raises(InputError, match="only local files and oss://"):
        parse_watermark("https://example.com/logo.png")


# --- text watermarks ------------------------------------------------------------------------


def test_text_watermark_plain():
    mark = parse_text_watermark("Preview {definition}")
    assert mark == Watermark(kind="text", text="Preview {definition}", refer_pos="TopRight", width=0.05)
    assert watermark_text(mark, "HD") == "Preview HD"


def test_text_watermark_with_placement():
    mark = parse_text_watermark("Preview {definition}:BottomLeft:0.03:0.04:24")
    assert (mark.text, mark.refer_pos, mark.dx, mark.dy, mark.width) == (
        "Preview {definition}",
        "BottomLeft",
        0.03,
        0.04,
        24.0,
    )


def test_text_with_colons_stays_text():
    assert parse_text_watermark("Live 10:30").text == "Live 10:30"
    mark = parse_text_watermark("Live 10:30:TopLeft")
    assert (mark.text, mark.refer_pos) == ("Live 10:30", "TopLeft")


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("", "no text"),
        (":TopLeft", "no text"),
        ("Hi {name}", r"uses \{name\}"),
        ("Hi {", "unmatched brace"),
        ("{definition:>99999999999}", r"uses \{definition:>99999999999\}"),  # was a MemoryError traceback
        ("{definition!r}", r"uses \{definition!r\}"),
        ("Hi:TopLeft:0:0:-1", "Width '-1'"),
    ],
)
def test_text_watermark_rejects(spec, fragment):
    with pytest.raises(InputError, match=fragment):
        parse_text_watermark(spec)


@pytest.mark.parametrize("text, minimum, value", [("6", 1, 6), (" 0 ", 0, 0)])
def test_parse_positive_int(text, minimum, value):
    assert parse_positive_int(text, "x", minimum=minimum) == value


@pytest.mark.parametrize("text, fragment", [("six", "not a whole number"), ("0", "too small"), ("1.5", "not a whole")])
def test_parse_positive_int_rejects(text, fragment):
    with pytest.raises(InputError, match=fragment):
        parse_positive_int(text, "--segment-duration")


def test_image_watermark_relative_to_base(png):
    mark = parse_watermark(f"{png.name}:TopLeft", base=png.parent)
    assert mark.image == str(png)
    with pytest.raises(InputError, match="does not exist"):
        parse_watermark(f"{png.name}:TopLeft", base=png.parent / "elsewhere")


@pytest.mark.parametrize(
    "spec, path, language, name",
    [
        ("ext_fre.ac3:fr:Commentary: Director", "ext_fre.ac3", "fr", "Commentary: Director"),  # was "names no language"
        ("eng.srt:en:Notes: Part 2", "eng.srt", "en", "Notes: Part 2"),  # was "unknown language code 'Notes'"
        ("my:take.m4a:en:A: B", "my:take.m4a", "en", "A: B"),  # a colon in the file too
        ("C:\\media\\fr.m4a:fr", "C:\\media\\fr.m4a", "fr", None),
        ("noext:en:Name", "noext", "en", "Name"),
        ("a.srt:fr+forced:Forcés", "a.srt", "fr", "Forcés"),
    ],
)
def test_a_track_spec_s_name_may_hold_colons(spec, path, language, name):
    got = parse_track_spec(spec, "--audio")
    assert (got.path, got.language, got.name) == (path, language, name)
