"""An encrypted test package built here, in the layout `hlskit package` writes.

FFmpeg clear HLS → KeyStore keys → encrypt_segment: 3 definitions with aligned 2 s segments, 2 keys
rotating after the first segment, absolute key URIs pointing at the server under test (so FFmpeg's
key requests reach it), and a master playlist.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from hlskit.domain.keys import DataKey
from hlskit.hls.crypto import encrypt_segment
from hlskit.stores.keys import KeyStore

DEFINITIONS = [("LD", 320, 180, 300), ("SD", 480, 270, 500), ("HD", 640, 360, 800)]
SECONDS, FPS, SEGMENT = 4, 25, 2


@dataclass
class Package:
    content_id: str
    dir: Path
    clear: Path  # clear segments, outside the media root (for comparisons)
    keys: list[DataKey]
    definitions: list[str]


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def build_package(out: Path, clear_root: Path, store: KeyStore, key_url: str, content_id: str) -> Package:
    """An encrypted 3-definition package of a SECONDS-long clip at FPS."""
    keys = [store.create(content_id), store.create(content_id)]
    pdir = out / content_id
    variants = []
    for name, w, h, kbps in DEFINITIONS:
        clear = clear_root / content_id / name
        clear.mkdir(parents=True)
        subprocess.run(
            [
                _ffmpeg(),
                "-hide_banner",
                "-nostdin",
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"testsrc2=s={w}x{h}:r={FPS}:d={SECONDS}",
                "-f",
                "lavfi",
                "-i",
                f"sine=f=440:sample_rate=44100:d={SECONDS}",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-b:v",
                f"{kbps}k",
                "-pix_fmt",
                "yuv420p",
                "-g",
                str(SEGMENT * FPS),
                "-keyint_min",
                str(SEGMENT * FPS),
                "-sc_threshold",
                "0",
                "-c:a",
                "aac",
                "-b:a",
                "64k",
                "-f",
                "hls",
                "-hls_time",
                str(SEGMENT),
                "-hls_playlist_type",
                "vod",
                "-start_number",
                "1",
                "-hls_segment_filename",
                str(clear / "index-%05d.ts"),
                str(clear / "clear.m3u8"),
            ],
            check=True,
            capture_output=True,
        )
        lines = (clear / "clear.m3u8").read_text().splitlines()
        durations = [float(l[8:].rstrip(",")) for l in lines if l.startswith("#EXTINF:")]
        segments = [l for l in lines if l.endswith(".ts")]
        ddir = pdir / name
        ddir.mkdir(parents=True)
        playlist = [
            "#EXTM3U",
            "#EXT-X-VERSION:3",
            f"#EXT-X-TARGETDURATION:{max(round(d) for d in durations)}",
            "#EXT-X-MEDIA-SEQUENCE:0",
            "#EXT-X-PLAYLIST-TYPE:VOD",
        ]
        for i, (seg, dur) in enumerate(zip(segments, durations)):
            key = keys[0] if i == 0 else keys[1]  # rotation after the first segment
            if i <= 1:
                playlist.append(f'#EXT-X-KEY:METHOD=AES-128,URI="{key.uri(key_url)}",IV={key.iv_hex}')
            (ddir / seg).write_bytes(encrypt_segment((clear / seg).read_bytes(), key.key, key.iv))
            playlist += [f"#EXTINF:{dur:.3f},", seg]
        playlist.append("#EXT-X-ENDLIST")
        (ddir / "index.m3u8").write_text("\n".join(playlist) + "\n")
        variants.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={(kbps + 64) * 1200},RESOLUTION={w}x{h},"
            f'CODECS="avc1.42c01e,mp4a.40.2"\n{name}/index.m3u8'
        )
    (pdir / "master.m3u8").write_text("#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n" + "\n".join(variants) + "\n")
    (pdir / "hlskit.json").write_text('{"hlskit": 1, "content_id": "%s"}\n' % content_id)
    return Package(content_id, pdir, clear_root / content_id, keys, [d[0] for d in DEFINITIONS])
