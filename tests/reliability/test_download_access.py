"""Clear MP4 downloads: a token of their package's content, live keys, in every layout (issue 25, 2).

The cases are in tests/reliability/download_access.py (bench/reliability_server.py sends them to
`hlskit serve` and gunicorn too): the token rule in the standard layout; the same file reached
through a site folder, a run folder, symlinks, capitals, or a media root that is the package or
its downloads folder; a downloads folder no package claims; and revocation (all keys, one of
two, a key this store does not know; a clear package has none). Then the two paths of the issue
end to end: `hlskit keys revoke` withdraws a download that was served a moment before, and the
token the test player mints for anyone in development mode plays but does not download.
"""

from __future__ import annotations

import pytest

from hlskit.domain.settings import Settings
from hlskit.keys.tokens import token_secret
from hlskit.stores.keys import KeyStore
from tests.reliability.download_access import CASES, build, check, check_dev_page_token, check_revoke_via_cli
from tests.server.conftest import start_server


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    base = tmp_path_factory.mktemp("downloads")
    home, out = base / "home", base / "out"
    out.mkdir()
    store = KeyStore.open(Settings(home=home, media_root=out).store_config())
    build(out, store)
    roots = {"parent": out, "package": out / "dl-std", "downloads": out / "dl-std" / "downloads"}
    started = {name: start_server(Settings(home=home, media_root=root)) for name, root in roots.items()}
    yield started, token_secret(Settings(home=home).token_config()), out, home, store
    for s in started.values():
        s.stop()


def test_cases_are_distinct():
    assert len({c.name for c in CASES}) == len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_download_access(servers, case):
    started, secret, *_ = servers
    check(case, lambda root: started[root].url, secret)


def test_keys_revoke_withdraws_a_download_that_was_just_served(servers):
    started, secret, out, home, store = servers
    check_revoke_via_cli(started["parent"].url, secret, out, home, store, "dl-cli")


def test_the_development_page_token_plays_but_does_not_download(servers):
    started, secret, out, home, store = servers
    check_dev_page_token(started["parent"].url, store, "dl-std")
