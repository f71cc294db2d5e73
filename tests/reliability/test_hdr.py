"""An HDR source becomes SDR BT.709 8-bit H.264 tagged as such, with one warning kept in the manifest."""

from __future__ import annotations

import json
import subprocess

import av
import pytest

from hlskit.pipeline.probe import hdr10_metadata
from tests.conftest import run_hlskit
from tests.reliability.inputs import make_source

pytestmark = pytest.mark.slow


def _package(src, tmp_path, *extra: str):
    """`hlskit package SRC` into tmp_path/out/hdr, clear, with its own home; the run, which succeeded."""
    out, home = tmp_path / "out", tmp_path / "home"
    done = run_hlskit(
        "package", str(src), "--out", str(out), "--content-id", "hdr", "--no-encrypt", *extra,
        env={"HLSKIT_HOME": str(home)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.parametrize("kind,name", [("hdr-pq", "PQ"), ("hdr-hlg", "HLG")])
def test_hdr_source_is_tone_mapped_and_tagged_bt709(kind, name, tmp_path, ffmpeg):
    src = make_source(kind, tmp_path, ffmpeg, tmp_path / "unused.mp4")
    out = tmp_path / "out"
    done = _package(src, tmp_path, "--segment-duration", "1")
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and f"HDR ({name}" in warnings[0] and "BT.709" in warnings[0], done.stderr
    manifest = json.loads((out / "hdr" / "hlskit.json").read_text())
    assert any("tone-mapped to SDR BT.709" in w for w in manifest["warnings"])
    with av.open(str(out / "hdr" / "LD" / "index-00001.ts")) as container:
        stream = container.streams.video[0]
        frame = next(container.decode(stream))
        # ITU-T H.273: 1 = BT.709 for colour primaries, transfer characteristics and matrix
        assert (frame.color_primaries, frame.color_trc, frame.colorspace) == (1, 1, 1)
        assert stream.codec_context.format.name == "yuv420p"  # 8-bit 4:2:0, no longer 10-bit


def test_hdr_source_is_refused_when_ffmpeg_cannot_tone_map(tmp_path, ffmpeg):
    """An FFmpeg without zscale (no zimg) cannot make SDR from HDR: refuse rather than mislabel."""
    wrapper = tmp_path / "ffmpeg-without-zscale"
    wrapper.write_text(
        f'#!/bin/sh\ncase "$*" in *-filters*) "{ffmpeg}" "$@" | grep -v zscale; exit 0;; esac\nexec "{ffmpeg}" "$@"\n'
    )
    wrapper.chmod(0o755)
    src = make_source("hdr-pq", tmp_path, ffmpeg, tmp_path / "unused.mp4")
    out, home = tmp_path / "out", tmp_path / "home"
    done = run_hlskit(
        "package", str(src), "--out", str(out), env={"HLSKIT_HOME": str(home), "HLSKIT_FFMPEG": str(wrapper)}
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "is HDR (PQ)" in errors[0] and "zscale" in errors[0], done.stderr
    assert not out.exists()


def test_hdr_is_kept_in_hevc_and_av1_and_declared_in_the_master(tmp_path, ffmpeg):
    """HEVC (Main 10) and AV1 keep the PQ source's HDR, tagged BT.2020/PQ, while H.264 is made SDR;
    the master says which is which with VIDEO-RANGE (Apple HLS authoring spec 9.16) and validates."""
    src = make_source("hdr-pq", tmp_path, ffmpeg, tmp_path / "unused.mp4")
    out, env = tmp_path / "out", {"HLSKIT_HOME": str(tmp_path / "home"), "HLSKIT_X264_PRESET": "ultrafast"}
    args = ["--out", str(out), "--content-id", "hdr", "--no-encrypt", "--segment-duration", "1"]
    done = run_hlskit("package", str(src), *args, "--codec", "h264,hevc,av1", "--ladder", "LD", env=env)
    assert done.returncode == 0, done.stderr
    assert "HEVC/AV1 definitions keep it" in done.stderr and "H.264 ones were tone-mapped" in done.stderr
    ranges = {}
    for line in (out / "hdr" / "master.m3u8").read_text().splitlines():
        if line.startswith("#EXT-X-STREAM-INF"):
            ranges[line.split('CODECS="')[1][:4]] = line.split("VIDEO-RANGE=")[1].split(",")[0]
    assert ranges == {"avc1": "SDR", "hvc1": "PQ", "av01": "PQ"}
    expected = {"LD": (1, 1, 1, "yuv420p"), "LD-hevc": (9, 16, 9, "yuv420p10le"), "LD-av1": (9, 16, 9, "yuv420p10le")}
    for name, (primaries, trc, matrix, pix_fmt) in expected.items():
        with av.open(str(out / "hdr" / name / "index.m3u8")) as container:
            frame = next(container.decode(video=0))
            assert (frame.color_primaries, frame.color_trc, frame.colorspace) == (primaries, trc, matrix), name
            assert frame.format.name == pix_fmt, name
    checked = run_hlskit("validate", str(out / "hdr" / "master.m3u8"), "--json", env=env)
    assert checked.returncode == 0, checked.stdout
    # The same master claiming SDR for the PQ variants breaks the rule (a MUST): validate says so.
    master = out / "hdr" / "master.m3u8"
    master.write_text(master.read_text().replace("VIDEO-RANGE=PQ", "VIDEO-RANGE=SDR"))
    wrong = run_hlskit("validate", str(master), "--json", env=env)
    assert wrong.returncode == 1
    assert "3.1-VIDEO-RANGE" in wrong.stdout and "make it PQ" in wrong.stdout


def testhdr10_metadata_static_metadata_is_kept_in_the_hevc_and_av1_definitions(tmp_path, ffmpeg):
    """Displays tone-map PQ by the mastering display and content light level; lost, a player assumes
    a 1000 or 4000 cd/m² master and a 400-nit title comes out too dark."""
    display = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(4000000,50)"
    src = tmp_path / "hdr10.mp4"
    x265 = f"colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:master-display={display}:max-cll=400,120"
    subprocess.run(
        [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=2", "-vf", "format=yuv420p10le"]
        + ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", f"{x265}:log-level=error", "-tag:v", "hvc1"]
        + ["-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc", str(src)],
        check=True,
    )
    out = tmp_path / "out"
    _package(src, tmp_path, "--codec", "hevc,av1", "--ladder", "LD")
    for name in ("LD-hevc", "LD-av1"):
        folder = out / "hdr" / name
        whole = tmp_path / f"{name}.mp4"
        whole.write_bytes((folder / "init.mp4").read_bytes() + (folder / "index-00001.m4s").read_bytes())
        with av.open(str(whole)) as container:
            frame = next(container.decode(video=0))
        assert hdr10_metadata(frame) == {"mastering_display": display, "content_light": "400,120"}, name
