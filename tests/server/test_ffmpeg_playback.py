"""A real HLS client plays the protected stream: FFmpeg reads the tokenised master URL.

FFmpeg cannot add headers to key requests, so this is the token pass-through path: the token on
the master URL reaches the variant playlists and from there the key URIs.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.server.serverpkg import DEFINITIONS, FPS, SECONDS

pytestmark = pytest.mark.slow


def ffmpeg_decode(site, url: str, program: int) -> subprocess.CompletedProcess:
    import imageio_ffmpeg

    return subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-v",
            "error",
            "-nostats",
            "-progress",
            "pipe:1",
            "-i",
            url,
            "-map",
            f"0:p:{program}",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("program", range(len(DEFINITIONS)))
def test_ffmpeg_decodes_every_definition_to_the_end_with_a_token(site, program):
    url = f"{site.url}/media/{site.package.content_id}/master.m3u8?token={site.token()}"
    result = ffmpeg_decode(site, url, program)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""  # -v error: any decode or key error would show here
    frames = int(re.findall(r"^frame=(\d+)$", result.stdout, re.M)[-1])
    assert frames == SECONDS * FPS
    out_time = re.findall(r"^out_time=(\d+):(\d+):([\d.]+)$", result.stdout, re.M)[-1]
    assert float(out_time[2]) + 60 * int(out_time[1]) == pytest.approx(SECONDS, abs=0.2)


def test_ffmpeg_fails_without_a_token(site):
    result = ffmpeg_decode(site, f"{site.url}/media/{site.package.content_id}/master.m3u8", 0)
    assert result.returncode != 0
    assert "401" in result.stderr and "key" in result.stderr.lower()


def test_ffmpeg_fails_with_a_token_for_other_content(site):
    url = f"{site.url}/media/{site.package.content_id}/master.m3u8?token={site.token('other')}"
    result = ffmpeg_decode(site, url, 0)
    assert result.returncode != 0 and "403" in result.stderr
