"""Reliability suite for the server: 66 attacks on /keys and /media over real HTTP.

65 raw-socket requests from tests/server/attacks.py (token forms and carriers, methods, path
forms, ranges, oversize requests, CORS origins) plus the revocation replay, against the real app
on 127.0.0.1 (Werkzeug's threaded server, as `hlskit serve`). Each must get its exact refusal
(status, and the JSON code when the app answers), never a key byte in the body and never a 5xx,
and /healthz must still answer 200 afterwards. bench/reliability_server.py runs the same list
against `hlskit serve` and gunicorn in subprocesses.
"""

from __future__ import annotations

import re
import time

import pytest

from hlskit.stores.keys import KeyStore
from tests.server import attacks
from tests.server.attacks import ATTACKS, Target, healthy, raw, revocation_replay, run_attack, send


@pytest.fixture(scope="module")
def target(site):
    cid = site.package.content_id
    attacks.prepare(site.out, cid)
    store = KeyStore.open(site.settings.store_config())
    yield Target(site.server.port, cid, site.package.keys, site.secret, site.out, store.revoke, store.create)
    attacks.cleanup(site.out, cid)


def test_the_docstring_counts_the_attacks():
    assert attacks.COUNT >= 40
    assert int(re.search(r"(\d+) attacks", __doc__).group(1)) == attacks.COUNT
    assert int(re.search(r"(\d+) raw-socket", __doc__).group(1)) == len(ATTACKS)
    assert len({a.name for a in ATTACKS}) == len(ATTACKS)  # distinct


@pytest.mark.slow
@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack_is_refused(target, attack):
    outcome = attacks.run_attack(target, attack)
    assert outcome.refused, outcome
    assert healthy(target.port)


@pytest.mark.slow
def test_revocation_replay_is_refused(target):
    outcome = revocation_replay(target)
    assert outcome.refused, outcome
    assert healthy(target.port)


@pytest.mark.slow
def test_the_key_is_still_served_after_every_attack(target):
    for attack in ATTACKS[:5]:
        run_attack(target, attack)
    reply = send(target.port, raw(target, "GET", target.key_path() + f"?token={target.token()}"))
    assert reply.status == 200 and reply.body == target.keys[0].key


@pytest.mark.slow
def test_file_name_too_long_is_404_not_500(target):
    # Guards ENAMETOOLONG from stat(): a 255-byte part passes the length check, 4 KB of them do not.
    reply = send(target.port, raw(target, "GET", f"/media/{target.content_id}/{'b' * 255}/{'c' * 255}.ts"))
    assert reply.status == 404 and reply.json_code() == "Media.NotFound"


@pytest.mark.slow
def test_non_utf8_playlist_without_token_is_served_byte_for_byte(target):
    reply = send(target.port, raw(target, "GET", f"/media/{target.content_id}/attack-latin1.m3u8"))
    assert reply.status == 200
    assert reply.body == (target.out / target.content_id / "attack-latin1.m3u8").read_bytes()
    assert reply.headers["content-type"] == "application/vnd.apple.mpegurl"


@pytest.mark.slow
def test_unreadable_media_file_is_403(target, monkeypatch):
    # Tests run as root, which reads any file: make the read fail as EACCES would.
    import pathlib

    real = pathlib.Path.read_bytes

    def refuse(self):
        if self.name == "attack-locked.m3u8":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    locked = target.out / target.content_id / "attack-locked.m3u8"
    locked.write_text("#EXTM3U\n")
    monkeypatch.setattr(pathlib.Path, "read_bytes", refuse)
    try:
        reply = send(target.port, raw(target, "GET", f"/media/{target.content_id}/attack-locked.m3u8"))
    finally:
        locked.unlink()
    assert reply.status == 403 and reply.json_code() == "Media.Forbidden"
    assert b"Permission denied" not in reply.body and str(target.out).encode() not in reply.body


@pytest.mark.slow
@pytest.mark.parametrize(
    "spec,status,part",
    [
        ("bytes=-100", 206, slice(-100, None)),
        ("bytes=0-187", 206, slice(0, 188)),
        ("bytes=0-99999999999999999999", 206, slice(0, None)),
        # RFC 9110 §14.1.2: a suffix longer than the representation selects all of it
        ("bytes=-99999999", 206, slice(0, None)),
        ("bytes=-" + "9" * 5000, 206, slice(0, None)),
    ],
)
def test_valid_ranges_are_answered(target, spec, status, part):
    data = (target.out / target.segment.removeprefix("/media/")).read_bytes()
    reply = send(target.port, raw(target, "GET", target.segment, [("Range", spec)]))
    assert reply.status == status and reply.body == data[part]


@pytest.mark.slow
def test_expired_by_a_second_is_refused(target):
    token = target.token(ttl=1, now=time.time() - 1)
    reply = send(target.port, raw(target, "GET", target.key_path() + f"?token={token}"))
    assert reply.status == 403 and reply.json_code() == "Token.Expired"
