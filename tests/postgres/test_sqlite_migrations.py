"""SQLite stores made by an hlskit before versioned schemas keep working: migrations bring them
up to date on open, keep their rows, and record the version."""

from __future__ import annotations

import sqlite3

from hlskit.domain.runs import Job, JobState, Run, new_job_id, new_run_id, this_owner
from hlskit.stores.jobs import JobStore
from hlskit.stores.keys import KeyStore

OLD_JOBS = """
CREATE TABLE jobs (
    job_id TEXT PRIMARY KEY, content_id TEXT NOT NULL, definition TEXT NOT NULL, engine TEXT NOT NULL,
    state TEXT NOT NULL, percent INTEGER NOT NULL DEFAULT 0, code TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '', output TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL,
    started_at REAL, finished_at REAL
);
INSERT INTO jobs (job_id, content_id, definition, engine, state, created_at)
VALUES ('0123456789abcdef0123456789abcdef', 'old', 'HD', 'local', 'TranscodeSuccess', 1.0);
"""
OLD_KEYS = """
CREATE TABLE keys (
    content_id TEXT NOT NULL, key_id TEXT NOT NULL, wrapped BLOB NOT NULL, iv_hex TEXT NOT NULL,
    wrapping TEXT NOT NULL DEFAULT 'aes-256-gcm', created_at REAL NOT NULL, revoked_at REAL,
    PRIMARY KEY (content_id, key_id)
);
"""


def _columns(path, table) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _versions(path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT component, version FROM schema_version"))


def test_an_old_shape_job_store_is_migrated_and_keeps_its_jobs(tmp_path):
    path = tmp_path / "jobs.db"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_JOBS)
    assert "run_id" not in _columns(path, "jobs")
    store = JobStore(path)
    assert {"run_id", "user_data", "remote_id", "source", "owner", "notify"} <= _columns(path, "jobs")
    assert {"run_id", "name", "state", "worker", "attempts"} <= _columns(path, "chunks")  # version 4: Celery chunks
    assert _versions(path) == {"jobs": 4}
    old = store.get("0123456789abcdef0123456789abcdef")
    assert old.state == JobState.SUCCESS and old.definition == "HD" and old.run_id == ""
    run = store.start_run(Run(new_run_id(), "old", owner=this_owner()), [Job(new_job_id(), "old", "LD")])
    assert [j.definition for j in JobStore(path).run_jobs(run.run_id)] == ["LD"]
    JobStore(path)  # opening again applies nothing twice
    assert _versions(path) == {"jobs": 4}


def test_an_old_shape_key_store_gains_run_ids_and_the_revocation_counter(tmp_path):
    path = tmp_path / "keys.db"
    keys = KeyStore(tmp_path / "new.db", tmp_path / "master.key")
    key = keys.create("old")
    with sqlite3.connect(path) as db:  # the same key, in a store of the old shape
        db.executescript(OLD_KEYS)
        wrapped, wrapping = keys.wrapped("old", key.key_id)
        db.execute(
            "INSERT INTO keys (content_id, key_id, wrapped, iv_hex, wrapping, created_at) VALUES (?,?,?,?,?,?)",
            ("old", key.key_id, wrapped, key.iv.hex(), wrapping, 1.0),
        )
    migrated = KeyStore(path, tmp_path / "master.key")
    assert "run_id" in _columns(path, "keys") and _versions(path) == {"keys": 3}
    assert migrated.get("old", key.key_id) == key.key
    marker = migrated.revocation_version()
    assert migrated.revoke("old") == 1 and migrated.revocation_version() != marker
    assert migrated.get("old", key.key_id) is None


def test_one_sqlite_store_url_holds_both_stores(tmp_path):
    url = f"sqlite:///{tmp_path}/both.db"  # sqlite:/// + an absolute path = four slashes
    assert url.startswith("sqlite:////")
    jobs, keys = JobStore(url), KeyStore(url, tmp_path / "master.key")
    key = keys.create("c", "r")
    jobs.add(Job(new_job_id(), "c", "LD", run_id="r"))
    assert _versions(tmp_path / "both.db") == {"jobs": 4, "keys": 3}
    assert keys.get("c", key.key_id) == key.key and len(jobs.list("c")) == 1
