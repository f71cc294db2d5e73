"""hlskit as a user installs it: a wheel built from the checkout, installed into a fresh venv
outside the checkout, packages a clip, serves it, and the player plays it in real Chromium.

Nothing here skips. The wheel is built from a copy of the sources (so concurrent runs never
share setuptools' build/ folder in the checkout); pip reaches PyPI (or its configured mirror)
for the dependencies and reuses its own cache.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests

from hlskit.server.player import HLS_JS_VERSION

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
# What the player needs at run time: every template and static file, hls.js among them.
ASSETS = REPO / "hlskit" / "server"


def player_files() -> set[str]:
    found = set()
    for folder in ("templates", "static"):
        for path in (ASSETS / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                found.add(path.relative_to(REPO).as_posix())
    return found


def run(args: list, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=900, **kw)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """`pip wheel --no-deps .` of a copy of the checkout."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    shutil.copytree(REPO / "hlskit", src / "hlskit", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", base / "dist", src])
    (found,) = (base / "dist").glob("hlskit-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> tuple[Path, dict]:
    """A fresh venv with only the wheel (and its declared dependencies) in it: (bin folder, env)."""
    base = tmp_path_factory.mktemp("installed")
    assert REPO not in base.resolve().parents
    venv = base / "venv"
    run([sys.executable, "-m", "venv", venv])
    run([venv / "bin" / "python", "-m", "pip", "install", "-q", wheel])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HLSKIT_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(HLSKIT_HOME=str(base / "home"), PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    return venv / "bin", env


def test_the_wheel_carries_the_player_and_declares_its_dependencies(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        hls = z.read("hlskit/server/static/vendor/hls.min.js")
    expected = player_files()
    assert {"hlskit/server/static/vendor/hls.min.js", "hlskit/server/static/vendor/hls.js.LICENSE"} <= expected
    assert "hlskit/server/templates/hlskit_player.html" in expected and "hlskit/server/templates/index.html" in expected
    assert sorted(expected - names) == []
    assert len(hls) > 100_000 and HLS_JS_VERSION.encode() in hls
    requires = {
        re.split(r"[<>=!~ ;\[]", line.split(":", 1)[1].strip())[0].lower()
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    }
    assert {"click", "flask", "jinja2", "imageio-ffmpeg", "cryptography"} <= requires


def imported_distributions() -> dict[str, str]:
    """Every third-party module hlskit imports → the distribution that provides it (this venv)."""
    provides = importlib.metadata.packages_distributions()
    found = {}
    for path in (REPO / "hlskit").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "hlskit" and top not in sys.stdlib_module_names:
                    found[top] = provides[top][0].lower().replace("_", "-")
    return found


def test_every_imported_distribution_is_declared(wheel):
    with zipfile.ZipFile(wheel) as z:
        metadata = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    declared = {
        re.split(r"[<>=!~ ;\[(]", line.split(":", 1)[1].strip())[0].lower().replace("_", "-")
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    }
    missing = {module: dist for module, dist in imported_distributions().items() if dist not in declared}
    assert missing == {}


def test_installed_wheel_packages_serves_and_plays_outside_the_checkout(installed, tmp_path, browser):
    bin_dir, env = installed
    work = tmp_path / "work"  # the user's folder: not the checkout, no .hlskit/ in it or above it
    work.mkdir()
    where = run([bin_dir / "python", "-c", "import hlskit; print(hlskit.__file__)"], cwd=work, env=env).stdout
    assert str(bin_dir.parent) in where and str(REPO) not in where

    hlskit = bin_dir / "hlskit"
    config = run([hlskit, "config", "--json"], cwd=work, env=env).stdout
    assert f'"home": "{env["HLSKIT_HOME"]}"' in config and "env (HLSKIT_HOME)" in config

    run([hlskit, "sample", "clip.mp4", "--size", "320x180", "--seconds", "3"], cwd=work, env=env)
    port = free_port()
    packaged = run(
        [
            hlskit,
            "package",
            "clip.mp4",
            "--out",
            "out",
            "--content-id",
            "wheel",
            "--segment-duration",
            "1",
            "--key-url",
            f"http://127.0.0.1:{port}/keys",
        ],
        cwd=work,
        env=env,
    )
    assert (work / "out" / "wheel" / "master.m3u8").is_file(), packaged.stderr

    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen(
        [hlskit, "serve", "out", "--port", str(port)], cwd=work, env=env, stdout=subprocess.PIPE, stderr=log, text=True
    )
    try:
        first = proc.stdout.readline()
        assert f"at http://127.0.0.1:{port}/" in first, first + (tmp_path / "serve.log").read_text()
        base = f"http://127.0.0.1:{port}"
        index = requests.get(base + "/", timeout=30)
        assert index.status_code == 200 and 'href="/play/wheel"' in index.text
        page = requests.get(base + "/play/wheel", timeout=30)
        assert page.status_code == 200 and "/player/vendor/hls.min.js" in page.text
        hls = requests.get(base + "/player/vendor/hls.min.js", timeout=30)
        assert hls.status_code == 200 and len(hls.content) > 100_000
        assert requests.get(base + "/player/static/js/main.js", timeout=30).status_code == 200

        context = browser.new_context()
        try:
            tab = context.new_page()
            problems: list[str] = []
            tab.on("pageerror", lambda e: problems.append(str(e)))
            tab.goto(base + "/play/wheel")
            try:
                tab.wait_for_function(
                    "() => { const s = window.hlskitPlayer && window.hlskitPlayer.state(); return s && s.currentTime > 1; }",
                    timeout=90_000,
                    polling=250,
                )
            except Exception:
                s = tab.evaluate("() => window.hlskitPlayer && window.hlskitPlayer.state()")
                brief = {k: s.get(k) for k in ("currentTime", "engine", "errors", "keys")} if s else None
                pytest.fail(f"the installed player never played: {brief}; page errors: {problems}")
            state = tab.evaluate("() => window.hlskitPlayer.state()")
        finally:
            context.close()
        assert state["engine"] == "hls.js" and state["errors"] == [] and problems == []
        assert state["keys"] and state["fragmentsDecrypted"] >= 1  # the encrypted package decrypted
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
