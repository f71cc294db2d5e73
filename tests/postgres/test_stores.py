"""The job store and key store on a real PostgreSQL: the public API, the one-active-run rule
under a real race between processes, migrations, and secrets masked everywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from hlskit.domain.errors import InputError
from hlskit.domain.keys import DataKey
from hlskit.domain.runs import ContentBusy, Job, JobState, Run, RunState, new_job_id, new_run_id, this_owner
from hlskit.domain.settings import Settings
from hlskit.stores.db import StoreUnavailable, mask_url, parse_store_url
from hlskit.stores.jobs import JobStore
from hlskit.stores.keys import KeyStore
from tests.postgres.cluster import PASSWORD

pytestmark = pytest.mark.db


def _job(cid: str = "c", d: str = "LD") -> Job:
    return Job(job_id=new_job_id(), content_id=cid, definition=d)


def test_job_store_on_postgres_keeps_runs_jobs_and_their_order(pg_url):
    store = JobStore(pg_url)
    jobs = [_job(d=d) for d in ("LD", "SD", "HD")]
    for j in jobs:
        j.created_at = 1000.0  # same instant: the insertion order decides
    run = store.start_run(Run(new_run_id(), "c", owner=this_owner()), jobs)
    with pytest.raises(ContentBusy, match=f"being packaged by run {run.run_id}"):
        store.start_run(Run(new_run_id(), "c", owner=this_owner()), [_job()])
    assert [j.definition for j in JobStore(pg_url).run_jobs(run.run_id)] == ["LD", "SD", "HD"]
    store.update(jobs[0].job_id, state=JobState.TRANSCODING, percent=40)
    assert store.get(jobs[0].job_id).percent == 40 and store.get(jobs[0].job_id).started_at > 0
    store.update(jobs[0].job_id, state=JobState.SUCCESS)
    assert store.update(jobs[0].job_id, state=JobState.FAIL).state == JobState.SUCCESS
    assert store.find_job(jobs[1].job_id[:12]).job_id == jobs[1].job_id
    assert store.cancel(jobs[1].job_id).state == JobState.CANCELLED
    assert store.claim_finish(run.run_id) and not store.claim_finish(run.run_id)
    ended = store.end_run(run.run_id, RunState.PUBLISHED)
    assert ended.state == RunState.PUBLISHED and ended.finished_at >= ended.created_at
    assert [r.run_id for r in store.runs(run.run_id[:6])] == [run.run_id]
    assert {j.job_id for j in store.list("c")} == {j.job_id for j in jobs}


def test_key_store_on_postgres_round_trips_and_revokes(pg_url, tmp_path):
    keys = KeyStore(pg_url, tmp_path / "master.key")
    a, b = keys.create("c", "run-a"), keys.create("c", "run-b")
    other_host = KeyStore(pg_url, tmp_path / "master.key")  # another server, same master key
    assert other_host.get("c", a.key_id) == a.key and other_host.is_live("c", b.key_id)
    assert other_host.wrapped("c", a.key_id)[1] == "aes-256-gcm"
    before = other_host.revocation_version()
    assert keys.revoke_run("run-b") == 1
    assert other_host.revocation_version() != before
    assert other_host.get("c", b.key_id) is None and other_host.get("c", a.key_id) == a.key
    assert {r.key_id: r.revoked for r in other_host.list("c")} == {a.key_id: False, b.key_id: True}
    assert keys.revoke("c", keep={a.key_id}) == 0 and keys.revoke("c") == 1


RACER = """
import sys
from hlskit.domain.runs import ContentBusy, Job, Run, new_job_id, new_run_id, this_owner
from hlskit.stores.jobs import JobStore
url, cids = sys.argv[1], sys.argv[2:]
store = JobStore(url)
for cid in cids:
    try:
        store.start_run(Run(new_run_id(), cid, owner=this_owner()), [Job(new_job_id(), cid, "LD")])
        print(cid, "won", flush=True)
    except ContentBusy:
        print(cid, "busy", flush=True)
"""


def _advisory_waiters(referee, name: str) -> set[int]:
    """Backends waiting (not granted) for the advisory lock start_run takes on ``name``.

    pg_advisory_xact_lock(hashtext(name)) locks one bigint key; pg_locks shows its high and low
    32 bits as classid and objid, with objsubid 1 (PostgreSQL manual, 54.12 pg_locks)."""
    key = referee.execute("SELECT hashtext(%s)::bigint", (name,)).fetchone()[0] & 0xFFFF_FFFF_FFFF_FFFF
    rows = referee.execute(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        "AND classid = %s::oid AND objid = %s::oid AND objsubid = 1",
        (key >> 32, key & 0xFFFF_FFFF),
    ).fetchall()
    return {pid for (pid,) in rows}


def test_two_processes_racing_start_run_exactly_one_wins_each_content_id(pg_url):
    """Both racers are proved to be inside the race: the test holds each content id's start_run
    lock (start_run's advisory lock "hlskit-run-<content id>", hlskit/stores/jobs.py) and lets it
    go only once pg_locks shows both racers' connections waiting for it, i.e. both are inside
    start_run's critical section, before its busy check, at the same time. No clock decides."""
    import psycopg

    cids = [f"race-{i}" for i in range(20)]
    JobStore(pg_url)  # migrated, so the racers go straight to start_run
    with psycopg.connect(pg_url, autocommit=True) as referee:
        for cid in cids:  # session-level locks: they block start_run's transaction-level ones
            referee.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"hlskit-run-{cid}",))
        procs = [
            subprocess.Popen([sys.executable, "-c", RACER, pg_url, *cids], stdout=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        try:
            both_inside: dict[str, set[int]] = {}
            for cid in cids:
                name = f"hlskit-run-{cid}"
                deadline = time.monotonic() + 60  # a bound on a hang, not a measurement
                while len(waiters := _advisory_waiters(referee, name)) < 2:
                    assert all(p.poll() is None for p in procs), f"a racer ended before reaching {cid}"
                    assert time.monotonic() < deadline, f"only {len(waiters)} racer(s) ever waited in start_run({cid})"
                    time.sleep(0.02)
                both_inside[cid] = waiters
                referee.execute("SELECT pg_advisory_unlock(hashtext(%s))", (name,))
        finally:
            outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert all(len(pids) == 2 for pids in both_inside.values()) and len(both_inside) == len(cids)
    results: dict[str, list[str]] = {}
    for out in outputs:
        for line in out.splitlines():
            cid, outcome = line.split()
            results.setdefault(cid, []).append(outcome)
    assert {cid: sorted(v) for cid, v in results.items()} == {cid: ["busy", "won"] for cid in cids}
    store = JobStore(pg_url)
    assert all(len(store.runs(cid)) == 1 and len(store.list(cid)) == 1 for cid in cids)


def test_migrations_are_recorded_once_for_concurrent_starts(pg_url, tmp_path):
    code = "import sys; from pathlib import Path; from hlskit.stores.keys import KeyStore; from hlskit.stores.jobs import JobStore; JobStore(sys.argv[1]); KeyStore(sys.argv[1], Path(sys.argv[2]))"
    procs = [subprocess.Popen([sys.executable, "-c", code, pg_url, str(tmp_path / "mk")]) for _ in range(3)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    import psycopg

    with psycopg.connect(pg_url) as db:
        rows = db.execute("SELECT component, version FROM schema_version ORDER BY component").fetchall()
    assert rows == [("jobs", 4), ("keys", 3)]


def test_secrets_in_store_urls_are_masked(pg_url):
    assert PASSWORD in pg_url
    masked = mask_url(pg_url)
    assert PASSWORD not in masked and ":***@127.0.0.1" in masked
    assert mask_url("postgresql://h/db?user=u&password=hunter2") == "postgresql://h/db?user=u&password=***"
    assert mask_url("postgresql://u:p@ss:w@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert mask_url("sqlite:////srv/hlskit/store.db") == "sqlite:////srv/hlskit/store.db"
    assert PASSWORD not in repr(parse_store_url(pg_url))
    assert PASSWORD not in repr(JobStore(pg_url)) and PASSWORD not in repr(KeyStore(pg_url, "/nonexistent/mk"))
    assert PASSWORD not in repr(Settings(store_url=pg_url))


def test_an_unreachable_database_is_one_clear_sentence_without_the_password(postgres, tmp_path):
    dead = postgres.url("postgres").replace(f":{postgres.port}/", ":1/")
    with pytest.raises(StoreUnavailable) as caught:
        JobStore(dead)
    message = caught.value.message
    assert message.startswith("the store postgresql://hlskit:***@127.0.0.1:1/postgres is unreachable (")
    assert message.endswith("start the database or fix store_url.") and PASSWORD not in message
    assert "\n" not in message
    env = {**os.environ, "HLSKIT_HOME": str(tmp_path / "home"), "HLSKIT_STORE_URL": dead}
    for args in (["keys", "list"], ["status"]):
        done = subprocess.run(
            [sys.executable, "-m", "hlskit", *args], capture_output=True, text=True, env=env, timeout=60
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("error: the store postgresql://hlskit:***@") and PASSWORD not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_key_import_on_postgres_is_all_or_nothing(pg_url, tmp_path):
    keys = KeyStore(pg_url, tmp_path / "master.key")
    taken = keys.create("b")
    batch = [DataKey("a", f"k{i}", bytes(16), bytes(range(16))) for i in range(500)]
    with pytest.raises(InputError, match=f"key {taken.key_id} of b is already in this key store"):
        keys.add_all([*batch, DataKey("b", taken.key_id, bytes(16), bytes(16))])
    assert keys.list("a") == []  # the 500 rows before the clash were rolled back

    def interrupt() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        keys.add_all(batch, before_commit=interrupt)
    assert keys.list("a") == []
    keys.add_all(batch)
    assert len(keys.list("a")) == 500 and keys.get("a", "k7") == bytes(range(16))
