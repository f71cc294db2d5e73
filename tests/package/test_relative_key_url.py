"""Host-independent packages: `--key-url /keys` is written into the playlists as a root-relative
reference that players resolve against the playlist's URL (RFC 3986 §5), so ONE package plays
through two host names: in hls.js (real Chromium) and in FFmpeg (token pass-through)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from hlskit.domain.errors import InputError
from hlskit.domain.plan import PackageOptions
from hlskit.domain.settings import Settings
from hlskit.engines.encode import ffmpeg_exe
from hlskit.keys.tokens import make_token, token_secret
from hlskit.pipeline import run_package
from hlskit.pipeline.plan import check_options
from tests.conftest import _make_clip, run_hlskit
from tests.server.conftest import start_server

SECONDS, FPS = 2, 30


@dataclass
class Hosted:
    port: int
    content_id: str
    token: str
    dir: Path
    home: Path

    def base(self, host: str) -> str:
        return f"http://{host}:{self.port}"


@pytest.fixture(scope="module")
def hosted(tmp_path_factory):
    base = tmp_path_factory.mktemp("relkey")
    home, out = base / "home", base / "out"
    out.mkdir()
    settings = Settings(home=home, media_root=out, x264_preset="ultrafast")
    source = _make_clip(ffmpeg_exe(), base / "clip.mp4", seconds=SECONDS, fps=FPS)
    options = PackageOptions(segment_duration=1, content_id="rel", key_url="/keys")
    result = run_package(str(source), str(out), settings, options)
    assert result.ok, [j.message for j in result.failed]
    server = start_server(settings)
    yield Hosted(
        server.port, "rel", make_token(token_secret(settings.token_config()), "rel", 600), Path(result.dir), home
    )
    server.stop()


@pytest.mark.slow
def test_playlists_carry_the_root_relative_key_uri(hosted):
    playlists = sorted(hosted.dir.glob("*/index.m3u8"))
    assert playlists
    for pl in playlists:
        uris = re.findall(r'#EXT-X-KEY:METHOD=AES-128,URI="([^"]+)"', pl.read_text())
        assert uris and all(re.fullmatch(r"/keys/rel/[^/?]+", u) for u in uris), uris


@pytest.mark.slow
def test_validate_finds_the_keys_on_disk_and_over_http_through_both_hosts(hosted):
    env = {"HLSKIT_HOME": str(hosted.home)}
    on_disk = run_hlskit("validate", str(hosted.dir / "master.m3u8"), env=env)
    assert on_disk.returncode == 0, on_disk.stdout + on_disk.stderr
    for host in ("127.0.0.1", "localhost"):
        url = f"{hosted.base(host)}/media/rel/master.m3u8"
        got = run_hlskit("validate", url, "--key-token", hosted.token, env=env)
        assert got.returncode == 0, got.stdout + got.stderr


@pytest.mark.slow
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_ffmpeg_plays_one_package_through_each_host_with_token_pass_through(hosted, host):
    url = f"{hosted.base(host)}/media/rel/master.m3u8?token={hosted.token}"
    got = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-progress", "pipe:1", "-i", url, "-map", "0:v"]
        + ["-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert got.returncode == 0 and got.stderr.strip() == "", got.stderr
    assert int(re.findall(r"^frame=(\d+)$", got.stdout, re.M)[-1]) == SECONDS * FPS


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_hlsjs_plays_one_package_through_each_host(browser, hosted, host):
    context = browser.new_context()
    page = context.new_page()
    keys_asked: list[str] = []
    page.on("request", lambda r: keys_asked.append(r.url) if "/keys/" in r.url else None)
    try:
        page.goto(f"{hosted.base(host)}/play/rel?token={hosted.token}")
        page.wait_for_function(
            "() => { const s = window.hlskitPlayer && window.hlskitPlayer.state(); return s && s.currentTime > 1; }",
            timeout=30_000,
            polling=250,
        )
        state = page.evaluate("() => window.hlskitPlayer.state()")
    finally:
        context.close()
    assert not [e for e in state["errors"] if e["fatal"]]
    assert state["fragmentsDecrypted"] >= 1
    # The key URI was resolved against the playlist's host, whichever name the page used.
    assert keys_asked and all(u.startswith(f"{hosted.base(host)}/keys/rel/") for u in keys_asked), keys_asked


def test_the_mts_engine_refuses_a_relative_key_url_with_a_sentence(tmp_path):
    got = run_hlskit(
        "package", "oss://in/a.mp4", "--engine", "mts", "--out", "oss://out/hls/", "--key-url", "/keys",
        env={"HLSKIT_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert got.returncode == 2, got.stderr
    assert "needs an absolute --key-url" in got.stderr and "Traceback" not in got.stderr
    assert len(got.stderr.strip().splitlines()) == 1


def test_a_key_url_that_is_neither_absolute_nor_root_relative_is_refused(tmp_path):
    for bad in ("keys", "//evil.example/keys", "ftp://x/keys"):
        with pytest.raises(InputError, match="root-relative"):
            check_options(PackageOptions(key_url=bad), Settings(home=tmp_path))
