"""The player's definition menu shows each definition's VMAF once `hlskit quality` has scored the package."""

from __future__ import annotations

import pytest

from hlskit.config import load_settings
from tests.conftest import run_hlskit
from tests.server.conftest import start_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_menu_shows_vmaf_from_the_scored_package(tmp_path, make_clip, browser, monkeypatch):
    home, out = tmp_path / "home", tmp_path / "out"
    monkeypatch.setenv("HLSKIT_HOME", str(home))
    monkeypatch.delenv("HLSKIT_CONFIG", raising=False)
    server = start_server(load_settings(media_root=str(out)))
    try:
        src = make_clip(tmp_path / "src.mp4", width=960, height=540, seconds=3)
        env = {"HLSKIT_HOME": str(home)}
        done = run_hlskit(
            "package",
            str(src),
            "--out",
            str(out),
            "--content-id",
            "scored",
            "--ladder",
            "LD,SD",
            "--segment-duration",
            "1",
            "--key-url",
            f"{server.url}/keys",
            env=env,
        )
        assert done.returncode == 0, done.stderr
        page = browser.new_page()
        page.goto(f"{server.url}/play/scored")
        page.wait_for_selector("#menu-buttons button >> nth=2")
        assert "VMAF" not in page.inner_text("#menu-buttons")  # not scored yet: nothing invented
        assert run_hlskit("quality", str(out / "scored"), "--subsample", "3", env=env).returncode == 0
        page.goto(f"{server.url}/play/scored")
        page.wait_for_selector("#menu-buttons button >> nth=2")
        menu = page.inner_text("#menu-buttons")
        assert menu.count("VMAF ") == 2, menu
        page.close()
    finally:
        server.stop()
