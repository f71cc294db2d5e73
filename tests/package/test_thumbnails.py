"""Seek-bar thumbnails: a sprite sheet and a WebVTT thumbnails track in every local package."""

from __future__ import annotations

import json
import re
from pathlib import Path

import av
import pytest

from hlskit.domain.plan import PackageOptions
from hlskit.engines import local, thumbnails
from hlskit.engines.thumbnails import layout_for, track_text
from hlskit.pipeline import run_package

CUE = re.compile(r"^(\d{2}):(\d{2}):(\d{2})\.(\d{3}) --> (\d{2}):(\d{2}):(\d{2})\.(\d{3})$")
PAYLOAD = re.compile(r"^(?P<image>[^#\s]+)#xywh=(?P<x>\d+),(?P<y>\d+),(?P<w>\d+),(?P<h>\d+)$")


def parse_track(text: str) -> list[dict]:
    """Cues of a WebVTT thumbnails track (W3C WebVTT section 4): start, end, image, x, y, w, h."""
    blocks = re.split(r"\n{2,}", text.strip())
    assert blocks[0].split("\n")[0] == "WEBVTT", blocks[0]
    cues = []
    for block in blocks[1:]:
        timing, payload = block.split("\n")[:2]
        t = CUE.match(timing)
        p = PAYLOAD.match(payload)
        assert t and p, block
        v = [int(g) for g in t.groups()]
        cues.append(
            {
                "start": v[0] * 3600 + v[1] * 60 + v[2] + v[3] / 1000,
                "end": v[4] * 3600 + v[5] * 60 + v[6] + v[7] / 1000,
                "image": p["image"],
                **{k: int(p[k]) for k in "xywh"},
            }
        )
    return cues


def image_size(path: Path) -> tuple[int, int]:
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return frame.width, frame.height


@pytest.mark.slow
def test_every_package_has_a_sprite_and_a_track_that_cover_it(packaged):
    """The session package (1280x720, 6 s): tiles every 2 s, 160x90, the sprite holds them all."""
    entry = packaged.manifest["thumbnails"]
    assert entry["track"] == "thumbnails.vtt" and entry["sprite"] == "sprite.jpg"
    sprite = packaged.dir / entry["sprite"]
    width, height = image_size(sprite)
    assert (width, height) == (entry["columns"] * 160, entry["rows"] * 90) == tuple(entry["sprite_size"])
    assert entry["columns"] * entry["rows"] >= entry["tiles"] > entry["tiles"] - entry["columns"]

    cues = parse_track((packaged.dir / entry["track"]).read_text(encoding="utf-8"))
    assert len(cues) == entry["tiles"] == 3
    duration = max(d["duration"] for d in packaged.manifest["definitions"])
    assert cues[0]["start"] == 0 and abs(cues[-1]["end"] - duration) < 0.002
    for before, after in zip(cues, cues[1:]):
        assert before["end"] == after["start"]  # no gap, no overlap
    seen = set()
    for cue in cues:
        assert cue["image"] == "sprite.jpg" and (cue["w"], cue["h"]) == (160, 90)
        assert 0 <= cue["x"] and cue["x"] + cue["w"] <= width and 0 <= cue["y"] and cue["y"] + cue["h"] <= height
        seen.add((cue["x"], cue["y"]))
    assert len(seen) == len(cues)  # each cue its own tile


def _gray(frame, width: int, height: int) -> list[bytes]:
    """The frame scaled to ``width`` x ``height``, 8-bit gray, as rows of bytes."""
    plane = frame.reformat(width=width, height=height, format="gray").planes[0]
    data = bytes(plane)
    return [data[r * plane.line_size : r * plane.line_size + width] for r in range(height)]


def _distance(rows_a: list[bytes], rows_b: list[bytes]) -> int:
    return sum(abs(a - b) for ra, rb in zip(rows_a, rows_b) for a, b in zip(ra, rb))


@pytest.mark.slow
def test_the_tiles_show_the_source_at_their_times(packaged):
    """Each tile is the source frame at its cue's start: the closest source frame (gray, 1/5 size)
    lies within half a second of it."""
    entry = packaged.manifest["thumbnails"]
    cols, rows = entry["columns"], entry["rows"]
    with av.open(str(packaged.dir / "sprite.jpg")) as container:
        sprite = _gray(next(container.decode(video=0)), cols * 32, rows * 18)
    with av.open(str(packaged.source)) as container:
        frames = [(float(f.time), _gray(f, 32, 18)) for f in container.decode(video=0)]
    for cue in parse_track((packaged.dir / "thumbnails.vtt").read_text()):
        x, y = cue["x"] // 5, cue["y"] // 5
        tile = [row[x : x + 32] for row in sprite[y : y + 18]]
        best_time, _ = min(frames, key=lambda f, tile=tile: _distance(tile, f[1]))
        assert abs(best_time - cue["start"]) <= 0.5, (cue, best_time)


def test_layout_stays_small_for_long_and_portrait_sources():
    hour = layout_for(3600, 1920, 1080)
    assert (hour.interval, hour.tiles, hour.columns, hour.rows, hour.size) == (36, 100, 10, 10, (1600, 900))
    phone = layout_for(7.5, 1080, 1920)
    assert (phone.interval, phone.tiles, phone.width, phone.height, phone.size) == (2, 4, 160, 284, (640, 284))
    text = track_text(phone, 7.5)
    cues = parse_track(text)
    assert [(c["start"], c["end"]) for c in cues] == [(0, 2), (2, 4), (4, 6), (6, 7.5)]
    assert [(c["x"], c["y"]) for c in cues] == [(0, 0), (160, 0), (320, 0), (480, 0)]


@pytest.mark.slow
def test_a_thumbnail_failure_is_a_warning_not_a_failed_package(make_clip, hlskit_env, tmp_path, monkeypatch):
    """No sprite came out of the encoding run (here: it is taken away), and FFmpeg then refuses the
    separate sprite run (an unknown filter): the package is published without previews."""
    source = make_clip(tmp_path / "clip.mp4", seconds=2)
    real = thumbnails.sprite_args

    def broken(*args, **kwargs):
        cmd = real(*args, **kwargs)
        cmd[cmd.index("-vf") + 1] = "no_such_filter"
        return cmd

    def lost(plan, ffmpeg, thumbs, layout, duration):
        thumbs.unlink(missing_ok=True)
        return thumbnails.finish_track(plan, ffmpeg, thumbs, layout, duration)

    monkeypatch.setattr(thumbnails, "sprite_args", broken)
    monkeypatch.setattr(local, "finish_track", lost)
    result = run_package(str(source), str(tmp_path / "out"), hlskit_env, PackageOptions(content_id="nothumbs"))
    assert result.ok
    folder = Path(result.dir)
    assert (folder / "master.m3u8").is_file()
    assert not (folder / "sprite.jpg").exists() and not (folder / "thumbnails.vtt").exists()
    manifest = json.loads((folder / "hlskit.json").read_text())
    assert manifest["thumbnails"] is None
    [warning] = [w for w in manifest["warnings"] if "thumbnails" in w]
    assert warning.startswith("no seek-bar thumbnails were made (FFmpeg exited with code")
    assert "\n" not in warning


@pytest.mark.slow
@pytest.mark.parametrize("path", ["sprite.jpg", "thumbnails.vtt"])
def test_thumbnails_are_published_with_the_package_not_before(packaged, path):
    """They are written into the staging folder, so the package's one rename publishes them."""
    assert (packaged.dir / path).is_file()
    assert not list(packaged.out.glob(f".*partial*/{path}"))


@pytest.mark.slow
def test_progress_and_the_overlap_run_from_the_start_of_the_encode(make_clip, hlskit_env, tmp_path):
    """The sprite's tiles leave the encoding run as they come: laid out by a tile filter in that run,
    FFmpeg wrote no -progress report until the title's end (it reports once every output has begun),
    so progress, a cancel and the encryption of finished segments all waited for the whole encode."""
    source = make_clip(tmp_path / "clip.mp4", width=640, height=360, seconds=20)
    seen: list[float] = []
    options = PackageOptions(content_id="early", segment_duration=2, ladder="LD,SD")
    result = run_package(
        str(source), str(tmp_path / "out"), hlskit_env, options, lambda name, pct, *_: seen.append(pct)
    )
    assert result.ok and (Path(result.dir) / "sprite.jpg").is_file()
    assert any(0 < pct < 80 for pct in seen), seen  # was [99.0, 100.0, …]: nothing before the end
    assert not list(Path(result.dir).glob("thumbs*"))  # the tiles' stream is not published
