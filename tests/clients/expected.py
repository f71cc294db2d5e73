"""What each client does with each kind of package: the README's client table, as data.

tests/clients check every cell against the real client (test_native.py, test_browsers.py), and
test_readme_table.py checks that the README shows exactly :func:`table`. A cell that changes
(a client fixed, a regression in hlskit) fails a test until both are updated.
"""

from __future__ import annotations

from tests.clients.packages import CODECS, KINDS

PLAYS = "✓"  # to the end: every frame reaches the client's video output (a switch of variant included)
GST_NO_START = "✗ (1)"
GST_SWITCH_CRASH = "✗ (2)"
VLC_STOPS = "starts (3)"
NOT_RUN = "–"

COLUMNS = {
    "ts-clear": "TS clear",
    "ts-aes": "TS AES-128",
    "ts-rotation": "TS rotation",
    "ts-lead": "TS clear lead",
    "fmp4-clear": "fMP4 clear",
    "fmp4-aes": "fMP4 AES-128",
    "fmp4-rotation": "fMP4 rotation",
    "fmp4-lead": "fMP4 clear lead",
    CODECS: "fMP4 AES-128 H.264+HEVC+AV1",
}
assert list(COLUMNS)[:-1] == list(KINDS)

_ALL = dict.fromkeys(COLUMNS, PLAYS)
_FMP4_AES = ("fmp4-aes", "fmp4-rotation", "fmp4-lead", CODECS)

# Row label -> column -> cell. The label is what the README shows (versions as tested).
EXPECTED: dict[str, dict[str, str]] = {
    "FFmpeg 5.1 (Debian 12)": dict(_ALL),
    "mpv 0.35 (Debian 12)": dict(_ALL),
    "VLC 3.0 (Debian 12)": {**_ALL, **dict.fromkeys(_FMP4_AES, VLC_STOPS)},
    "GStreamer 1.22 playbin3, hlsdemux2 (Debian 12)": {
        **_ALL,
        **dict.fromkeys(("fmp4-aes", "fmp4-rotation", CODECS), GST_NO_START),
        "fmp4-lead": GST_SWITCH_CRASH,
    },
    "hls.js 1.7 (Chromium)": dict(_ALL),
    "Shaka Player 5.2 (Chromium)": dict(_ALL),
    "video.js 8.24 / VHS (Chromium)": dict(_ALL),
    "Safari": dict.fromkeys(COLUMNS, NOT_RUN),
}
# Which row each test client is.
ROW = {
    "FFmpeg": "FFmpeg 5.1 (Debian 12)",
    "mpv": "mpv 0.35 (Debian 12)",
    "VLC": "VLC 3.0 (Debian 12)",
    "GStreamer": "GStreamer 1.22 playbin3, hlsdemux2 (Debian 12)",
    "hls.js": "hls.js 1.7 (Chromium)",
    "Shaka Player": "Shaka Player 5.2 (Chromium)",
    "video.js/VHS": "video.js 8.24 / VHS (Chromium)",
}

NOTES = [
    f"{PLAYS}: plays to the end, every frame reaching the client's video output; through the master, "
    "with its switches of variant (hls.js, GStreamer and VLC usually start on LD and switch to SD on these packages; "
    "FFmpeg decodes each variant; mpv, Shaka and VHS start on SD). On the H.264+HEVC+AV1 master the "
    "browsers play H.264 or AV1 (this Chromium has no HEVC decoder). Without a playback token no "
    "client shows a frame of an encrypted package. VLC drops the pictures it had buffered when it "
    "switches variant, on clear packages too.",
    "(1) GStreamer's hlsdemux2 decrypts an initialization section with the key and IV of the segment "
    "fetched with it, then decrypts that segment with a cipher context it has already freed: with "
    "hlskit's clear init section it cannot tell the stream's type (\"Could not determine type of "
    'stream"; under load it sometimes crashes first), with an encrypted one it crashes. A GStreamer '
    "bug (1.22, and the same code on its main branch); nothing hlskit may write avoids it while the "
    "first segment is encrypted.",
    "(2) Each variant alone plays to the end (its clear first segment comes with the init section); "
    "the first switch of variant fetches the other variant's init section with an encrypted segment, "
    "and GStreamer crashes as in (1).",
    "(3) VLC starts (it never decrypts an init section, so hlskit leaves it clear), then, after a "
    "random segment, shows nothing more: it sometimes leaves a segment's PKCS#7 padding in place and "
    "its MP4 demuxer reads those bytes as a box. A VLC bug (a race between its download and read "
    "threads); a server that sends no Content-Length avoids it, TS is not affected.",
    f"{NOT_RUN}: not tested here (no macOS or iOS).",
]


def table() -> str:
    """The README's client table (Markdown), rows and cells from :data:`EXPECTED`."""
    lines = [
        "| client | " + " | ".join(COLUMNS.values()) + " |",
        "|---|" + "---|" * len(COLUMNS),
    ]
    lines += [f"| {row} | " + " | ".join(cells[c] for c in COLUMNS) + " |" for row, cells in EXPECTED.items()]
    return "\n".join(lines + [""] + [f"{n}\n" for n in NOTES]).rstrip() + "\n"
