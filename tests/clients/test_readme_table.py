"""The README shows the client table exactly as tests/clients/expected.py states it (and the other
tests in tests/clients check every cell against the clients)."""

from __future__ import annotations

from tests.clients.expected import table
from tests.conftest import REPO


def test_readme_client_table_is_the_tested_one():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert table() in readme, "README's client table differs: paste tests.clients.expected.table() into it"
