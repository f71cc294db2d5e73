"""One small package of each kind the client table covers, made once per test session.

A 320x180, 3 s clip (the sample recipe) with 1 s segments and two definitions of different sizes
(LD 192x108, SD 320x180), so a player that adapts switches between them and the switch shows
as a new picture size. One hlskit home, one real server on 127.0.0.1 for them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hlskit.domain.plan import PackageOptions
from hlskit.domain.settings import Settings
from hlskit.keys.tokens import make_token, token_secret
from hlskit.pipeline import run_package
from tests.conftest import _make_clip
from tests.server.conftest import LiveServer, start_server

SECONDS, FPS = 3, 30
FRAMES = SECONDS * FPS
LADDER = """
[[definition]]
name = "LD"
width = 192
video_kbps = 150
audio_kbps = 32

[[definition]]
name = "SD"
width = 320
video_kbps = 400
audio_kbps = 64
"""

# The table's columns: content id -> what `hlskit package` is asked for.
KINDS: dict[str, dict] = {
    "ts-clear": {"format": "ts", "encrypt": False},
    "ts-aes": {"format": "ts"},
    "ts-rotation": {"format": "ts", "rotate_every": 1},
    "ts-lead": {"format": "ts", "clear_lead": 1},
    "fmp4-clear": {"format": "fmp4", "encrypt": False},
    "fmp4-aes": {"format": "fmp4"},
    "fmp4-rotation": {"format": "fmp4", "rotate_every": 1},
    "fmp4-lead": {"format": "fmp4", "clear_lead": 1},
}
# The codec package: one definition in H.264, HEVC and AV1, AES-128 fMP4.
CODECS = "fmp4-codecs"
CODEC_VARIANTS = ("LD", "LD-hevc", "LD-av1")


@dataclass
class Site:
    server: LiveServer
    out: Path
    settings: Settings
    variants: dict[str, list[str]] = field(default_factory=dict)  # content id -> definitions

    def token(self, content_id: str) -> str:
        return make_token(token_secret(self.settings.token_config()), content_id, 3600)

    def url(self, content_id: str, playlist: str = "master.m3u8", token: bool = True) -> str:
        query = f"?token={self.token(content_id)}" if token else ""
        return f"{self.server.url}/media/{content_id}/{playlist}{query}"


def build(base: Path, ffmpeg: str, codecs: bool = True) -> Site:
    out = base / "out"
    out.mkdir(parents=True)
    ladder = base / "ladder.toml"
    ladder.write_text(LADDER)
    # Any origin may fetch keys with a token: the browser pages come from another origin.
    settings = Settings(home=base / "home", media_root=out, x264_preset="ultrafast", allowed_origins="self,*")
    server = start_server(settings)
    source = _make_clip(ffmpeg, base / "clip.mp4", width=320, height=180, seconds=SECONDS, fps=FPS)
    site = Site(server, out, settings)
    jobs = {cid: {"ladder": str(ladder), **kind} for cid, kind in KINDS.items()}
    if codecs:
        jobs[CODECS] = {"ladder": "LD", "codecs": ("h264", "hevc", "av1")}
    for cid, kind in jobs.items():
        options = PackageOptions(segment_duration=1, content_id=cid, key_url="/keys", **kind)
        result = run_package(str(source), str(out), settings, options)
        assert result.ok, (cid, [(j.definition, j.message) for j in result.failed])
        site.variants[cid] = [d.name for d in result.manifest.definitions]
    return site
