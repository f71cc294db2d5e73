"""Key schedules, data keys and key URIs; run and job states; owners."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from hlskit.domain.keys import DataKey, KeyRecord, KeySchedule, key_uri
from hlskit.domain.runs import (
    ContentBusy,
    Job,
    JobState,
    Run,
    RunState,
    new_job_id,
    new_run_id,
    owner_alive,
    pid_alive,
    this_owner,
    user_data,
)


@pytest.mark.parametrize(
    "schedule, segments, indexes",
    [
        (KeySchedule(), 4, [0, 0, 0, 0]),
        (KeySchedule(encrypt=False), 3, [None, None, None]),
        (KeySchedule(encrypt=False, clear_lead=1, rotate_every=1), 2, [None, None]),
        (KeySchedule(clear_lead=2), 4, [None, None, 0, 0]),
        (KeySchedule(rotate_every=2), 5, [0, 0, 1, 1, 2]),
        (KeySchedule(rotate_every=1), 3, [0, 1, 2]),
        (KeySchedule(rotate_every=3, clear_lead=1), 8, [None, 0, 0, 0, 1, 1, 1, 2]),
        (KeySchedule(rotate_every=0), 3, [0, 0, 0]),  # 0 means no rotation, as None
    ],
)
def test_the_key_schedule_names_each_segment_s_key(schedule, segments, indexes):
    assert [schedule.key_index(i) for i in range(segments)] == indexes
    assert schedule.keys_needed(segments) == len({i for i in indexes if i is not None})


def test_keys_needed_counts_only_segments_that_exist():
    s = KeySchedule(rotate_every=2, clear_lead=3)
    assert [s.keys_needed(n) for n in (0, 3, 4, 5, 6, 7)] == [0, 0, 1, 1, 2, 2]


def test_a_data_key_names_itself_and_never_shows_its_bytes():
    key = DataKey("talk", "0123456789abcdef", bytes(range(16)), b"\xaa" * 16, kms_blob="BLOB-SECRET")
    assert key.iv_hex == "0x000102030405060708090a0b0c0d0e0f"
    assert key.uri("https://k.example/keys/") == "https://k.example/keys/talk/0123456789abcdef"
    assert "aa" * 16 not in repr(key) and "BLOB-SECRET" not in repr(key) and "0123456789abcdef" in repr(key)


@pytest.mark.parametrize(
    "key_url, uri",
    [
        ("http://127.0.0.1:8000/keys", "http://127.0.0.1:8000/keys/c/k"),
        ("http://127.0.0.1:8000/keys/", "http://127.0.0.1:8000/keys/c/k"),
        ("/keys", "/keys/c/k"),
        ("https://h/a/b//", "https://h/a/b/c/k"),
    ],
)
def test_key_uris_name_content_and_key(key_url, uri):
    assert key_uri(key_url, "c", "k") == uri


def test_a_key_record_is_revoked_once_it_has_a_revocation_time():
    assert not KeyRecord("c", "k", "0x00", "aes-256-gcm", 1.0, None).revoked
    assert KeyRecord("c", "k", "0x00", "kms", 1.0, 2.0).revoked


@pytest.mark.parametrize("state", list(JobState))
def test_job_states_are_mps_names_and_three_end_a_job(state):
    assert str(state) == state.value
    assert state.finished is (state in {JobState.SUCCESS, JobState.FAIL, JobState.CANCELLED})
    assert JobState(state.value) is state


@pytest.mark.parametrize("state", list(RunState))
def test_a_run_is_active_only_while_running_or_finishing(state):
    assert state.finished is (state not in {RunState.RUNNING, RunState.FINISHING})


def test_ids_are_fresh_hex_of_mps_length():
    jobs = {new_job_id() for _ in range(50)}
    assert len(jobs) == 50 and all(len(j) == 32 and int(j, 16) >= 0 for j in jobs)
    assert len(new_run_id()) == 12


def test_runs_and_jobs_serialise_their_state_by_value():
    run = Run("r1", "c", state=RunState.FINISHING)
    job = Job("j1", "c", "LD", state=JobState.TRANSCODING)
    assert run.to_dict()["state"] == "Finishing" and job.to_dict()["state"] == "Transcoding"
    assert json.loads(json.dumps(job.to_dict()))["definition"] == "LD"


def test_content_busy_is_bad_input_exit_2():
    assert ContentBusy("busy").exit_code == 2


def test_user_data_is_compact_sorted_json():
    assert user_data(definition="LD", contentId="c") == '{"contentId":"c","definition":"LD"}'


def test_owners_of_this_host_are_alive_only_while_their_process_is():
    assert this_owner() == f"{socket.gethostname()}:{os.getpid()}" and owner_alive(this_owner())
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(done.stdout)
    assert not pid_alive(dead) and not owner_alive(f"{socket.gethostname()}:{dead}")
    assert pid_alive(1)  # init: alive, even where we may not signal it


@pytest.mark.parametrize(
    "owner", ["other-host.example:1", "other-host:99999999", f"{socket.gethostname()}:notapid", ""]
)
def test_an_owner_we_cannot_check_is_assumed_alive(owner):
    """Another machine's process (or an unreadable owner): we cannot tell, so it is not taken over."""
    assert owner_alive(owner)
