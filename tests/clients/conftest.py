"""The client matrix's packages: built once per session, served by the real app on 127.0.0.1."""

from __future__ import annotations

import pytest

from tests.clients.packages import Site, build


@pytest.fixture(scope="session")
def clients_site(tmp_path_factory, ffmpeg) -> Site:
    site = build(tmp_path_factory.mktemp("clients"), ffmpeg)
    yield site
    site.server.stop()
