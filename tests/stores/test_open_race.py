"""Two processes that start together (two `hlskit worker`s, a CLI beside a server) open one new
SQLite store at the same moment: both open it. SQLite answers "database is locked" to one of them
while the other switches the new file to WAL, without waiting its busy timeout (before the fix:
about every second round failed)."""

from __future__ import annotations

import multiprocessing

from hlskit.stores.jobs import JobStore

ROUNDS = 20


def _open(path: str, barrier, results) -> None:
    barrier.wait()  # both at once
    try:
        JobStore(path).db.ping()
    except Exception as exc:  # the parent reports why
        results.put(f"{type(exc).__name__}: {exc}")
        return
    results.put("ok")


def test_two_processes_opening_a_new_store_together_both_succeed(tmp_path):
    ctx = multiprocessing.get_context("fork")
    for round_ in range(ROUNDS):  # a fresh file each round: the race is at the switch to WAL
        path = str(tmp_path / f"jobs{round_}.db")
        barrier, results = ctx.Barrier(2), ctx.Queue()
        openers = [ctx.Process(target=_open, args=(path, barrier, results)) for _ in range(2)]
        for opener in openers:
            opener.start()
        said = [results.get(timeout=60) for _ in openers]
        for opener in openers:
            opener.join()
        assert said == ["ok", "ok"], f"round {round_}: {said}"
