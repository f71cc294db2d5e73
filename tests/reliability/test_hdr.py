"""An HDR source becomes SDR BT.709 8-bit H.264 tagged as such, with one warning kept in the manifest."""

from __future__ import annotations

import json

import av
import pytest

from tests.conftest import run_hlskit
from tests.reliability.inputs import make_source


@pytest.mark.parametrize("kind,name", [("hdr-pq", "PQ"), ("hdr-hlg", "HLG")])
def test_hdr_source_is_tone_mapped_and_tagged_bt709(kind, name, tmp_path, ffmpeg):
    src = make_source(kind, tmp_path, ffmpeg, tmp_path / "unused.mp4")
    out = tmp_path / "out"
    done = run_hlskit(
        "package",
        str(src),
        "--out",
        str(out),
        "--content-id",
        "hdr",
        "--no-encrypt",
        "--segment-duration",
        "1",
        env={"HLSKIT_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 0, done.stderr
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
