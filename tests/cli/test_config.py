"""`hlskit config`: the settings in use, where each came from, the home, secrets masked; and the
project home found from the current folder upwards (as git finds .git)."""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from hlskit.config import resolve_settings
from hlskit.domain.settings import Settings

from .conftest import clean_env, hlskit

REPO = Path(__file__).resolve().parents[2]
TOKEN_SECRET = "file-secret-" + "k" * 40
ACCESS_KEY_SECRET = "env-secret-Qw3rty-do-not-print"


def config_json(cwd: Path, **env: str) -> dict:
    done = hlskit("config", "--json", cwd=cwd, env=clean_env(**env))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_config_names_the_source_of_each_setting_and_masks_secrets(project):
    (project / "hlskit.toml").write_text(
        f'key_url = "https://keys.example.com/keys"\nsegment_duration = 6\ntoken_secret = "{TOKEN_SECRET}"\n'
        '[mts]\naccess_key_id = "LTAI5tExampleKeyId"\n'
    )
    env = {"HLSKIT_X264_PRESET": "ultrafast", "HLSKIT_MTS_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET}
    out = config_json(project, **env)
    s = out["settings"]
    assert out["home"] == str(project / ".hlskit")
    assert out["home_source"] == f"project (.hlskit/ found in {project})"
    assert out["config_file"] == "hlskit.toml" and out["config_file_source"] == "./hlskit.toml"
    assert s["key_url"] == {"value": "https://keys.example.com/keys", "source": "file (hlskit.toml)"}
    assert s["segment_duration"] == {"value": "6", "source": "file (hlskit.toml)"}
    assert s["x264_preset"] == {"value": "ultrafast", "source": "env (HLSKIT_X264_PRESET)"}
    assert s["engine"] == {"value": "local", "source": "default"}
    assert s["key_db"] == {"value": str(project / ".hlskit" / "keys.db"), "source": "default (in the home)"}
    assert s["token_secret"] == {"value": "******** (set)", "source": "file (hlskit.toml)"}
    assert s["mts_access_key_secret"] == {"value": "******** (set)", "source": "env (HLSKIT_MTS_ACCESS_KEY_SECRET)"}
    assert s["mts_access_key_id"]["value"] == "LTAI****"
    assert s["ffmpeg"]["value"] == "(bundled, from imageio-ffmpeg)"
    assert set(s) == {f.name for f in fields(Settings)}

    text = hlskit("config", cwd=project, env=clean_env(**env))
    assert text.returncode == 0, text.stderr
    for secret in (TOKEN_SECRET, ACCESS_KEY_SECRET, "LTAI5tExampleKeyId"):
        assert secret not in text.stdout + text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == "config file: hlskit.toml (from ./hlskit.toml)"
    assert lines[1] == f"home: {project / '.hlskit'} (from project (.hlskit/ found in {project}))"
    row = next(line for line in lines if line.startswith("x264_preset "))
    assert row.split() == ["x264_preset", "env", "(HLSKIT_X264_PRESET)", "ultrafast"]


def test_a_password_in_a_url_setting_is_masked(project):
    out = config_json(project, HLSKIT_STORE_URL="postgresql://hlskit:Pa55word@db.internal:5432/hlskit")
    assert out["settings"]["store_url"]["value"] == "postgresql://hlskit:***@db.internal:5432/hlskit"


def test_the_project_home_is_found_from_a_subfolder_and_env_and_file_win_over_it(project, tmp_path):
    deep = project / "out" / "sample"
    deep.mkdir(parents=True)
    assert config_json(deep)["home"] == str(project / ".hlskit")

    other = tmp_path / "elsewhere"
    out = config_json(deep, HLSKIT_HOME=str(other))
    assert out["home"] == str(other) and out["home_source"] == "env (HLSKIT_HOME)"

    (project / "team.toml").write_text(f'home = "{tmp_path / "from-file"}"\n')
    out = config_json(deep, HLSKIT_CONFIG=str(project / "team.toml"))
    assert out["home"] == str(tmp_path / "from-file")
    assert out["home_source"] == f"file ({project / 'team.toml'})"
    assert out["config_file_source"] == "HLSKIT_CONFIG"


def test_without_a_project_home_the_user_home_is_used(tmp_path):
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    data = tmp_path / "xdg"
    out = config_json(lonely, XDG_DATA_HOME=str(data))
    assert out["home"] == str(data / "hlskit") and out["home_source"] == "default"


def test_a_flag_is_reported_as_a_flag(project, monkeypatch):
    monkeypatch.chdir(project)
    for name in [k for k in os.environ if k.startswith("HLSKIT_")]:
        monkeypatch.delenv(name)
    resolved = resolve_settings(None, media_root="served", key_url=None)
    assert str(resolved.sources["media_root"]) == "flag"
    assert str(resolved.sources["key_url"]) == "default"  # a flag left unset does not count


def test_config_errors_are_one_sentence(project):
    (project / "hlskit.toml").write_text("key_url = \n")
    done = hlskit("config", cwd=project)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: config file hlskit.toml is not valid TOML")
    missing = hlskit("--config", "nope.toml", "config", cwd=project)
    assert missing.returncode == 2
    assert missing.stderr.strip() == "error: config file nope.toml does not exist: create it or pass an existing file."


def test_the_example_config_names_every_setting_and_parses():
    """samples/hlskit.toml: every setting, commented out; uncommented it is valid for hlskit."""
    text = (REPO / "samples" / "hlskit.toml").read_text()
    assert all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines())
    uncommented = "\n".join(
        line.lstrip("# ")
        for line in text.splitlines()
        if line.startswith("# ") and ("=" in line.split("#")[1] or line.startswith("# ["))
    )
    data = tomllib.loads(uncommented)
    named = set()
    for key, value in data.items():
        named |= {f"{key}_{k}" for k in value} if isinstance(value, dict) else {key}
    assert named == {f.name for f in fields(Settings)}


def _give_away(*paths: Path) -> None:
    """Make ``paths`` another user's (nobody's, uid 65534): the planted home or config of a shared folder."""
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root (CI runs as root)")
    for path in paths:
        os.chown(path, 65534, 65534)


def test_a_home_or_config_planted_by_another_user_is_refused(tmp_path):
    shared = tmp_path / "shared"
    (shared / "work").mkdir(parents=True)
    planted = shared / ".hlskit"
    planted.mkdir(mode=0o700)
    (planted / "token.secret").write_text("the-attacker-knows-this-secret-0123456789")
    (planted / "token.secret").chmod(0o600)
    _give_away(planted, planted / "token.secret")
    done = hlskit("token", "victim", cwd=shared / "work", env=clean_env())
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        f"error: {planted} belongs to another user (uid 65534), so hlskit will not use it: set HLSKIT_HOME "
        "to a home of your own, or remove it.\n"
    )
    mine = tmp_path / "mine"
    assert hlskit("token", "victim", cwd=shared / "work", env=clean_env(HLSKIT_HOME=str(mine))).returncode == 0

    (shared / "work" / "hlskit.toml").write_text('ffmpeg = "/tmp/their-ffmpeg"\n')
    _give_away(shared / "work" / "hlskit.toml")
    done = hlskit("config", cwd=shared / "work", env=clean_env(HLSKIT_HOME=str(mine)))
    assert done.returncode == 2
    assert "hlskit.toml belongs to another user (uid 65534), so hlskit will not use it: pass it with --config" in (
        done.stderr
    )
    named = hlskit(
        "--config", "hlskit.toml", "config", "--json", cwd=shared / "work", env=clean_env(HLSKIT_HOME=str(mine))
    )
    assert json.loads(named.stdout)["settings"]["ffmpeg"]["value"] == "/tmp/their-ffmpeg"  # named on purpose


def test_another_user_s_secret_file_is_refused_even_when_named(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    (home / "token.secret").write_text("the-attacker-knows-this-secret-0123456789")
    (home / "token.secret").chmod(0o600)
    _give_away(home / "token.secret")
    done = hlskit("token", "victim", cwd=tmp_path, env=clean_env(HLSKIT_HOME=str(home)))
    assert done.returncode == 2 and done.stdout == ""
    assert f"token secret file {home / 'token.secret'} belongs to another user (uid 65534)" in done.stderr


def test_homes_and_stores_are_created_owner_only(tmp_path):
    home = tmp_path / "new" / "home"
    export = tmp_path / "k.jsonl"
    export.write_text(json.dumps({"content_id": "c", "key_id": "k0000001", "iv": "00" * 16, "key": "11" * 16}) + "\n")
    done = hlskit("keys", "import", str(export), cwd=tmp_path, env=clean_env(HLSKIT_HOME=str(home)))
    assert done.returncode == 0, done.stderr
    assert home.stat().st_mode & 0o777 == 0o700
    assert {p.name: p.stat().st_mode & 0o777 for p in home.glob("*.db")} == {"keys.db": 0o600}
