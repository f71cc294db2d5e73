"""A real PostgreSQL for the store tests: one throwaway cluster per session, one database per test.

If PostgreSQL cannot be started the tests fail (they never skip): CI must not pass without them.
"""

from __future__ import annotations

import secrets

import pytest

from tests.postgres.cluster import Cluster, start_cluster
from tests.tiers import require_heavy


@pytest.fixture(scope="session")
def postgres() -> Cluster:
    require_heavy("db")
    try:
        cluster = start_cluster()
    except (RuntimeError, OSError, KeyError) as exc:
        pytest.fail(f"could not start a throwaway PostgreSQL for the store tests: {exc}", pytrace=False)
    yield cluster
    cluster.destroy()


@pytest.fixture
def pg_url(postgres) -> str:
    """The URL of a fresh, empty database (with a password) on the session's cluster."""
    return postgres.create_database(f"t_{secrets.token_hex(6)}")
