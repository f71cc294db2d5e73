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

import os
import subprocess
import sys

import pytest

from hlskit.domain.settings import Settings
from hlskit.keys.store import KeyStore
from hlskit.keys.tokens import make_token, token_secret
from tests.reliability.download_access import CASES, MP4, _package, build, check, dev_page_token, get
from tests.server.conftest import start_server


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    base = tmp_path_factory.mktemp("downloads")
    home, out = base / "home", base / "out"
    out.mkdir()
    store = KeyStore.from_settings(Settings(home=home, media_root=out))
    build(out, store)
    roots = {"parent": out, "package": out / "dl-std", "downloads": out / "dl-std" / "downloads"}
    started = {name: start_server(Settings(home=home, media_root=root)) for name, root in roots.items()}
    yield started, token_secret(Settings(home=home)), out, home, store
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
    keys = [store.create("dl-cli"), store.create("dl-cli")]
    _package(out / "dl-cli", "dl-cli", [k.key_id for k in keys])
    token = make_token(secret, "dl-cli", 300)
    url = f"{started['parent'].url}/media/dl-cli/downloads/LD.mp4?token={token}"
    assert get(url).body == MP4
    env = {k: v for k, v in os.environ.items() if not k.startswith("HLSKIT_")} | {"HLSKIT_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "hlskit", "keys", "revoke", "dl-cli"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    after = get(url)
    assert after.status == 404 and after.code == "Media.Revoked" and MP4 not in after.body
    key = get(f"{started['parent'].url}/keys/dl-cli/{keys[0].key_id}?token={token}")
    assert key.status == 404 and key.code == "Key.NotFound"


def test_the_development_page_token_plays_but_does_not_download(servers):
    started, secret, out, home, store = servers
    base = started["parent"].url
    token = dev_page_token(base, "dl-std")  # what anyone who opens /play/dl-std gets
    key_id = next(r.key_id for r in store.list("dl-std") if not r.revoked)
    assert get(f"{base}/keys/dl-std/{key_id}?token={token}").status == 200  # it plays
    refused = get(f"{base}/media/dl-std/downloads/LD.mp4?token={token}")
    assert refused.status == 403 and refused.code == "Token.PlaybackOnly" and MP4 not in refused.body
    refused = get(f"{base}/media/dl-std/downloads/LD.mp4", {"Authorization": f"Bearer {token}"})
    assert refused.status == 403 and refused.code == "Token.PlaybackOnly"
