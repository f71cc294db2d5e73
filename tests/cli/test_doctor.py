"""`hlskit doctor`: each check's verdict and the fix it names, not only the exit code."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hlskit.stores.keys import load_master_key

from .conftest import clean_env, hlskit


@pytest.fixture
def ffmpeg_standin(tmp_path) -> dict[str, str]:
    """HLSKIT_FFMPEG naming a script that answers `-version` as FFmpeg does: the checks of the home
    and its secrets need no real FFmpeg (the first test checks the real bundled one)."""
    path = tmp_path / "ffmpeg-standin"
    path.write_text("#!/bin/sh\necho 'ffmpeg version 0-standin Copyright (c) the FFmpeg developers'\n")
    path.chmod(0o755)
    return {"HLSKIT_FFMPEG": str(path)}


def doctor(cwd: Path, **env: str) -> tuple[int, dict[str, dict]]:
    done = hlskit("doctor", "--json", cwd=cwd, env=clean_env(**env))
    assert done.returncode in (0, 1), done.stderr
    out = json.loads(done.stdout)
    assert out["ok"] == (done.returncode == 0)
    return done.returncode, {c["name"]: c for c in out["checks"]}


@pytest.mark.slow  # runs the real bundled FFmpeg (and Chromium's --version)
def test_a_healthy_project_home_passes_every_check(project):
    home = project / ".hlskit"
    load_master_key(home / "master.key")  # what the first `hlskit package` does
    assert hlskit("token", "sample", cwd=project).returncode == 0  # makes token.secret
    code, checks = doctor(project)
    assert code == 0, checks
    assert {n: c["status"] for n, c in checks.items()} == {
        "ffmpeg": "ok",
        "hls.js": "ok",
        "chromium": "ok",
        "home": "ok",
        "master key": "ok",
        "token secret": "ok",
    }
    assert checks["ffmpeg"]["detail"].startswith("bundled ") and "ffmpeg version" in checks["ffmpeg"]["detail"]
    assert checks["hls.js"]["detail"].startswith("hls.js 1.7.4 at ")
    assert "Chromium" in checks["chromium"]["detail"]
    assert checks["home"]["detail"] == f"{home} (mode 0700)"
    assert checks["master key"]["detail"] == f"{home / 'master.key'} (mode 0600, 32 bytes)"
    assert checks["token secret"]["detail"].startswith(f"{home / 'token.secret'} (mode 0600)")
    secret = (home / "token.secret").read_text().strip()
    text = hlskit("doctor", cwd=project)
    assert text.returncode == 0 and text.stdout.rstrip().endswith("no problems found.")
    assert secret not in text.stdout and load_master_key(home / "master.key").hex() not in text.stdout


def test_an_empty_home_is_fine_and_says_what_will_be_created(project, ffmpeg_standin):
    code, checks = doctor(project, **ffmpeg_standin)
    assert code == 0
    assert "does not exist yet; the first package creates it" in checks["master key"]["detail"]
    assert "does not exist yet" in checks["token secret"]["detail"]


def test_open_permissions_fail_and_name_chmod(project, ffmpeg_standin):
    home = project / ".hlskit"
    load_master_key(home / "master.key")
    assert hlskit("token", "sample", cwd=project).returncode == 0
    os.chmod(home, 0o777)
    os.chmod(home / "master.key", 0o644)
    os.chmod(home / "token.secret", 0o640)
    code, checks = doctor(project, **ffmpeg_standin)
    assert code == 1
    assert checks["home"]["status"] == "fail" and "writable by other users (mode 0777)" in checks["home"]["detail"]
    assert checks["home"]["fix"] == f"run chmod 700 {home}"
    assert checks["master key"]["status"] == "fail"
    assert checks["master key"]["fix"] == f"run chmod 600 {home / 'master.key'}"
    assert checks["token secret"]["status"] == "fail"
    assert checks["token secret"]["fix"] == f"run chmod 600 {home / 'token.secret'}"
    assert checks["ffmpeg"]["status"] == "ok"  # one problem does not hide the others' verdicts

    text = hlskit("doctor", cwd=project, env=clean_env(**ffmpeg_standin))
    assert text.returncode == 1
    assert f"FAIL  home          {home} is writable by other users (mode 0777)" in text.stdout
    assert f": run chmod 700 {home}." in text.stdout
    assert text.stdout.rstrip().endswith("3 problems: fix the lines marked FAIL.")

    os.chmod(home, 0o755)  # readable only: worth fixing, not broken
    os.chmod(home / "master.key", 0o600)
    os.chmod(home / "token.secret", 0o600)
    code, checks = doctor(project, **ffmpeg_standin)
    assert code == 0 and checks["home"]["status"] == "warn" and checks["home"]["fix"] == f"run chmod 700 {home}"


def test_a_weak_token_secret_warns_and_fails_in_production(project, ffmpeg_standin):
    code, checks = doctor(project, **ffmpeg_standin, HLSKIT_TOKEN_SECRET="changeme")
    assert code == 0 and checks["token secret"]["status"] == "warn"
    assert "env (HLSKIT_TOKEN_SECRET)" in checks["token secret"]["detail"]
    assert "openssl rand -hex 32" in checks["token secret"]["fix"]
    code, checks = doctor(project, **ffmpeg_standin, HLSKIT_TOKEN_SECRET="changeme", HLSKIT_PRODUCTION="1")
    assert code == 1 and checks["token secret"]["status"] == "fail"
    code, checks = doctor(project, **ffmpeg_standin, HLSKIT_PRODUCTION="1")
    assert code == 1
    assert checks["token secret"]["status"] == "fail" and "HLSKIT_TOKEN_SECRET" in checks["token secret"]["fix"]
    assert checks["master key"]["status"] == "fail" and "restore it from backup" in checks["master key"]["fix"]
    strong = "s" * 20 + "Xy9Qw7Er5Ty3Ui1"
    code, checks = doctor(project, **ffmpeg_standin, HLSKIT_TOKEN_SECRET=strong)
    assert checks["token secret"]["status"] == "ok" and strong not in json.dumps(checks)


def test_a_configured_ffmpeg_that_is_missing_or_broken_fails_with_the_fix(project, tmp_path):
    code, checks = doctor(project, HLSKIT_FFMPEG=str(tmp_path / "no-ffmpeg"))
    assert code == 1 and checks["ffmpeg"]["status"] == "fail"
    assert "was not found" in checks["ffmpeg"]["detail"]
    assert "unset it to use the bundled one" in checks["ffmpeg"]["fix"]
    fake = tmp_path / "fake-ffmpeg"
    fake.write_text("#!/bin/sh\necho 'not really'\nexit 3\n")
    fake.chmod(0o755)
    code, checks = doctor(project, HLSKIT_FFMPEG=str(fake))
    assert code == 1 and checks["ffmpeg"]["detail"] == f"configured FFmpeg {fake} failed `-version` (exit 3)"


def test_a_home_hlskit_creates_is_owner_only(tmp_path, ffmpeg_standin):
    home = tmp_path / "fresh" / "home"
    env = clean_env(HLSKIT_HOME=str(home))
    assert hlskit("status", cwd=tmp_path, env=env).returncode == 0
    assert hlskit("token", "sample", cwd=tmp_path, env=env).returncode == 0
    assert oct(home.stat().st_mode & 0o777) == "0o700"
    code, checks = doctor(tmp_path, HLSKIT_HOME=str(home), **ffmpeg_standin)
    assert code == 0 and checks["home"]["status"] == "ok" and checks["token secret"]["status"] == "ok"
