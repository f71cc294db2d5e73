"""fMP4 test streams: real FFmpeg fMP4 HLS output (H.264, HEVC, AV1 with AAC), encrypted as hlskit
does (whole-file AES-128-CBC of the init section and of each segment) and listed by the one
playlist writer (hlskit.hls.write)."""

from __future__ import annotations

import re
import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from hlskit.hls.crypto import encrypt_segment
from hlskit.hls.write import Entry, KeyTag, media_playlist

VIDEO = {
    "h264": ["-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-keyint_min", "30", "-sc_threshold", "0"],
    "hevc": [
        "-c:v",
        "libx265",
        "-preset",
        "ultrafast",
        "-tag:v",
        "hvc1",
        "-x265-params",
        "keyint=30:min-keyint=30:scenecut=0:log-level=error",
    ],
    "av1": ["-c:v", "libsvtav1", "-preset", "12", "-g", "30", "-svtav1-params", "keyint=30"],
}


def encode_fmp4(
    ffmpeg: str, folder: Path, *, codec: str = "h264", size: str = "320x180", seconds: float = 3, kbps: int = 300
) -> Path:
    """One definition as FFmpeg's hls muxer writes fMP4: init.mp4, index-00001.m4s ... and ffmpeg.m3u8
    (1 s segments, a keyframe every 30 frames at 30 fps)."""
    folder.mkdir(parents=True, exist_ok=True)
    args = [
        ffmpeg,
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size={size}:rate=30",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        str(seconds),
        "-map",
        "0:v",
        "-map",
        "1:a",
        *VIDEO[codec],
        "-b:v",
        f"{kbps}k",
        "-c:a",
        "aac",
        "-b:a",
        "64k",
        "-f",
        "hls",
        "-hls_time",
        "1",
        "-hls_playlist_type",
        "vod",
        "-hls_segment_type",
        "fmp4",
        "-hls_fmp4_init_filename",
        "init.mp4",
        "-start_number",
        "1",
        "-hls_segment_filename",
        str(folder / "index-%05d.m4s"),
        str(folder / "ffmpeg.m3u8"),
    ]
    subprocess.run(args, check=True, capture_output=True)
    return folder / "ffmpeg.m3u8"


@dataclass
class Packaged:
    """What :func:`package` did: the playlist, and the key and IV of each file it encrypted."""

    playlist: Path
    keys: dict[str, bytes] = field(default_factory=dict)  # key URI -> key
    files: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)  # file name -> (key, IV)
    plain: dict[str, bytes] = field(default_factory=dict)  # file name -> bytes before encryption

    def resolver(self, uri: str) -> bytes | None:
        return self.keys.get(uri)


def package(
    folder: Path,
    *,
    key_url: str | None = "https://keys.example.test/c",
    clear_lead: int = 0,
    rotate_every: int | None = None,
    keys: list[bytes] | None = None,
) -> Packaged:
    """Encrypt FFmpeg's fMP4 output in place and write index.m3u8 as hlskit does: the init section
    with the key before its MAP (IV explicit), segments after ``clear_lead`` clear ones encrypted,
    a new key every ``rotate_every`` segments. ``key_url`` None: everything stays clear."""
    listed = (folder / "ffmpeg.m3u8").read_text()
    durations = [float(d) for d in re.findall(r"#EXTINF:([\d.]+),", listed)]
    names = [ln for ln in listed.splitlines() if ln and not ln.startswith("#")]
    done = Packaged(folder / "index.m3u8")
    keys = list(keys or [])

    def key_tag(n: int) -> KeyTag:
        if key_url is None:
            return KeyTag()
        while len(keys) <= n:
            keys.append(secrets.token_bytes(16))
        uri = f"{key_url}/k{n}"
        done.keys[uri] = keys[n]
        return KeyTag("AES-128", uri, secrets.token_bytes(16))

    def encrypt(name: str, tag: KeyTag) -> None:
        path = folder / name
        done.plain[name] = path.read_bytes()
        if tag.method != "NONE":
            key = done.keys[tag.uri]
            path.write_bytes(encrypt_segment(done.plain[name], key, tag.iv))
            done.files[name] = (key, tag.iv)

    init_tag = key_tag(0) if clear_lead == 0 else KeyTag()
    encrypt("init.mp4", init_tag)
    entries = []
    current = init_tag
    for i, (name, dur) in enumerate(zip(names, durations)):
        if i < clear_lead:
            tag = KeyTag()
        elif i == clear_lead and clear_lead:
            tag = key_tag(0)
        elif rotate_every and (i - clear_lead) % rotate_every == 0 and i > clear_lead:
            tag = key_tag((i - clear_lead) // rotate_every)
        else:
            tag = current
        current = tag
        encrypt(name, tag)
        entries.append(Entry(name, dur, tag))
    target = max(round(d) for d in durations)
    text = media_playlist(entries, target_duration=target, version=6, init=Entry("init.mp4", 0, init_tag))
    done.playlist.write_text(text)
    return done
