"""A playlist corpus for the validator: the hand-written files in tests/data/playlists (RFC 8216
§8 examples and odd or broken playlists, see its README) plus real FFmpeg hls-muxer output in
many configurations, generated on the fly (tiny 320x180 clips).

:func:`run_one` validates one location the way `hlskit validate --json` does and classifies the
outcome: "report" (exit 0/1), "error" (exit 2 with one sentence), or "crash" (anything else: a
traceback the CLI would have printed).
"""

from __future__ import annotations

import json
import subprocess
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

from hlskit.domain.errors import HlskitError
from hlskit.hls.validate import validate

DATA = Path(__file__).resolve().parents[1] / "data" / "playlists"
KEY = bytes(range(16))
IV_HEX = "00112233445566778899aabbccddeeff"

# name -> extra FFmpeg output options (all write <dir>/index.m3u8)
CONFIGS: dict[str, list[str]] = {
    "ts-vod": ["-hls_playlist_type", "vod"],
    "ts-live": ["-hls_list_size", "2"],  # live window: no ENDLIST, no PLAYLIST-TYPE
    "ts-event": ["-hls_playlist_type", "event"],
    "ts-single-file": ["-hls_playlist_type", "vod", "-hls_flags", "single_file"],
    "ts-discont": ["-hls_playlist_type", "vod", "-hls_flags", "discont_start+program_date_time"],
    "ts-independent": ["-hls_playlist_type", "vod", "-hls_flags", "independent_segments+round_durations"],
    "ts-iframes-only": ["-hls_playlist_type", "vod", "-hls_flags", "iframes_only"],
    "ts-split-by-time": ["-hls_playlist_type", "vod", "-hls_flags", "split_by_time", "-hls_time", "1"],
    "fmp4": ["-hls_playlist_type", "vod", "-hls_segment_type", "fmp4"],
    "fmp4-single-file": ["-hls_playlist_type", "vod", "-hls_segment_type", "fmp4", "-hls_flags", "single_file"],
    "key-info-iv": ["-hls_playlist_type", "vod", "KEYINFO_IV"],
    "key-info-no-iv": ["-hls_playlist_type", "vod", "KEYINFO"],
    "key-info-single-file": ["-hls_playlist_type", "vod", "-hls_flags", "single_file", "KEYINFO_IV"],
    "audio-only": ["-hls_playlist_type", "vod", "AUDIO_ONLY"],
    "video-only": ["-hls_playlist_type", "vod", "VIDEO_ONLY"],
    "hevc": ["-hls_playlist_type", "vod", "HEVC"],
}


def encode(ffmpeg: str, folder: Path, name: str, *, seconds: float = 2) -> Path:
    """One FFmpeg hls-muxer configuration into ``folder/name/index.m3u8``."""
    out = folder / name
    out.mkdir(parents=True, exist_ok=True)
    extra = list(CONFIGS[name])
    inputs = ["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-f", "lavfi", "-i", "sine=frequency=440"]
    video = ["-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0"]
    audio = ["-c:a", "aac", "-b:a", "48k"]
    maps = ["-map", "0:v", "-map", "1:a"]
    if "KEYINFO" in extra or "KEYINFO_IV" in extra:
        (out / "enc.key").write_bytes(KEY)
        lines = ["enc.key", str(out / "enc.key")] + ([IV_HEX] if "KEYINFO_IV" in extra else [])
        (out / "key.info").write_text("\n".join(lines) + "\n")
        extra = [x for x in extra if not x.startswith("KEYINFO")] + ["-hls_key_info_file", str(out / "key.info")]
    if "AUDIO_ONLY" in extra:
        extra.remove("AUDIO_ONLY")
        maps, video = ["-map", "1:a"], []
    if "VIDEO_ONLY" in extra:
        extra.remove("VIDEO_ONLY")
        maps, audio = ["-map", "0:v"], []
    if "HEVC" in extra:
        extra.remove("HEVC")
        video = ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=none:keyint=25"]
    cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", *inputs, "-t", str(seconds), *maps, *video, *audio]
    cmd += ["-f", "hls", "-hls_time", "1", *extra, str(out / "index.m3u8")]
    subprocess.run(cmd, check=True, capture_output=True, cwd=out)
    return out / "index.m3u8"


def write_masters(folder: Path) -> list[Path]:
    """Hand-written masters over the generated media: alternate audio and subtitle renditions, an
    I-frame playlist, and a WebVTT subtitle playlist (RFC 8216 §4.3.4.1, §8.6 style)."""
    (folder / "subs").mkdir(exist_ok=True)
    (folder / "subs" / "en.vtt").write_text("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nhello\n")
    (folder / "subs" / "index.m3u8").write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n"
        "#EXTINF:2.0,\nen.vtt\n#EXT-X-ENDLIST\n"
    )
    renditions = folder / "master-renditions.m3u8"
    renditions.write_text(
        "#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,'
        'URI="audio-only/index.m3u8"\n'
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",DEFAULT=NO,'
        'AUTOSELECT=YES,URI="subs/index.m3u8"\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=400000,AVERAGE-BANDWIDTH=300000,CODECS="avc1.640015,mp4a.40.2",'
        'RESOLUTION=320x180,FRAME-RATE=25.000,AUDIO="aud",SUBTITLES="subs"\n'
        "video-only/index.m3u8\n"
        '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,CODECS="avc1.640015",RESOLUTION=320x180,'
        'URI="ts-iframes-only/index.m3u8"\n'
    )
    ladder = folder / "master-ladder.m3u8"
    ladder.write_text(
        "#EXTM3U\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=300000,CODECS="avc1.640015,mp4a.40.2",RESOLUTION=320x180\n'
        "ts-vod/index.m3u8\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=300000,CODECS="avc1.640015,mp4a.40.2",RESOLUTION=320x180\n'
        "key-info-iv/index.m3u8\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=1.5e5,CODECS="hvc1.1.6.L60.90",RESOLUTION=320x180\n'
        "hevc/index.m3u8\n"
    )
    return [renditions, ladder]


def generate(ffmpeg: str, folder: Path) -> list[Path]:
    """Every FFmpeg configuration plus the hand-written masters over them; returns the playlists."""
    found = [encode(ffmpeg, folder, name) for name in CONFIGS]
    return found + write_masters(folder)


def files() -> list[Path]:
    """The hand-written corpus files."""
    return sorted(p for p in DATA.iterdir() if p.suffix == ".m3u8")


@dataclass
class Outcome:
    location: str
    kind: str  # "report" | "error" | "crash"
    exit_code: int
    json_text: str
    seconds: float
    peak_bytes: int
    detail: str = ""

    @property
    def data(self) -> dict:
        return json.loads(self.json_text)


def run_one(location: str, *, trace_memory: bool = False, **options) -> Outcome:
    """Validate ``location`` as `hlskit validate --json` does, and say how it ended."""
    if trace_memory:
        tracemalloc.start()
    started = time.monotonic()
    try:
        report = validate(location, **options)
        kind, code, text, detail = "report", 1 if report.must else 0, report.to_json(), ""
    except HlskitError as exc:
        kind, code, detail = "error", exc.exit_code, exc.message
        text = json.dumps({"error": exc.message, "exit_code": exc.exit_code})
    except Exception as exc:  # noqa: BLE001 - counted: a crash is what this corpus hunts for
        kind, code, detail = "crash", -1, f"{type(exc).__name__}: {exc}"
        text = ""
    seconds = time.monotonic() - started
    peak = 0
    if trace_memory:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return Outcome(location, kind, code, text, seconds, peak, detail)
