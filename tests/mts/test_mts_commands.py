"""The mts helper commands, run in-process with the real CLI group against the OSS stand-in."""

from __future__ import annotations

import pytest
import requests
from click.testing import CliRunner

from hlskit.cli import main

pytestmark = pytest.mark.slow


def test_upload_then_oss_url(cloud, source_clip):
    runner = CliRunner()
    result = runner.invoke(main, ["upload", str(source_clip), "oss://in-bucket/talks/"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("oss://in-bucket/talks/talk.mp4")
    assert cloud.oss.get("in-bucket", "talks/talk.mp4") == source_clip.read_bytes()

    url = runner.invoke(main, ["oss-url", "oss://in-bucket/talks/talk.mp4", "--expires", "120"])
    assert url.exit_code == 0 and "Signature=" in url.output
    assert requests.get(url.output.strip()).content == source_clip.read_bytes()


def test_bad_input_is_one_line_without_traceback(cloud, monkeypatch):
    runner = CliRunner()
    missing = runner.invoke(main, ["oss-url", "oss://in-bucket/none.mp4"])
    assert (
        missing.exit_code == 2
        and missing.output.strip()
        == "error: oss://in-bucket/none.mp4 does not exist: check the key (list it in the OSS console)."
    )
    monkeypatch.delenv("HLSKIT_MTS_ACCESS_KEY_SECRET")
    creds = runner.invoke(main, ["oss-url", "oss://in-bucket/none.mp4"])
    assert creds.exit_code == 2 and "credentials are missing" in creds.output and "Traceback" not in creds.output
    assert "help" in runner.invoke(main, ["upload", "--help"]).output.lower()
