"""hls.js plays across key changes and a clear lead, with keys from the key service (issue 7)."""

from __future__ import annotations

import pytest

from hlskit.config import load_settings
from hlskit.domain.plan import PackageOptions
from hlskit.keys.tokens import make_token, token_secret
from hlskit.pipeline import run_package
from tests.browser.test_player import wait_state

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_plays_across_rotated_keys_after_a_clear_lead(page, served, make_clip, tmp_path, monkeypatch):
    src = make_clip(tmp_path / "rot.mp4", width=320, height=180, seconds=8)
    monkeypatch.setenv("HLSKIT_HOME", str(served.home))  # the served key service reads this key store
    settings = load_settings()
    result = run_package(
        str(src),
        str(served.dir.parent),
        settings,
        PackageOptions(
            segment_duration=1, rotate_every=2, clear_lead=1, content_id="rot", key_url=f"{served.base}/keys"
        ),
    )
    token = make_token(token_secret(settings.token_config()), "rot", 600)
    key_uris = {k.uri for k in result.manifest.keys}
    assert len(key_uris) == 4  # 8 segments: 1 clear, then 7 encrypted in runs of 2

    page.goto(f"{served.base}/play/rot?token={token}")
    s = wait_state(page, "s.currentTime > 7.3", timeout=60)
    assert not s["errors"], s["errors"]
    assert {k["uri"] for k in s["keys"]} == key_uris  # every rotated key was fetched and used
    assert s["fragmentsDecrypted"] >= 7
