"""Fixtures for the key service and media server: a real server on 127.0.0.1 and an encrypted package.

The package here is built by the test itself (FFmpeg clear HLS → KeyStore keys → encrypt_segment,
in the layout `hlskit package` writes: 3 definitions, 2 keys rotating after the first segment,
absolute key URIs pointing at the test server) so that the key URIs reach the server under test.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from hlskit.config import Settings
from hlskit.keys import DataKey, KeyStore, encrypt_segment, key_uri
from hlskit.server import create_app
from hlskit.tokens import make_token, token_secret

HLSKIT = [sys.executable, "-m", "hlskit"]
DEFINITIONS = [("LD", 320, 180, 300), ("SD", 480, 270, 500), ("HD", 640, 360, 800)]
SECONDS, FPS, SEGMENT = 4, 25, 2


@dataclass
class LiveServer:
    url: str
    port: int
    settings: Settings
    _server: object = field(repr=False, default=None)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def start_server(settings: Settings, port: int = 0) -> LiveServer:
    """The real app on 127.0.0.1 in a thread (Werkzeug's threaded server, as `hlskit serve`)."""
    server = make_server("127.0.0.1", port, create_app(settings), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return LiveServer(f"http://127.0.0.1:{server.port}", server.port, settings, server)


@pytest.fixture
def live_server():
    """live_server(settings) -> LiveServer, stopped after the test."""
    started: list[LiveServer] = []

    def start(settings: Settings) -> LiveServer:
        started.append(start_server(settings))
        return started[-1]

    yield start
    for s in started:
        s.stop()


@dataclass
class Package:
    content_id: str
    dir: Path
    clear: Path                      # clear segments, outside the media root (for comparisons)
    keys: list[DataKey]
    definitions: list[str]


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def build_package(out: Path, clear_root: Path, store: KeyStore, key_url: str, content_id: str) -> Package:
    """An encrypted 3-definition package in the `hlskit package` layout (see the brief)."""
    keys = [store.create(content_id), store.create(content_id)]
    pdir = out / content_id
    variants = []
    for name, w, h, kbps in DEFINITIONS:
        clear = clear_root / content_id / name
        clear.mkdir(parents=True)
        subprocess.run([
            _ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=s={w}x{h}:r={FPS}:d={SECONDS}",
            "-f", "lavfi", "-i", f"sine=f=440:sample_rate=44100:d={SECONDS}",
            "-c:v", "libx264", "-preset", "ultrafast", "-b:v", f"{kbps}k", "-pix_fmt", "yuv420p",
            "-g", str(SEGMENT * FPS), "-keyint_min", str(SEGMENT * FPS), "-sc_threshold", "0",
            "-c:a", "aac", "-b:a", "64k", "-f", "hls", "-hls_time", str(SEGMENT),
            "-hls_playlist_type", "vod", "-start_number", "1",
            "-hls_segment_filename", str(clear / "index-%05d.ts"), str(clear / "clear.m3u8"),
        ], check=True, capture_output=True)
        lines = (clear / "clear.m3u8").read_text().splitlines()
        durations = [float(l[8:].rstrip(",")) for l in lines if l.startswith("#EXTINF:")]
        segments = [l for l in lines if l.endswith(".ts")]
        ddir = pdir / name
        ddir.mkdir(parents=True)
        playlist = ["#EXTM3U", "#EXT-X-VERSION:3",
                    f"#EXT-X-TARGETDURATION:{max(round(d) for d in durations)}",
                    "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD"]
        for i, (seg, dur) in enumerate(zip(segments, durations)):
            key = keys[0] if i == 0 else keys[1]     # rotation after the first segment
            if i <= 1:
                playlist.append(f'#EXT-X-KEY:METHOD=AES-128,URI="{key.uri(key_url)}",IV={key.iv_hex}')
            (ddir / seg).write_bytes(encrypt_segment((clear / seg).read_bytes(), key.key, key.iv))
            playlist += [f"#EXTINF:{dur:.3f},", seg]
        playlist.append("#EXT-X-ENDLIST")
        (ddir / "index.m3u8").write_text("\n".join(playlist) + "\n")
        variants.append(f'#EXT-X-STREAM-INF:BANDWIDTH={(kbps + 64) * 1200},RESOLUTION={w}x{h},'
                        f'CODECS="avc1.42c01e,mp4a.40.2"\n{name}/index.m3u8')
    (pdir / "master.m3u8").write_text("#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n" + "\n".join(variants) + "\n")
    (pdir / "hlskit.json").write_text('{"hlskit": 1, "content_id": "%s"}\n' % content_id)
    return Package(content_id, pdir, clear_root / content_id, keys, [d[0] for d in DEFINITIONS])


@dataclass
class Site:
    """One running server over one home and media root, with its encrypted package."""

    server: LiveServer
    package: Package
    home: Path
    out: Path
    secret: bytes

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def settings(self) -> Settings:
        return self.server.settings

    def token(self, content_id: str | None = None, ttl: int = 300, client_ip: str | None = None) -> str:
        return make_token(self.secret, content_id or self.package.content_id, ttl, client_ip)

    def key_url(self, key: DataKey) -> str:
        return key_uri(self.url + "/keys", key.content_id, key.key_id)

    def env(self) -> dict[str, str]:
        return {**{k: v for k, v in os.environ.items() if not k.startswith("HLSKIT_")},
                "HLSKIT_HOME": str(self.home), "HLSKIT_MEDIA_ROOT": str(self.out)}


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Site:
    base = tmp_path_factory.mktemp("server-site")
    home, out = base / "home", base / "out"
    out.mkdir()
    # Settings built directly, so no HLSKIT_* variable of the caller leaks in.
    settings = Settings(home=home, media_root=out, allowed_origins="self,https://player.example")
    server = start_server(settings)
    package = build_package(out, base / "clear", KeyStore.from_settings(settings),
                            server.url + "/keys", "talk")
    yield Site(server, package, home, out, token_secret(settings))
    server.stop()


@pytest.fixture(scope="session")
def hlskit_cli():
    """hlskit_cli(*args, env=...) runs the real CLI in a subprocess -> CompletedProcess (text)."""
    def run(*args: str, env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([*HLSKIT, *args], capture_output=True, text=True, env=env, timeout=timeout)
    return run

