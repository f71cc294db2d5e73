"""Key material from files, stdin and devices: bounded, one sentence, all or nothing (issue 25, 6-8).

The cases are in tests/reliability/key_inputs.py (bench/reliability_package.py runs them too):
encodings (UTF-8 with and without BOM, UTF-16 and UTF-32 with BOM accepted; UTF-16 without BOM,
Latin-1 and random bytes refused), 100,000 nested ``[``, devices, FIFOs and sparse files of any
size for ``keys import`` and ``--key-file``, stdin closed or endless for ``keys import -`` and
``--key-hex -``, and ``keys export`` into a closed stdout or a pipe nobody reads. Then Ctrl-C and
SIGTERM while a 300,000-key import reads and while it stores: no key added, one sentence, exit
130, a ``key-import-failed`` audit line.
"""

from __future__ import annotations

import signal

import pytest

from tests.reliability.key_inputs import CASES, audit_events, check, interrupt_import, stored


def test_cases_are_distinct():
    assert len({c.name for c in CASES}) == len(CASES) >= 30


@pytest.mark.slow  # every case runs the CLI on inputs up to 100 MB or endless
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_key_input(case, tmp_path):
    check(case, tmp_path)


@pytest.mark.slow  # 300,000-key imports, signalled
@pytest.mark.parametrize(
    "sig,phase,lines",
    [(signal.SIGTERM, "storing", 300_000), (signal.SIGINT, "storing", 300_000), (signal.SIGTERM, "reading", 300_000)],
    ids=["SIGTERM while storing", "SIGINT while storing", "SIGTERM while reading"],
)
def test_an_interrupted_import_adds_nothing_and_is_audited(sig, phase, lines, tmp_path):
    done, home = interrupt_import(tmp_path, lines, sig, phase)
    name = signal.Signals(sig).name
    assert done.returncode == 130, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: keys import was interrupted ({name}); no key was added: run it again."], done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert stored(home) == 0
    [failed] = [e for e in audit_events(home) if e["event"].startswith("key-import")]
    assert failed["event"] == "key-import-failed" and failed["reason"] == f"interrupted by {name}"
    assert failed["added"] == 0 and failed["user"]
