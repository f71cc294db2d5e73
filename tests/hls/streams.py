"""Test streams: real FFmpeg HLS output, encrypted like hlskit does, and a tiny key server."""

from __future__ import annotations

import secrets
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from hlskit.hls.crypto import encrypt_segment

SOURCE = "testsrc2=size={size}:rate=30"


def encode(
    ffmpeg: str,
    folder: Path,
    *,
    size: str = "320x180",
    kbps: int = 300,
    seconds: float = 4,
    gop: int = 60,
    scenecut: bool = False,
    hls_time: int = 2,
    x264: list[str] | None = None,
) -> Path:
    """One definition as FFmpeg's hls muxer writes it: <folder>/index.m3u8 + index-NNNNN.ts."""
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
        SOURCE.format(size=size),
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        str(seconds),
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-b:v",
        f"{kbps}k",
        "-g",
        str(gop),
        *(["-keyint_min", str(gop), "-sc_threshold", "0"] if not scenecut else []),
        *(x264 or []),
        "-c:a",
        "aac",
        "-b:a",
        "64k",
        "-f",
        "hls",
        "-hls_time",
        str(hls_time),
        "-hls_playlist_type",
        "vod",
        "-hls_segment_filename",
        str(folder / "index-%05d.ts"),
        str(folder / "index.m3u8"),
    ]
    subprocess.run(args, check=True, capture_output=True)
    return folder / "index.m3u8"


def encrypt_playlist(playlist: Path, key: bytes, key_uri: str, *, explicit_iv: bool = True) -> bytes:
    """Encrypt every segment in place (AES-128-CBC, PKCS#7) and add the EXT-X-KEY; returns the IV."""
    iv = secrets.token_bytes(16)
    out = []
    msn = 0
    for line in playlist.read_text().splitlines():
        if line.startswith("#EXTINF") and not any(x.startswith("#EXT-X-KEY") for x in out):
            out.append(f'#EXT-X-KEY:METHOD=AES-128,URI="{key_uri}"' + (f",IV=0x{iv.hex()}" if explicit_iv else ""))
        if line and not line.startswith("#"):
            seg = playlist.parent / line
            seg_iv = iv if explicit_iv else msn.to_bytes(16, "big")
            seg.write_bytes(encrypt_segment(seg.read_bytes(), key, seg_iv))
            msn += 1
        out.append(line)
    playlist.write_text("\n".join(out) + "\n")
    return iv


class KeyServer:
    """A tiny key server on 127.0.0.1: GET /<name> answers ``bodies[name]`` and records headers."""

    def __init__(self):
        self.bodies: dict[str, bytes] = {}
        self.requests: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                server.requests.append(dict(self.headers))
                body = server.bodies.get(self.path.strip("/"))
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
