"""CLOSED-CAPTIONS=NONE (RFC 8216 §4.3.4.2) on every variant of a master whose video carries no
CEA-608/708 captions, and not when it does.

Without it Shaka Player looks for captions in an fMP4 variant's middle and last segments before
it plays (its HLS parser's closed-caption probe), which cost ~9 s instead of ~3.5 s to the first
frame at 700 kb/s (bench/results/fast-start.md). hlskit's x264 keeps a source's captions, so a
master that said NONE over captioned video would hide them: stitch looks for them in each
definition's first segment.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from hlskit.domain.plan import PackageOptions
from hlskit.domain.settings import Settings
from hlskit.pipeline import run_package
from tests.tiers import debian_ffprobe

pytestmark = pytest.mark.slow

# An ATSC A/53 caption SEI (H.264 sei_payload type 4, ITU-T T.35): country 0xB5, provider 0x0031,
# user identifier "GA94", cc_data with one CEA-608 field-1 pair.
A53_PAYLOAD = bytes([0xB5, 0x00, 0x31]) + b"GA94" + bytes([0x03, 0x41, 0xFF, 0xFC, 0x94, 0x2C, 0xFF])
A53_SEI = bytes([0x06, 0x04, len(A53_PAYLOAD)]) + A53_PAYLOAD + b"\x80"


def stream_infs(master: str) -> list[str]:
    return [line for line in master.splitlines() if line.startswith("#EXT-X-STREAM-INF")]


def with_captions(annexb: bytes) -> bytes:
    """The H.264 stream with a caption SEI before the first slice of every picture."""
    nals = [n.lstrip(b"\x00") for n in re.split(b"\x00\x00\x01", annexb) if n.strip(b"\x00")]
    out = bytearray()
    for nal in nals:
        if nal[0] & 0x1F in (1, 5):  # a slice (one per picture here)
            out += b"\x00\x00\x00\x01" + A53_SEI
        out += b"\x00\x00\x00\x01" + nal.rstrip(b"\x00")
    return bytes(out)


def test_a_master_without_captions_says_none_on_every_variant(clients_site):
    for kind in ("ts-aes", "fmp4-aes", "fmp4-codecs"):
        infs = stream_infs((clients_site.out / kind / "master.m3u8").read_text())
        assert len(infs) >= 2 and all(line.endswith(",CLOSED-CAPTIONS=NONE") for line in infs), kind


def test_a_source_with_cea608_captions_keeps_them_and_the_master_does_not_say_none(tmp_path, ffmpeg):
    raw = subprocess.run(
        [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "2"]
        + ["-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-bsf:v", "h264_mp4toannexb", "-f", "h264", "-"],
        capture_output=True,
        check=True,
    ).stdout
    (tmp_path / "cc.h264").write_bytes(with_captions(raw))
    source = tmp_path / "cc.mp4"
    subprocess.run(
        [ffmpeg, "-v", "error", "-r", "30", "-i", str(tmp_path / "cc.h264"), "-f", "lavfi", "-i", "anullsrc=r=48000"]
        + ["-t", "2", "-c:v", "copy", "-c:a", "aac", str(source)],
        check=True,
    )
    settings = Settings(home=tmp_path / "home", media_root=tmp_path / "out", x264_preset="ultrafast")
    options = PackageOptions(ladder="LD", segment_duration=1, content_id="cc", encrypt=False, format="ts")
    result = run_package(str(source), str(tmp_path / "out"), settings, options)
    assert result.ok, [j.message for j in result.failed]
    # Debian's FFmpeg finds the captions in the source and in what hlskit made of it ...
    for media in (source, tmp_path / "out" / "cc" / "LD" / "index.m3u8"):
        probe = subprocess.run([debian_ffprobe(), "-hide_banner", str(media)], capture_output=True, text=True)
        assert "Closed Captions" in probe.stderr, (media, probe.stderr)
    # ... so the master must not say there are none.
    infs = stream_infs((tmp_path / "out" / "cc" / "master.m3u8").read_text())
    assert infs and not any("CLOSED-CAPTIONS" in line for line in infs), infs
