import pytest

from hlskit.domain.errors import InputError
from hlskit.domain.ladder import (
    PRESETS,
    Definition,
    Rung,
    cap_to_source,
    choose_ladder,
    load_ladder_file,
    parse_ladder_option,
)
from hlskit.pipeline.transmux import split_ladder


def sizes(rungs):
    return [(r.name, r.width, r.height) for r in rungs]


def test_auto_keeps_presets_not_wider_than_source():
    assert sizes(choose_ladder(1920, 1080)) == [
        ("LD", 640, 360),
        ("SD", 848, 478),
        ("HD", 1280, 720),
        ("FHD", 1920, 1080),
    ]


def test_small_source_yields_only_ld_and_never_upscales():
    assert sizes(choose_ladder(640, 360)) == [("LD", 640, 360)]
    assert sizes(choose_ladder(320, 240)) == [("LD", 320, 240)]


def test_portrait_source_gets_portrait_rungs():
    rungs = choose_ladder(1080, 1920)
    assert [r.name for r in rungs] == ["LD", "SD", "HD", "FHD"]
    assert all(r.height > r.width for r in rungs)
    assert sizes(rungs)[-1] == ("FHD", 1080, 1920)


@pytest.mark.parametrize("w,h", [(1920, 1080), (1280, 536), (1440, 1080), (720, 1280), (1001, 563), (4096, 2160)])
def test_rungs_are_even_keep_aspect_and_never_exceed_source(w, h):
    for r in choose_ladder(w, h):
        assert r.width % 2 == 0 and r.height % 2 == 0
        assert r.width <= w and r.height <= h
        assert abs(r.width / r.height - w / h) < 0.02


def test_named_ladder_is_capped_at_source_and_deduplicated():
    rungs = choose_ladder(1280, 720, parse_ladder_option("LD,FHD,4K"))
    assert sizes(rungs) == [("LD", 640, 360), ("FHD", 1280, 720)]


def test_unknown_name_is_a_clear_error():
    with pytest.raises(InputError, match="unknown definition 'XD'"):
        parse_ladder_option("LD,XD")


def test_ladder_file(tmp_path):
    f = tmp_path / "l.toml"
    f.write_text(
        '[[definition]]\nname="tiny"\nwidth=320\nvideo_kbps=200\naudio_kbps=48\n'
        '[[definition]]\nname="big"\nwidth=960\nvideo_kbps=1500\n'
    )
    defs = load_ladder_file(f)
    assert [d.name for d in defs] == ["tiny", "big"]
    assert sizes(choose_ladder(1920, 1080, defs)) == [("tiny", 320, 180), ("big", 960, 540)]


def test_ladder_file_errors(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text('[[definition]]\nname="x"\n')
    with pytest.raises(InputError, match="needs name, width and video_kbps"):
        load_ladder_file(f)
    with pytest.raises(InputError, match="does not exist"):
        parse_ladder_option(str(tmp_path / "missing.toml"))


def test_presets_follow_mps():
    assert [(d.name, d.width, d.video_kbps, d.template_id) for d in PRESETS][:4] == [
        ("LD", 640, 400, "S00000001-100010"),
        ("SD", 848, 800, "S00000001-100020"),
        ("HD", 1280, 1800, "S00000001-100030"),
        ("FHD", 1920, 3000, "S00000001-100040"),
    ]


def test_no_rung_is_encoded_above_the_source_rate_and_capped_twins_collapse():
    """MPS IsCheckVideoBitrate: a 720p source at 500 kb/s gets no 1,800 kb/s HD; SD and HD both
    capped at 500 kb/s would spend the same bits, so only the larger picture (HD) stays."""
    rungs, notes = cap_to_source(choose_ladder(1280, 720), 500)
    assert [(r.name, r.definition.video_kbps) for r in rungs] == [("LD", 400), ("HD", 500)]
    assert "capped at the source's own 500 kb/s" in rungs[1].why and rungs[0].why == ""
    assert notes == [
        "SD dropped: at the source's own 500 kb/s it would duplicate HD",
        "HD capped at the source's own 500 kb/s (definition 1800 kb/s)",
    ]
    untouched, none = cap_to_source(choose_ladder(1280, 720), None)  # a rate the container does not state
    assert untouched == choose_ladder(1280, 720) and none == []


def test_a_copied_source_replaces_every_rung_capped_to_its_rate():
    source = Rung(Definition("SOURCE", 1280, 500, 128, "S00000001-100000"), 1280, 720, transmux=True)
    rungs, notes = cap_to_source([*choose_ladder(1280, 720), source], 500)
    assert [r.name for r in rungs] == ["LD", "SOURCE"] and len(notes) == 2
    assert all("duplicate SOURCE" in n for n in notes)


def test_ladder_option_takes_a_source_suffix():
    assert split_ladder("auto+source") == ("auto", True) and split_ladder("LD,HD+SOURCE") == ("LD,HD", True)
    assert split_ladder("auto") == ("auto", False) and split_ladder("+source") == ("auto", True)
