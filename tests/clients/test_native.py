"""FFmpeg, mpv, VLC and GStreamer (Debian's packages) against every kind of package: each cell of
the client table (tests/clients/expected.py) is checked here, failures included, so the table
changes when a client or hlskit does.
"""

from __future__ import annotations

import pytest

from tests.clients import players
from tests.clients.expected import (
    EXPECTED,
    GST_NO_START,
    GST_SWITCH_CRASH,
    PLAYS,
    ROW,
    VLC_STOPS,
)
from tests.clients.packages import CODECS, FRAMES, KINDS

pytestmark = pytest.mark.slow

SEGMENT = FRAMES // 3  # 1 s segments of a 3 s clip
COLUMNS = [*KINDS, CODECS]


def variants(site, kind: str) -> list[str]:
    return [f"{name}/index.m3u8" for name in site.variants[kind]]


def expect(client: str, kind: str) -> str:
    return EXPECTED[ROW[client]][kind]


@pytest.mark.parametrize("kind", COLUMNS)
def test_ffmpeg(clients_site, kind):
    assert expect("FFmpeg", kind) == PLAYS
    for playlist in variants(clients_site, kind):  # FFmpeg does not switch: every variant, whole
        played = players.ffmpeg(clients_site.url(kind, playlist))
        assert played.ended and played.log.strip() == "", (playlist, played.log)  # -v error: nothing wrong
        assert played.frames == FRAMES, playlist


@pytest.mark.parametrize("kind", COLUMNS)
def test_mpv(clients_site, kind):
    assert expect("mpv", kind) == PLAYS
    for playlist in ["master.m3u8", *(variants(clients_site, kind) if kind == CODECS else [])]:
        played = players.mpv(clients_site.url(kind, playlist))
        assert played.ended, (playlist, played.log)
        assert played.frames == FRAMES, (playlist, played.log)


@pytest.mark.parametrize("kind", COLUMNS)
def test_gstreamer(clients_site, kind):
    cell = expect("GStreamer", kind)
    master = players.gstreamer(clients_site.url(kind))
    if cell == PLAYS:
        assert master.ended and master.frames == FRAMES, master.log[-2000:]
        # It usually starts on LD and switches to SD; which variant it picks is its ABR's (a loaded
        # machine has seen it start on SD): every picture is one of the master's two sizes.
        assert master.sizes and set(master.sizes) <= {(192, 108), (320, 180)}, master.sizes
    elif cell == GST_NO_START:
        assert master.frames == 0 and not master.ended
        # It reports the noise it made of the clear init section, or it crashes first (under load).
        stopped = "Could not determine type of stream" in master.log or (master.code or 0) < 0
        assert stopped, (master.code, master.log[-2000:])
    else:
        assert cell == GST_SWITCH_CRASH
        for playlist in variants(clients_site, kind):  # alone, each variant plays to the end
            alone = players.gstreamer(clients_site.url(kind, playlist))
            assert alone.ended and alone.frames == FRAMES, (playlist, alone.log[-2000:])
        # Through the master it switches to SD after the clear first segment and crashes.
        assert not master.ended and master.frames < FRAMES
        assert master.code is None or master.code < 0, master.code  # killed by a signal, or hung


@pytest.mark.parametrize("kind", COLUMNS)
def test_vlc(clients_site, ffmpeg, kind):
    cell = expect("VLC", kind)
    for playlist in ["master.m3u8", *(variants(clients_site, kind) if kind == CODECS else [])]:
        played = players.vlc(clients_site.url(kind, playlist))
        assert played.ended, (playlist, played.log[-2000:])
        if cell == VLC_STOPS:
            # It starts: with an encrypted init section it showed nothing ("Failed to create demuxer").
            assert played.frames >= SEGMENT - 1, (playlist, played.frames, played.log[-2000:])
            continue
        assert cell == PLAYS
        # VLC drops what it had buffered when it switches, and ends a TS stream a frame or two early
        # (clear packages too); its last picture is one of the presentation's last three.
        assert played.frames >= SEGMENT, (playlist, played.frames)
        final = {(192, 108): "LD", (320, 180): "SD"}[played.sizes[-1]]
        reference = players.reference_frames(clients_site.url(kind, f"{final}/index.m3u8"), ffmpeg)
        assert len(reference) == FRAMES
        at = players.nearest(played.last, reference)
        assert at >= FRAMES - 3, f"{playlist}: VLC's last picture is frame {at} of {final}, not one of the last"
