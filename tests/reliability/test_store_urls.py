"""PostgreSQL store URLs written carelessly: one sentence, never a piece of the password (issue 25, 11).

libpq ends the user name and password at the FIRST "@" (before any "/"), while URL parsers take
the last, so a password with an unencoded "@" used to reach libpq as a host name holding the
rest of the password ("failed to resolve host 'ss@w0rd@127.0.0.1'"). Such URLs are refused
before any connection with the fix (percent-encode), a bad IPv6 literal or port is one sentence
instead of a ValueError traceback, libpq's own refusals (which quote the whole URL) are masked,
and the displayed URL masks everything a password could be, whichever reading is right. The
commands run for real against a port nobody listens on, so no database is needed.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hlskit.domain.errors import ConfigError
from hlskit.stores.db import mask_url, parse_store_url

DEAD = "127.0.0.1:1"  # nothing listens on port 1: a connection is refused at once


def fragments(secret: str, size: int = 3) -> set[str]:
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


def leaked(secret: str, text: str) -> set[str]:
    return {f for f in fragments(secret) if f in text}


# (id, password as written in the URL, the rest after "@", words the sentence must hold)
REFUSED = [
    ("two unencoded @", "Zq7@Xv8@Kw9", f"{DEAD}/db", "percent-encode"),
    ("one unencoded @", "Zq7@Xv8Kw9", f"{DEAD}/db", "percent-encode"),
    ("unencoded /", "Zq7/Xv8Kw9", f"{DEAD}/db", "percent-encode"),
    ("bad % escape", "Zq7%zzXv8Kw9", f"{DEAD}/db", "write % itself as %25"),
    ("IPv6 without ]", "Zq7Xv8Kw9", "[::1/db", "IPv6 address in brackets"),
    ("IPv6 not an address", "Zq7Xv8Kw9", "[zz]:5432/db", "IPv6 address in brackets"),
    ("port not a number", "Zq7Xv8Kw9", "127.0.0.1:abc/db", "port is not a number"),
    ("port over 65535", "Zq7Xv8Kw9", "127.0.0.1:99999/db", "port is not a number"),
]
# Passwords libpq reads right (it ends them at the first "@"), which a URL parser misreads.
ACCEPTED = [
    ("colon", "Zq7:Xv8Kw9"),
    ("question mark", "Zq7?Xv8Kw9"),
    ("hash", "Zq7#Xv8Kw9"),
    ("percent-encoded @ and /", "Zq7%40Xv8%2FKw9"),
]


def hlskit(url: str, home) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HLSKIT_")}
    env.update(HLSKIT_HOME=str(home), HLSKIT_STORE_URL=url)
    return subprocess.run(
        [sys.executable, "-m", "hlskit", "keys", "list"], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.mark.parametrize("name,password,rest,words", REFUSED, ids=[r[0] for r in REFUSED])
def test_a_url_libpq_would_misread_is_one_sentence_without_the_password(name, password, rest, words, tmp_path):
    url = f"postgresql://hlskit:{password}@{rest}"
    with pytest.raises(ConfigError) as refused:
        parse_store_url(url)
    assert words in refused.value.message and not leaked(password, refused.value.message)
    done = hlskit(url, tmp_path / "home")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("error: store_url") and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not leaked(password, done.stderr), done.stderr


@pytest.mark.parametrize("name,password", ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_a_password_libpq_reads_right_is_masked_in_the_unreachable_sentence(name, password, tmp_path):
    url = f"postgresql://hlskit:{password}@{DEAD}/db"
    assert mask_url(url) == f"postgresql://hlskit:***@{DEAD}/db"
    done = hlskit(url, tmp_path / "home")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(f"error: the store postgresql://hlskit:***@{DEAD}/db is unreachable ("), done.stderr
    assert "Connection refused" in done.stderr  # libpq got this host: the password did not spill into it
    assert not leaked(password, done.stderr), done.stderr


def test_a_parameter_libpq_refuses_is_one_sentence_with_the_url_masked(tmp_path):
    password = "Zq7Xv8Kw9"
    done = hlskit(f"postgresql://hlskit:{password}@{DEAD}/db?sslmode=bogus", tmp_path / "home")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("error: the store postgresql://hlskit:***@") and "sslmode" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not leaked(password, done.stderr), done.stderr


def test_masking_covers_both_readings_of_an_unencoded_at():
    # libpq's password would be "Zq7", a URL parser's "Zq7@Xv8": neither shows.
    assert mask_url(f"postgresql://u:Zq7@Xv8@{DEAD}/db") == f"postgresql://u:***@{DEAD}/db"
    assert mask_url("postgresql://u:Zq7/Xv8@h/db") == "postgresql://u:***@h/db"
    assert mask_url("postgresql://u@[::1]:5432/db?password=Zq7") == "postgresql://u@[::1]:5432/db?password=***"
    assert mask_url("postgresql://[::1]:5432/db") == "postgresql://[::1]:5432/db"
    assert parse_store_url("postgresql://u:p@[::1]:5432/db").display == "postgresql://u:***@[::1]:5432/db"
