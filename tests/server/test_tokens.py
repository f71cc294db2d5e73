"""Playback tokens and the token secret, without a server."""

from __future__ import annotations

import os
import stat
import time

import pytest

from hlskit.cli.server import parse_ttl
from hlskit.domain.errors import ConfigError, InputError
from hlskit.domain.settings import Settings
from hlskit.keys.tokens import PlaybackTokens, TokenError, make_token, token_secret, verify_token
from hlskit.server import create_app

SECRET = b"s" * 32


def reason(token, content="movie", ip="10.0.0.1", secret=SECRET, now=None) -> str:
    with pytest.raises(TokenError) as info:
        verify_token(secret, token, content, ip, now=now)
    return info.value.reason


def test_round_trip_carries_content_expiry_and_ip():
    now = 1_800_000_000
    token = make_token(SECRET, "movie", 60, "10.0.0.1", now=now)
    claims = verify_token(SECRET, token, "movie", "10.0.0.1", now=now + 59)
    assert (claims.content_id, claims.expires, claims.client_ip) == ("movie", now + 60, "10.0.0.1")
    assert verify_token(SECRET, make_token(SECRET, "movie", 60), "movie", "any").client_ip is None


@pytest.mark.parametrize("bad", ["", "  ", "not an ip; <x>", "10.0.0.256", "example.com"])
def test_a_token_is_bound_only_to_an_ip_address(bad):
    with pytest.raises(InputError, match=f"--client-ip must be an IP address .*got {bad!r}"):
        make_token(SECRET, "movie", 60, bad)  # "" bound the token to nobody; the others to no client


@pytest.mark.parametrize(
    "bound, seen, kept",
    [
        ("2001:DB8:0::1", "2001:db8::1", "2001:db8::1"),
        (" 10.0.0.1", "10.0.0.1", "10.0.0.1"),
        ("10.0.0.1", "::ffff:10.0.0.1", "10.0.0.1"),  # a dual-stack server sees IPv4 clients so
    ],
)
def test_a_bound_address_is_compared_in_one_spelling(bound, seen, kept):
    assert verify_token(SECRET, make_token(SECRET, "movie", 60, bound), "movie", seen).client_ip == kept


def test_a_token_lives_at_most_a_year():
    assert parse_ttl("366d") == 366 * 86400
    with pytest.raises(InputError, match="--ttl 367d is longer than a token may live"):
        parse_ttl("367d")
    with pytest.raises(InputError, match="longer than a token may live"):
        parse_ttl("99999999999d")


def test_each_refusal_has_its_reason():
    now = time.time()
    token = make_token(SECRET, "movie", 60, "10.0.0.1", now=now)
    assert reason(None) == "missing"
    assert reason("") == "missing"
    assert reason("no-dot") == "malformed"
    assert reason(token, now=now + 61) == "expired"
    assert reason(token, content="other") == "other-content"
    assert reason(token, ip="10.0.0.2") == "other-client"
    assert reason(token, secret=b"t" * 32) == "tampered"
    payload, sig = token.split(".")
    # Change the payload (e.g. a later expiry) and keep the signature: tampered.
    forged = make_token(SECRET, "movie", 10_000, now=now).split(".")[0]
    assert reason(f"{forged}.{sig}") == "tampered"
    assert TokenError("missing", "").status == 401
    assert TokenError("expired", "").status == 403


def test_tokens_are_safe_in_urls_and_playlists():
    token = make_token(SECRET, "talk.v2_final-3", 60, "::1")
    assert all(c.isalnum() or c in "-_." for c in token)


def test_secret_file_is_created_0600_once(tmp_path):
    settings = Settings(home=tmp_path / "home")
    first = token_secret(settings.token_config())
    path = tmp_path / "home" / "token.secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32 and token_secret(settings.token_config()) == first
    assert [p.name for p in path.parent.iterdir()] == ["token.secret"]  # no temp file left


def test_secret_file_readable_by_others_is_refused(tmp_path):
    settings = Settings(home=tmp_path)
    token_secret(settings.token_config())
    os.chmod(tmp_path / "token.secret", 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        token_secret(settings.token_config())


@pytest.mark.parametrize(
    "secret",
    [None, "changeme", "short-secret", " " * 40, "a" * 40, "ab" * 20, "  k3k3k3k3k3k3k3k3k3k3k3k3k3k3-x  "],
)
def test_production_refuses_missing_or_weak_secrets(tmp_path, secret):
    settings = Settings(home=tmp_path, production=True, token_secret=secret)
    with pytest.raises(ConfigError, match="HLSKIT_TOKEN_SECRET"):
        token_secret(settings.token_config())
    assert not (tmp_path / "token.secret").exists()  # never invented in production


def test_production_accepts_a_strong_configured_secret(tmp_path):
    strong = "4c0f7b2e9a61d5839e7f0a2b6d4c18e5"
    assert token_secret(Settings(home=tmp_path, production=True, token_secret=strong).token_config()) == strong.encode()


def test_app_refuses_to_start_in_production_without_secrets(tmp_path):
    with pytest.raises(ConfigError, match="token"):
        create_app(Settings(home=tmp_path, production=True, media_root=tmp_path))
    # A strong token secret but no master key: a fresh master key could unwrap nothing.
    with pytest.raises(ConfigError, match="master key"):
        create_app(
            Settings(
                home=tmp_path, production=True, media_root=tmp_path, token_secret="4c0f7b2e9a61d5839e7f0a2b6d4c18e5"
            )
        )


def test_memoised_tokens_are_still_checked_for_expiry_content_and_client():
    tokens = PlaybackTokens(SECRET)
    now = time.time()
    token = tokens.make("movie", 60, "10.0.0.1", now=now)
    assert tokens.verify(token, "movie", "10.0.0.1", now=now).content_id == "movie"  # now memoised
    for kwargs, expected in [
        ({"now": now + 61}, "expired"),
        ({"content_id": "other"}, "other-content"),
        ({"client_ip": "10.0.0.2"}, "other-client"),
    ]:
        args = {"content_id": "movie", "client_ip": "10.0.0.1", "now": now, **kwargs}
        with pytest.raises(TokenError) as info:
            tokens.verify(token, args["content_id"], args["client_ip"], now=args["now"])
        assert info.value.reason == expected
