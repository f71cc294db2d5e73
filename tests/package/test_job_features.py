"""Watermarks, clipping, key rotation and clear lead on the local engine, checked on decoded output."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import m3u8
import pytest

from hlskit.domain.options import parse_clip, parse_text_watermark, parse_watermark
from hlskit.domain.plan import PackageOptions
from hlskit.hls.crypto import decrypt_segment
from hlskit.pipeline import run_package
from hlskit.stores.keys import KeyStore
from tests.tsutil import ts_sync_ok


class Picture:
    """An RGB frame with pixel access (no numpy needed)."""

    def __init__(self, frame: av.VideoFrame):
        rgb = frame.reformat(format="rgb24")
        self.w, self.h = rgb.width, rgb.height
        plane = rgb.planes[0]
        self.stride = plane.line_size
        self.data = bytes(plane)

    def mean(self, x0: int, y0: int, x1: int, y1: int) -> tuple[float, float, float]:
        sums = [0, 0, 0]
        n = 0
        for y in range(y0, y1):
            row = y * self.stride
            for x in range(x0, x1):
                i = row + 3 * x
                for c in range(3):
                    sums[c] += self.data[i + c]
                n += 1
        return tuple(s / n for s in sums)

    def diff(self, other: Picture) -> float:
        return sum(abs(a - b) for a, b in zip(self.data, other.data)) / len(self.data)


def frames(path: Path):
    with av.open(str(path)) as c:
        yield from c.decode(video=0)


def first_picture(path: Path) -> Picture:
    return Picture(next(frames(path)))


def is_green(rgb) -> bool:
    r, g, b = rgb
    return g > 200 and r < 60 and b < 60


@pytest.mark.slow
def test_image_watermark_has_same_place_and_relative_size_in_every_definition(tmp_path, make_clip, ffmpeg, hlskit_env):
    logo = tmp_path / "logo.png"
    subprocess.run(
        [ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", "color=c=0x00FF00:s=200x100", "-frames:v", "1", str(logo)],
        check=True,
    )
    src = make_clip(tmp_path / "in.mp4", width=1280, height=720, seconds=2)
    result = run_package(
        str(src),
        str(tmp_path / "out"),
        hlskit_env,
        PackageOptions(
            ladder="LD,HD",
            segment_duration=1,
            encrypt=False,
            content_id="wm",
            watermarks=[
                parse_watermark(f"{logo}:TopRight:0.05:0.05:0.2"),
                parse_text_watermark("Preview {definition}"),
            ],
        ),
    )
    for name, (w, h) in {"LD": (640, 360), "HD": (1280, 720)}.items():
        pic = first_picture(Path(result.dir) / name / "index-00001.ts")
        assert (pic.w, pic.h) == (w, h)
        mark_w, mark_h = round(0.2 * w), round(0.2 * w) // 2
        x1, y0 = w - round(0.05 * w), round(0.05 * h)
        x0, y1 = x1 - mark_w, y0 + mark_h
        inset = 4
        assert is_green(pic.mean(x0 + inset, y0 + inset, x1 - inset, y1 - inset)), name
        # just outside each edge of the mark, the picture is not the mark's green
        for box in (
            (x0 - 10, y0 + inset, x0 - 3, y1 - inset),
            (x1 + 3, y0 + inset, x1 + 10, y1 - inset),
            (x0 + inset, y1 + 3, x1 - inset, y1 + 10),
            (x0 + inset, y0 - 10, x1 - inset, y0 - 3),
        ):
            assert not is_green(pic.mean(*box)), (name, box)


def test_missing_or_non_png_watermark_is_refused_before_encoding(tmp_path):
    from hlskit.domain.errors import InputError

    jpeg = tmp_path / "logo.jpg"
    jpeg.write_bytes(b"\xff\xd8\xff\xe0not a png")
    with pytest.raises(InputError, match="PNG"):
        parse_watermark(str(jpeg))
    with pytest.raises(InputError, match="does not exist"):
        parse_watermark(str(tmp_path / "missing.png"))


@pytest.mark.slow
def test_clip_is_frame_accurate(tmp_path, make_clip, hlskit_env):
    src = make_clip(tmp_path / "in.mp4", width=320, height=180, seconds=16)
    result = run_package(
        str(src),
        str(tmp_path / "out"),
        hlskit_env,
        PackageOptions(segment_duration=2, encrypt=False, content_id="clip", clip=parse_clip("5+10")),
    )
    playlist = m3u8.load(str(Path(result.dir) / "LD" / "index.m3u8"))
    assert abs(sum(s.duration for s in playlist.segments) - 10.0) <= 1 / 30
    count = sum(1 for s in playlist.segments for _ in frames(Path(result.dir) / "LD" / s.uri))
    assert abs(count - 300) <= 1
    out_first = first_picture(Path(result.dir) / "LD" / playlist.segments[0].uri)
    source = {round(f.time * 30): Picture(f) for f in frames(src) if 4.8 <= f.time <= 5.2}
    diffs = {n: out_first.diff(p) for n, p in source.items()}
    assert min(diffs, key=diffs.get) == 150, diffs  # frame 150 is t = 5.000 s


@pytest.mark.slow
def test_a_clip_starting_before_a_late_video_ends_on_time(tmp_path, make_clip, ffmpeg, hlskit_env):
    # broadcast captures often start their picture after their sound; a clip from before the first
    # picture ran on past its end by that lead (the input's -t counts per stream)
    src = make_clip(tmp_path / "in.mp4", width=320, height=180, seconds=4)
    late = tmp_path / "late.mkv"
    subprocess.run(
        [ffmpeg, "-v", "error", "-itsoffset", "0.6", "-i", src, "-i", src, "-map", "0:v", "-map", "1:a"]
        + ["-c", "copy", str(late)],
        check=True,
    )
    result = run_package(
        str(late),
        str(tmp_path / "out"),
        hlskit_env,
        PackageOptions(segment_duration=2, encrypt=False, content_id="late", clip=parse_clip("0.2+2")),
    )
    playlist = m3u8.load(str(Path(result.dir) / "LD" / "index.m3u8"))
    assert abs(sum(s.duration for s in playlist.segments) - 2.0) <= 1 / 30
    count = sum(1 for s in playlist.segments for _ in frames(Path(result.dir) / "LD" / s.uri))
    assert abs(count - 60) <= 1, count  # 2 s at 30 fps, the first picture held until it is due


@pytest.mark.slow
def test_a_picture_a_fraction_of_a_frame_after_the_sound_is_not_shown_twice(tmp_path, ffmpeg, hlskit_env):
    # FFmpeg's own TS files start their video 21 ms after their audio: on the 25 fps grid the first
    # picture fell in the second slot, was shown twice, and a 40 ms segment ended the title
    src = tmp_path / "ramp.ts"
    subprocess.run(
        [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "color=s=320x180:r=25:d=4", "-f", "lavfi", "-i", "sine=d=4"]
        + ["-vf", "geq=lum='mod(N*7,220)+16':cb=128:cr=128", "-c:v", "libx264", "-qp", "0", "-g", "25"]
        + ["-c:a", "aac", "-shortest", "-f", "mpegts", str(src)],
        check=True,
    )
    with av.open(str(src)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        lead = float(video.start_time * video.time_base - audio.start_time * audio.time_base)
    assert 0 < lead < 0.04  # the shape under test
    result = run_package(
        str(src),
        str(tmp_path / "out"),
        hlskit_env,
        PackageOptions(segment_duration=4, encrypt=False, content_id="ramp"),
    )
    playlist = m3u8.load(str(Path(result.dir) / "LD" / "index.m3u8"))
    assert [s.duration for s in playlist.segments] == [4.0]
    lumas = [Picture(f).mean(0, 0, 8, 8)[0] for f in frames(Path(result.dir) / "LD" / playlist.segments[0].uri)]
    assert len(lumas) == 100 and lumas[1] - lumas[0] > 3  # every picture once: the ramp climbs from the first


@pytest.mark.slow
def test_clip_outside_the_source_is_a_clear_error(tmp_path, make_clip, hlskit_env):
    from hlskit.domain.errors import InputError

    src = make_clip(tmp_path / "in.mp4", seconds=3)
    with pytest.raises(InputError, match="ends after the end"):
        run_package(str(src), str(tmp_path / "out"), hlskit_env, PackageOptions(clip=parse_clip("2+5")))
    with pytest.raises(InputError, match="starts at 10"):
        run_package(str(src), str(tmp_path / "out"), hlskit_env, PackageOptions(clip=parse_clip("10")))
    assert not (tmp_path / "out").exists()


def _keys(settings):
    return KeyStore(settings.key_db, settings.master_key_file)


@pytest.mark.slow
def test_key_rotation_every_two_segments(tmp_path, make_clip, hlskit_env):
    src = make_clip(tmp_path / "in.mp4", width=320, height=180, seconds=30)
    result = run_package(
        str(src),
        str(tmp_path / "out"),
        hlskit_env,
        PackageOptions(segment_duration=2, rotate_every=2, content_id="rot"),
    )
    playlist = m3u8.load(str(Path(result.dir) / "LD" / "index.m3u8"))
    assert len(playlist.segments) == 15
    uris = [s.key.uri for s in playlist.segments]
    assert len(set(uris)) == 8 and len({s.key.iv for s in playlist.segments}) == 8
    assert [uris.index(u) for u in dict.fromkeys(uris)] == list(range(0, 15, 2))
    assert len(result.manifest.keys) == 8
    keys = _keys(hlskit_env)
    for seg in playlist.segments:
        kid = seg.key.uri.split("/")[-1]
        plain = decrypt_segment(
            (Path(result.dir) / "LD" / seg.uri).read_bytes(), keys.get("rot", kid), bytes.fromhex(seg.key.iv[2:])
        )
        assert ts_sync_ok(plain)


@pytest.mark.slow
def test_clear_lead_leaves_the_first_segment_plain(tmp_path, make_clip, hlskit_env):
    src = make_clip(tmp_path / "in.mp4", width=320, height=180, seconds=4)
    result = run_package(
        str(src), str(tmp_path / "out"), hlskit_env, PackageOptions(segment_duration=1, clear_lead=1, content_id="lead")
    )
    folder = Path(result.dir) / "LD"
    text = (folder / "index.m3u8").read_text()
    assert text.index("#EXT-X-KEY:METHOD=AES-128") > text.index("index-00001.ts")
    playlist = m3u8.load(str(folder / "index.m3u8"))
    assert playlist.segments[0].key is None
    assert ts_sync_ok((folder / "index-00001.ts").read_bytes())
    keys = _keys(hlskit_env)
    for seg in playlist.segments[1:]:
        cipher = (folder / seg.uri).read_bytes()
        assert not ts_sync_ok(cipher)
        assert ts_sync_ok(
            decrypt_segment(cipher, keys.get("lead", seg.key.uri.split("/")[-1]), bytes.fromhex(seg.key.iv[2:]))
        )
