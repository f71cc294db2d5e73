"""hls.js in Chromium plays fMP4 (CMAF) packages: AES-128 H.264 across rotated keys after a clear
lead, and AV1 (issue 14). Keys come from the key service with a playback token."""

from __future__ import annotations

import pytest

from hlskit.config import load_settings
from hlskit.domain.plan import PackageOptions
from hlskit.keys.tokens import make_token, token_secret
from hlskit.pipeline import run_package
from tests.browser.test_player import wait_state

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _package(served, make_clip, tmp_path, monkeypatch, content_id: str, **options):
    src = make_clip(tmp_path / f"{content_id}.mp4", width=320, height=180, seconds=6)
    monkeypatch.setenv("HLSKIT_HOME", str(served.home))  # the served key service reads this key store
    monkeypatch.setenv("HLSKIT_X264_PRESET", "ultrafast")
    settings = load_settings()
    opts = PackageOptions(segment_duration=1, content_id=content_id, key_url=f"{served.base}/keys", **options)
    result = run_package(str(src), str(served.dir.parent), settings, opts)
    assert result.ok, [(j.definition, j.message) for j in result.failed]
    return result, make_token(token_secret(settings.token_config()), content_id, 600)


def test_fmp4_h264_plays_across_rotated_keys_after_a_clear_lead(page, served, make_clip, tmp_path, monkeypatch):
    result, token = _package(
        served, make_clip, tmp_path, monkeypatch, "cmaf", format="fmp4", ladder="LD", rotate_every=2, clear_lead=1
    )
    text = (served.dir.parent / "cmaf" / "LD" / "index.m3u8").read_text()
    assert "#EXT-X-MAP" in text and ".m4s" in text
    key_uris = {k.uri for k in result.manifest.keys}
    assert len(key_uris) == 3  # 6 segments: 1 clear, then 5 encrypted in runs of 2
    page.goto(f"{served.base}/play/cmaf?token={token}")
    s = wait_state(page, "s.currentTime > 5.3", timeout=60)
    assert not s["errors"], s["errors"]
    assert {k["uri"] for k in s["keys"]} == key_uris  # every rotated key was fetched and used
    assert s["fragmentsDecrypted"] >= 5


def test_fmp4_av1_plays(page, served, make_clip, tmp_path, monkeypatch):
    result, token = _package(served, make_clip, tmp_path, monkeypatch, "av1pkg", codecs=("av1",), ladder="LD")
    master = (served.dir.parent / "av1pkg" / "master.m3u8").read_text()
    assert 'CODECS="av01.' in master
    page.goto(f"{served.base}/play/av1pkg?token={token}")
    s = wait_state(page, "s.currentTime > 5.3", timeout=90)
    assert not s["errors"], s["errors"]
    assert s["fragmentsDecrypted"] >= 5
    assert page.evaluate("document.querySelector('video').getVideoPlaybackQuality().totalVideoFrames") > 100


def test_a_master_with_h264_hevc_and_av1_variants_plays_what_chromium_decodes(
    page, served, make_clip, tmp_path, monkeypatch
):
    """Chromium here has no HEVC decoder: hls.js must drop the hvc1 variants, start on H.264 (the
    master's first variant) and play without an error."""
    _, token = _package(served, make_clip, tmp_path, monkeypatch, "mixed", codecs=("h264", "hevc", "av1"), ladder="LD")
    page.goto(f"{served.base}/play/mixed?token={token}")
    s = wait_state(page, "s.currentTime > 5.3", timeout=90)
    assert not s["errors"], s["errors"]
    codecs = page.evaluate("window.hlskitHls.levels.map(l => l.videoCodec)")
    assert codecs and all(not c.startswith(("hvc1", "hev1")) for c in codecs), codecs
    assert any(c.startswith("avc1") for c in codecs), codecs
