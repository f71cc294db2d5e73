"""Reading batch CSV files: every row checked up front, bad rows named by line number."""

from __future__ import annotations

from pathlib import Path

import pytest

from hlskit.domain.errors import InputError
from hlskit.domain.plan import Clip
from hlskit.pipeline.batch import read_batch


@pytest.fixture
def settings(hlskit_env):
    return hlskit_env


@pytest.fixture
def folder(tmp_path: Path, make_png) -> Path:
    d = tmp_path / "batch"
    d.mkdir()
    (d / "a.mp4").write_bytes(b"not checked until packaging")  # the file must exist, probe comes later
    make_png(d / "logo.png")
    return d


def write_csv(folder: Path, text: str) -> Path:
    path = folder / "batch.csv"
    path.write_text(text)
    return path


def test_all_columns_parsed_and_paths_taken_from_the_csv_folder(folder, settings):
    path = write_csv(
        folder,
        (
            "source,out,ladder,watermark,text_watermark,clip,segment_duration,rotate_key_every,"
            "clear_lead,key_url,content_id,notify\n"
            "a.mp4,pkg,LD,logo.png:BottomLeft:8:8:0.1|logo.png,Preview {definition}:TopLeft,00:00:01+2,2,3,1,"
            "http://127.0.0.1:9000/keys,talk-1,http://127.0.0.1:9/hook exec:/bin/true\n"
        ),
    )
    rows, errors = read_batch(path, settings, out="default-out")
    assert errors == []
    (row,) = rows
    o = row.options
    assert row.line == 2 and row.source == str(folder / "a.mp4") and row.out == str(folder / "pkg")
    assert o.ladder == "LD" and o.segment_duration == 2 and o.rotate_every == 3 and o.clear_lead == 1
    assert o.key_url == "http://127.0.0.1:9000/keys" and o.content_id == "talk-1"
    assert o.clip == Clip(1.0, 2.0)
    assert [(w.kind, w.refer_pos, w.image) for w in o.watermarks] == [
        ("image", "BottomLeft", str(folder / "logo.png")),
        ("image", "TopRight", str(folder / "logo.png")),
        ("text", "TopLeft", ""),
    ]
    assert o.notify == ["http://127.0.0.1:9/hook", "exec:/bin/true"]


def test_only_source_is_required_and_empty_cells_keep_defaults(folder, settings):
    path = write_csv(folder, "source,ladder,clip\na.mp4,,\n\n# a comment line,,\na.mp4,LD,\n")
    rows, errors = read_batch(path, settings, out="default-out")
    assert errors == []
    assert [r.line for r in rows] == [2, 5]
    first = rows[0]
    assert first.out == "default-out" and first.options.ladder == "auto" and first.options.clip is None
    assert first.options.watermarks == [] and first.options.content_id is None and first.options.clear_lead == 0


def test_bad_rows_are_reported_with_their_line_numbers_and_the_rest_go_on(folder, settings):
    (folder / "fake.png").write_bytes(b"GIF89a....")
    path = write_csv(
        folder,
        (
            "source,ladder,watermark,clip,segment_duration,content_id,notify\n"
            "a.mp4,LD,,,,ok-1,\n"  # 2 good
            "missing.mp4,LD,,,,,\n"  # 3 no source
            "a.mp4,XL,,,,,\n"  # 4 unknown definition
            "a.mp4,LD,fake.png,,,,\n"  # 5 not a PNG
            "a.mp4,LD,,1:99+5,,,\n"  # 6 bad clip
            "a.mp4,LD,,,0,,\n"  # 7 bad segment duration
            "a.mp4,LD,,,,ok-1,\n"  # 8 repeated content id
            "a.mp4,LD,,,,,ftp://x\n"  # 9 bad notify target
            ",LD,,,,,\n"  # 10 empty source
            "a.mp4,LD,,,,,,extra\n"  # 11 too many cells
            "a.mp4,LD,,,,bad id!,\n"  # 12 bad content id
            "a.mp4,LD,,,,ok-2,\n"  # 13 good
        ),
    )
    rows, errors = read_batch(path, settings)
    assert [r.line for r in rows] == [2, 13]
    by_line = {e.line: e.message for e in errors}
    assert sorted(by_line) == list(range(3, 13))
    expected = {
        3: "does not exist",
        4: "unknown definition 'XL'",
        5: "not a PNG",
        6: "below 60",
        7: "too small",
        8: "already used on line 2",
        9: "not supported",
        10: "source cell is empty",
        11: "8 cells for 7 columns",
        12: "content id 'bad id!'",
    }
    for line, fragment in expected.items():
        assert fragment in by_line[line], (line, by_line[line])
    for e in errors:
        assert "\n" not in e.message and str(e).startswith(f"line {e.line}: ")


def test_a_content_id_is_one_package_whatever_its_folder(folder, settings):
    # two folders, one content id: both were published, and the second run revoked the first's key
    path = write_csv(folder, "source,content_id,out\na.mp4,twin,outA\na.mp4,twin,outB\n")
    rows, errors = read_batch(path, settings)
    assert [r.line for r in rows] == [2]
    [error] = errors
    assert error.line == 3 and "content id 'twin' is already used on line 2" in error.message


def test_a_notify_cell_keeps_a_command_s_arguments_and_reading_it_writes_no_secret(folder, settings):
    hook = folder / "hook.sh"
    hook.write_text("#!/bin/sh\n")
    hook.chmod(0o755)
    text = f"source,notify\na.mp4,exec:{hook} --tag mine https://hooks.example.test/x\na.mp4,https://a.test/1|exec:{hook} -q\n"
    rows, errors = read_batch(write_csv(folder, text), settings)
    assert errors == []  # '--tag' was read as a target of its own: "not supported"
    assert rows[0].options.notify == [f"exec:{hook} --tag mine", "https://hooks.example.test/x"]
    assert rows[1].options.notify == ["https://a.test/1", f"exec:{hook} -q"]
    assert not (settings.home / "notify.secret").exists()  # `submit --check`/`--dry-run` make nothing


def test_multi_line_quoted_cell_keeps_line_numbers(folder, settings):
    path = write_csv(folder, 'source,text_watermark\na.mp4,"two\nlines"\nmissing.mp4,\n')
    rows, errors = read_batch(path, settings)
    assert [r.line for r in rows] == [2]
    assert [e.line for e in errors] == [4]


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "is empty"),
        ("out,ladder\nx,LD\n", "no source column"),
        ("source,colour\na.mp4,red\n", "unknown column 'colour'"),
        ("source,source\na.mp4,a.mp4\n", "names the column 'source' twice"),
        ("source;content_id;ladder\na.mp4;x;LD\n", "is separated by semicolons: save it as CSV with commas"),
    ],
)
def test_unusable_files_are_one_input_error(folder, settings, text, fragment):
    with pytest.raises(InputError, match=fragment):
        read_batch(write_csv(folder, text), settings)


def test_a_spreadsheet_s_empty_trailing_columns_and_cells_are_ignored(folder, settings):
    # "unknown column ''" and "3 cells for 2 columns" before
    rows, errors = read_batch(write_csv(folder, "source,content_id,,\na.mp4,one,,\na.mp4,two,\n"), settings)
    assert errors == [] and [r.options.content_id for r in rows] == ["one", "two"]


def test_missing_file_and_bom(folder, settings):
    with pytest.raises(InputError, match="does not exist"):
        read_batch(folder / "nope.csv", settings)
    path = folder / "bom.csv"
    path.write_bytes("\ufeffsource\na.mp4\n".encode())  # what spreadsheets write
    rows, errors = read_batch(path, settings)
    assert len(rows) == 1 and errors == []


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_unicode_files_with_a_byte_order_mark_are_read(folder, settings, encoding):
    path = folder / "unicode.csv"
    path.write_bytes("\ufeffsource,content_id\r\na.mp4,clip-1\r\n".encode(encoding))  # Windows' "Unicode" text
    rows, errors = read_batch(path, settings)
    assert [r.options.content_id for r in rows] == ["clip-1"] and errors == []


def test_utf16_without_its_byte_order_mark_is_refused(folder, settings):
    path = folder / "bare.csv"
    path.write_bytes("source\na.mp4\n".encode("utf-16-le"))
    with pytest.raises(InputError, match="holds NUL characters, so it is not UTF-8 text"):
        read_batch(path, settings)


def test_format_codec_and_mp4_columns(folder, settings):
    path = write_csv(
        folder,
        (
            "source,format,codec,mp4,content_id\n"
            "a.mp4,fmp4,h264|hevc,yes,f-1\n"  # 2: codecs separated like other lists
            "a.mp4,,av1,,f-2\n"  # 3: fMP4 chosen for AV1
            "a.mp4,ts,hevc,,f-3\n"  # 4: HEVC needs fMP4
            "a.mp4,,h264,maybe,f-4\n"  # 5: not yes/no
            "a.mp4,,vp9,,f-5\n"  # 6: unknown codec
        ),
    )
    rows, errors = read_batch(path, settings)
    assert [r.line for r in rows] == [2, 3]
    first, second = (r.options for r in rows)
    assert (first.format, first.codecs, first.mp4) == ("fmp4", ("h264", "hevc"), True)
    assert (second.format, second.codecs, second.mp4) == (None, ("av1",), False)
    by_line = {e.line: e.message for e in errors}
    assert "fMP4 only" in by_line[4] and "yes or no" in by_line[5] and "unknown codec 'vp9'" in by_line[6]
