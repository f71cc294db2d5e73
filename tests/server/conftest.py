"""Fixtures for the key service and media server: a real server on 127.0.0.1 and an encrypted
package whose key URIs point at it (see serverpkg.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from hlskit.domain.keys import DataKey, key_uri
from hlskit.domain.settings import Settings
from hlskit.keys.tokens import make_token, token_secret
from hlskit.server import create_app
from hlskit.stores.keys import KeyStore
from tests.server.serverpkg import Package, build_package

HLSKIT = [sys.executable, "-m", "hlskit"]


@dataclass
class LiveServer:
    url: str
    port: int
    settings: Settings
    _server: object = field(repr=False, default=None)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def start_server(settings: Settings, port: int = 0) -> LiveServer:
    """The real app on 127.0.0.1 in a thread (Werkzeug's threaded server, as `hlskit serve`)."""
    server = make_server("127.0.0.1", port, create_app(settings), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return LiveServer(f"http://127.0.0.1:{server.port}", server.port, settings, server)


@pytest.fixture
def live_server():
    """live_server(settings) -> LiveServer, stopped after the test."""
    started: list[LiveServer] = []

    def start(settings: Settings) -> LiveServer:
        started.append(start_server(settings))
        return started[-1]

    yield start
    for s in started:
        s.stop()


@dataclass
class Site:
    """One running server over one home and media root, with its encrypted package."""

    server: LiveServer
    package: Package
    home: Path
    out: Path
    secret: bytes

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def settings(self) -> Settings:
        return self.server.settings

    def token(self, content_id: str | None = None, ttl: int = 300, client_ip: str | None = None) -> str:
        return make_token(self.secret, content_id or self.package.content_id, ttl, client_ip)

    def key_url(self, key: DataKey) -> str:
        return key_uri(self.url + "/keys", key.content_id, key.key_id)

    def env(self) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("HLSKIT_")},
            "HLSKIT_HOME": str(self.home),
            "HLSKIT_MEDIA_ROOT": str(self.out),
        }


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Site:
    base = tmp_path_factory.mktemp("server-site")
    home, out = base / "home", base / "out"
    out.mkdir()
    # Settings built directly, so no HLSKIT_* variable of the caller leaks in.
    settings = Settings(home=home, media_root=out, allowed_origins="self,https://player.example")
    server = start_server(settings)
    package = build_package(out, base / "clear", KeyStore.open(settings.store_config()), server.url + "/keys", "talk")
    yield Site(server, package, home, out, token_secret(settings.token_config()))
    server.stop()


@pytest.fixture(scope="session")
def hlskit_cli():
    """hlskit_cli(*args, env=...) runs the real CLI in a subprocess -> CompletedProcess (text)."""

    def run(*args: str, env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([*HLSKIT, *args], capture_output=True, text=True, env=env, timeout=timeout)

    return run
