"""An AES-128 fMP4 package with H.264 and HEVC variants, served by the real app on 127.0.0.1.

Debian's own FFmpeg (tests.tiers.debian_ffmpeg, not the bundled build that made the package)
decodes every definition through the key service with a playback token: the token pass-through
carries it from the master URL to the key URIs. MP4 downloads are clear, so the media server hands them out
only for a token of their content id.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from hlskit.domain.plan import PackageOptions
from hlskit.domain.settings import Settings
from hlskit.keys.tokens import make_token, token_secret
from hlskit.pipeline import run_package
from tests.conftest import _make_clip
from tests.server.conftest import LiveServer, start_server
from tests.tiers import debian_ffmpeg

pytestmark = pytest.mark.slow

SECONDS, FPS = 3, 30


@dataclass
class Site:
    server: LiveServer
    dir: Path
    manifest: dict
    secret: bytes

    def token(self, content_id: str = "hv") -> str:
        return make_token(self.secret, content_id, 300)


@pytest.fixture(scope="module")
def hevc_site(tmp_path_factory, ffmpeg):
    base = tmp_path_factory.mktemp("fmp4-site")
    out = base / "out"
    out.mkdir()
    settings = Settings(home=base / "home", media_root=out, x264_preset="ultrafast")
    server = start_server(settings)
    source = _make_clip(ffmpeg, base / "clip.mp4", width=854, height=480, seconds=SECONDS, fps=FPS)
    options = PackageOptions(
        ladder="LD,SD",
        segment_duration=1,
        content_id="hv",
        codecs=("h264", "hevc"),
        mp4=True,
        key_url=server.url + "/keys",
    )
    result = run_package(str(source), str(out), settings, options)
    assert result.ok, [(j.definition, j.message) for j in result.failed]
    yield Site(server, Path(result.dir), result.manifest, token_secret(settings.token_config()))
    server.stop()


def decode(url: str, ffmpeg: str | None = None) -> subprocess.CompletedProcess:
    ffmpeg = ffmpeg or debian_ffmpeg()
    args = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-nostats", "-progress", "pipe:1", "-i", url]
    return subprocess.run(args + ["-map", "0:v:0", "-f", "null", "-"], capture_output=True, text=True, timeout=120)


def test_debian_ffmpeg_decodes_every_definition_through_the_key_service(hevc_site):
    assert shutil.which(debian_ffmpeg()), "Debian's ffmpeg is missing: apt-get install ffmpeg (make test does it)"
    names = [d.name for d in hevc_site.manifest.definitions]
    assert names == ["LD", "SD", "LD-hevc", "SD-hevc"]
    for name in names:
        url = f"{hevc_site.server.url}/media/hv/{name}/index.m3u8?token={hevc_site.token()}"
        result = decode(url)
        assert result.returncode == 0, (name, result.stderr)
        assert result.stderr.strip() == "", (name, result.stderr)  # no decode, key or demux error
        frames = int(re.findall(r"^frame=(\d+)$", result.stdout, re.M)[-1])
        assert frames == SECONDS * FPS, name


def test_the_master_with_h264_and_hevc_variants_decodes_and_needs_the_token(hevc_site):
    master = f"{hevc_site.server.url}/media/hv/master.m3u8"
    text = urllib.request.urlopen(master).read().decode()
    codecs = re.findall(r'CODECS="([^"]+)"', text)
    assert {c.split(".")[0] for c in codecs} >= {"avc1", "hvc1"}
    assert decode(f"{master}?token={hevc_site.token()}").returncode == 0
    refused = decode(master)  # no token: the key service answers 401, and nothing decodes
    assert refused.returncode != 0 and ("401" in refused.stderr or "Unable to open key file" in refused.stderr)


def test_mp4_downloads_need_a_token_of_their_content(hevc_site):
    url = f"{hevc_site.server.url}/media/hv/downloads/SD-hevc.mp4"
    for token, status in ((None, 401), (hevc_site.token("other"), 403)):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + (f"?token={token}" if token else ""))
        assert refused.value.code == status
        assert b"ftyp" not in refused.value.read()
    with urllib.request.urlopen(f"{url}?token={hevc_site.token()}") as answer:
        body = answer.read()
        assert answer.headers["Content-Type"] == "video/mp4"
        assert answer.headers["Cache-Control"] == "private, no-store"
    assert body == (hevc_site.dir / "downloads" / "SD-hevc.mp4").read_bytes()
    # Encrypted segments stay public, as before: they are useless without a key.
    seg = urllib.request.urlopen(f"{hevc_site.server.url}/media/hv/SD-hevc/index-00002.m4s").read()
    assert seg == (hevc_site.dir / "SD-hevc" / "index-00002.m4s").read_bytes()
