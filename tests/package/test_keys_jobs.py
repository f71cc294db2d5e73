import os
import socket
import subprocess
import sys

import pytest
from cryptography.exceptions import InvalidTag

from hlskit.domain.errors import ConfigError
from hlskit.domain.keys import KeySchedule
from hlskit.domain.runs import ContentBusy, Job, JobState, Run, RunState, new_job_id, new_run_id, this_owner
from hlskit.hls.crypto import decrypt_segment, encrypt_segment
from hlskit.stores.jobs import JobStore
from hlskit.stores.keys import KeyStore


def test_master_key_is_created_0600_and_keys_round_trip(tmp_path):
    store = KeyStore(tmp_path / "keys.db", tmp_path / "master.key")
    key = store.create("c1")
    assert oct((tmp_path / "master.key").stat().st_mode & 0o777) == "0o600"
    assert len(key.key) == 16 and len(key.iv) == 16
    # a second store (another process) unwraps the same key with the same master key file
    assert KeyStore(tmp_path / "keys.db", tmp_path / "master.key").get("c1", key.key_id) == key.key
    assert key.key not in (tmp_path / "keys.db").read_bytes()


def test_wrapped_key_is_bound_to_its_content_and_key_id(tmp_path):
    store = KeyStore(tmp_path / "keys.db", tmp_path / "master.key")
    key = store.create("c1")
    import sqlite3

    db = sqlite3.connect(tmp_path / "keys.db")
    db.execute("UPDATE keys SET content_id='c2'")
    db.commit()
    with pytest.raises(InvalidTag):
        store.get("c2", key.key_id)


def test_master_key_readable_by_others_is_refused(tmp_path):
    store = KeyStore(tmp_path / "keys.db", tmp_path / "master.key")
    store.create("c")
    os.chmod(tmp_path / "master.key", 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        _ = KeyStore(tmp_path / "keys.db", tmp_path / "master.key").master


def test_revoke_hides_key(tmp_path):
    store = KeyStore(tmp_path / "keys.db", tmp_path / "master.key")
    a, b = store.create("c"), store.create("c")
    assert store.revoke("c", keep={b.key_id}) == 1
    assert store.get("c", a.key_id) is None and store.get("c", b.key_id) == b.key
    assert {r.key_id: r.revoked for r in store.list("c")} == {a.key_id: True, b.key_id: False}


def test_segment_crypto_pads_pkcs7():
    key, iv = os.urandom(16), os.urandom(16)
    for n in (0, 15, 16, 188 * 7):
        data = os.urandom(n)
        enc = encrypt_segment(data, key, iv)
        assert len(enc) == 16 * (n // 16 + 1)
        assert decrypt_segment(enc, key, iv) == data


def test_key_schedule_rotation_and_clear_lead():
    s = KeySchedule(rotate_every=2, clear_lead=1)
    assert [s.key_index(i) for i in range(6)] == [None, 0, 0, 1, 1, 2]
    assert s.keys_needed(6) == 3
    assert KeySchedule(encrypt=False).keys_needed(5) == 0


def _job(cid="c", d="LD"):
    return Job(job_id=new_job_id(), content_id=cid, definition=d)


def test_job_store_survives_a_process_restart(tmp_path):
    db = tmp_path / "jobs.db"
    store = JobStore(db)
    job = store.add(_job())
    store.update(job.job_id, state=JobState.TRANSCODING, percent=40)
    code = (
        "import sys; from hlskit.stores.jobs import JobStore; j = JobStore(sys.argv[1]).get(sys.argv[2]);"
        "print(j.state.value, j.percent)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(db), job.job_id], capture_output=True, text=True)
    assert out.stdout.split() == ["Transcoding", "40"]


def test_finished_jobs_keep_their_final_state(tmp_path):
    store = JobStore(tmp_path / "jobs.db")
    job = store.add(_job())
    store.update(job.job_id, state=JobState.SUCCESS)
    assert store.update(job.job_id, state=JobState.FAIL).state == JobState.SUCCESS
    assert store.cancel(job.job_id).state == JobState.SUCCESS


def test_one_active_run_per_content_id_and_a_dead_run_frees_it(tmp_path):
    store = JobStore(tmp_path / "jobs.db")
    first = store.start_run(Run(new_run_id(), "c", owner=this_owner()), [_job()])
    with pytest.raises(ContentBusy, match=f"being packaged by run {first.run_id}"):
        store.start_run(Run(new_run_id(), "c", owner=this_owner()), [_job()])
    assert [r.run_id for r in store.runs("c")] == [first.run_id]  # the refused run left no trace
    assert len(store.list("c")) == 1
    store.end_run(first.run_id, RunState.PUBLISHED)
    second = store.start_run(Run(new_run_id(), "c", owner=f"{socket.gethostname()}:{_dead_pid()}"), [_job()])
    [lost] = store.recover()
    assert lost.run_id == second.run_id and lost.state == RunState.INTERRUPTED
    assert {j.state for j in store.run_jobs(second.run_id)} == {JobState.FAIL}
    store.start_run(Run(new_run_id(), "c", owner=this_owner()), [_job()])  # free again


def test_keys_of_a_run_are_revoked_together(tmp_path):
    keys = KeyStore(tmp_path / "keys.db", tmp_path / "master.key")
    published, failed = keys.create("c", "run-a"), keys.create("c", "run-b")
    assert keys.revoke_run("run-b") == 1
    assert keys.get("c", failed.key_id) is None and keys.get("c", published.key_id) == published.key


def _dead_pid() -> int:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    return dead.pid


def test_cancel_by_prefix_and_recover_dead_owner(tmp_path):
    store = JobStore(tmp_path / "jobs.db")
    job = store.add(_job())
    assert store.cancel(store.find_job(job.job_id[:10]).job_id).state == JobState.CANCELLED
    lost = _job(d="HD")
    run = store.start_run(Run(new_run_id(), "c", owner=f"{socket.gethostname()}:{_dead_pid()}"), [lost])
    store.update(lost.job_id, state=JobState.TRANSCODING)
    recovered = store.recover()
    assert [r.run_id for r in recovered] == [run.run_id]
    assert store.get(lost.job_id).state == JobState.FAIL and store.get(lost.job_id).code == "Interrupted"
