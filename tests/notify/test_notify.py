"""Notifications: real HTTP to a receiver on 127.0.0.1, a real local command, real job store."""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import sys
import time

import pytest

from hlskit.config import load_settings
from hlskit.domain.configs import NotifyConfig
from hlskit.domain.errors import ConfigError, InputError
from hlskit.domain.runs import Job, JobState, new_job_id, user_data
from hlskit.notify import (
    ATTEMPT_HEADER,
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Notifier,
    Retry,
    load_notify_secret,
    verify_signature,
)
from hlskit.stores.jobs import JobStore

FAST = Retry(attempts=4, first_delay=0.05, max_delay=0.2)


def ended_job(store: JobStore, content_id: str, definition: str, state=JobState.SUCCESS, **fields) -> Job:
    job = store.add(Job(new_job_id(), content_id, definition, user_data=user_data(vid="v-1"), **fields))
    store.update(job.job_id, state=JobState.TRANSCODING)
    return store.update(job.job_id, state=state, code=fields.get("code", ""), message=fields.get("message", ""))


@pytest.fixture
def store(settings) -> JobStore:
    return JobStore.open(settings.store_config())


def test_receiver_failing_twice_gets_the_event_once(receiver, settings, store):
    receiver.statuses = [500, 500]
    job = ended_job(store, "c1", "LD")
    notifier = Notifier.from_targets([receiver.url], settings.notify_config(), retry=FAST)
    notifier.job_ended(job)
    assert notifier.close(timeout=10) is True

    assert len(receiver.requests) == 3  # 500, 500, 200
    assert {r["body"] for r in receiver.requests} == {receiver.requests[0]["body"]}  # same bytes each time
    assert [r["headers"][ATTEMPT_HEADER] for r in receiver.requests] == ["1", "2", "3"]
    assert {r["headers"][EVENT_ID_HEADER] for r in receiver.requests} == {f"Transcode.{job.job_id}"}
    assert receiver.processed == 1 and notifier.delivered == 1
    for r in receiver.requests:
        assert verify_signature(receiver.secret, r["body"], r["headers"][SIGNATURE_HEADER])


def test_one_correctly_signed_event_per_job_and_one_per_package(receiver, settings, store):
    jobs = [
        ended_job(store, "c2", "LD"),
        ended_job(store, "c2", "SD"),
        ended_job(store, "c2", "HD", JobState.FAIL, code="EncoderFailed", message="ffmpeg exited 1"),
    ]
    with Notifier.from_targets([receiver.url], settings.notify_config(), retry=FAST) as notifier:
        for job in jobs:
            notifier.job_ended(job)
        notifier.package_ended("c2", jobs, output="out/c2/master.m3u8", user_data=jobs[0].user_data)

    assert len(receiver.requests) == 4 and receiver.processed == 4
    events = receiver.bodies()
    transcode = {e["jobId"]: e for e in events if e["type"] == "Transcode"}
    assert set(transcode) == {j.job_id for j in jobs}
    for job in jobs:
        e = transcode[job.job_id]
        assert e["contentId"] == "c2" and e["definition"] == job.definition
        assert e["state"] == ("Fail" if job.definition == "HD" else "Success")
        assert e["userData"] == '{"vid":"v-1"}'
    assert transcode[jobs[2].job_id]["code"] == "EncoderFailed"
    assert transcode[jobs[2].job_id]["message"] == "ffmpeg exited 1"

    package = next(e for e in events if e["type"] == "Package")
    assert package["state"] == "Fail" and package["code"] == "JobFailed"
    assert [j["definition"] for j in package["jobs"]] == ["LD", "SD", "HD"]
    assert package["output"] == "out/c2/master.m3u8"

    for r in receiver.requests:
        body, headers = r["body"], r["headers"]
        assert headers["Content-Type"] == "application/json"
        assert headers[SIGNATURE_HEADER].startswith("sha256=")
        assert verify_signature(receiver.secret, body, headers[SIGNATURE_HEADER])
        assert not verify_signature(receiver.secret, body.replace(b"c2", b"c3"), headers[SIGNATURE_HEADER])
        assert not verify_signature("another-secret", body, headers[SIGNATURE_HEADER])
        assert headers[TIMESTAMP_HEADER] == str(json.loads(body)["time"])


def test_all_jobs_succeeding_make_a_successful_package_event(receiver, settings, store):
    jobs = [ended_job(store, "c3", "LD"), ended_job(store, "c3", "SD")]
    with Notifier.from_targets([receiver.url], settings.notify_config(), retry=FAST) as notifier:
        notifier.package_ended("c3", jobs)
    (event,) = receiver.bodies()
    assert (event["type"], event["state"], event["code"]) == ("Package", "Success", "")


def test_cancelled_job_is_a_fail_with_code_cancelled(receiver, settings, store):
    job = store.add(Job(new_job_id(), "c4", "LD"))
    job = store.cancel(job.job_id)
    with Notifier.from_targets([receiver.url], settings.notify_config(), retry=FAST) as notifier:
        notifier.job_ended(job)
    (event,) = receiver.bodies()
    assert (event["state"], event["code"]) == ("Fail", "Cancelled")


def test_job_ended_does_not_wait_for_the_receiver(receiver, settings, store):
    receiver.gate.clear()  # the receiver holds every request until the gate opens
    notifier = Notifier.from_targets([receiver.url], settings.notify_config(), retry=FAST)
    notifier.job_ended(ended_job(store, "c5", "LD"))
    assert receiver.requests == []  # job_ended returned while delivery is still stuck
    receiver.gate.set()
    assert notifier.close(timeout=10) is True
    assert len(receiver.requests) == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_target_is_one_log_line_and_never_raises(settings, store, caplog):
    url = f"http://127.0.0.1:{_closed_port()}/hook?token=hush"
    notifier = Notifier.from_targets([url], settings.notify_config(), retry=Retry(attempts=3, first_delay=0.01))
    with caplog.at_level(logging.WARNING, logger="hlskit.notify"):
        notifier.job_ended(ended_job(store, "c6", "LD"))
        assert notifier.close(timeout=10) is False
    lines = [r.getMessage() for r in caplog.records if r.name == "hlskit.notify"]
    assert len(lines) == 1 and "gave up" in lines[0] and "after 3 attempt(s)" in lines[0]
    assert "hush" not in lines[0] and "\n" not in lines[0]


def test_client_error_is_not_retried(receiver, settings, store, caplog):
    receiver.statuses = [404]
    notifier = Notifier.from_targets([receiver.url], settings.notify_config(), retry=FAST)
    with caplog.at_level(logging.WARNING, logger="hlskit.notify"):
        notifier.job_ended(ended_job(store, "c7", "LD"))
        assert notifier.close(timeout=10) is False
    assert len(receiver.requests) == 1
    assert "HTTP 404" in caplog.text


def test_close_gives_up_at_its_timeout(receiver, settings, store, caplog):
    receiver.statuses = [503] * 50
    notifier = Notifier.from_targets([receiver.url], settings.notify_config(), retry=Retry(attempts=10, first_delay=60))
    with caplog.at_level(logging.WARNING, logger="hlskit.notify"):
        notifier.job_ended(ended_job(store, "c8", "LD"))
        assert notifier.close(timeout=0.5) is False
    # the cause is named (it said "still retrying" and nothing of the 503s)
    assert "after 1 attempt(s) (HTTP 503): hlskit exited while retrying" in caplog.text, caplog.text
    notifier.job_ended(ended_job(store, "c8", "SD"))  # after close: logged, not sent, no error
    assert "came after close" in caplog.text


def test_a_hung_command_is_reported_and_does_not_outlive_close(tmp_path, settings, store, caplog):
    pid_file = tmp_path / "pid"
    script = tmp_path / "hang.py"
    script.write_text(f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(300)\n")
    notifier = Notifier.from_targets([f"exec:{sys.executable} {script}"], settings.notify_config(), retry=FAST)
    with caplog.at_level(logging.WARNING, logger="hlskit.notify"):
        notifier.job_ended(ended_job(store, "c10", "LD"))
        deadline = time.monotonic() + 10
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert notifier.close(timeout=0.5) is False
    assert "not delivered to exec:" in caplog.text and "(no answer yet)" in caplog.text, caplog.text  # was silent
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)  # it ran on for 300 s after hlskit exited


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie waiting for its parent's wait() is gone too
        return stat.read().split()[2] != "Z"


def test_command_target_gets_the_event_on_stdin_once(tmp_path, settings, store, monkeypatch):
    script = tmp_path / "hook.py"
    script.write_text(
        "import os, sys, pathlib\n"
        "out, flag = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])\n"
        "if not flag.exists():\n"
        "    flag.write_text('x'); sys.exit('receiver not ready')\n"  # fail the first time
        "with out.open('a') as f: f.write(os.environ['HLSKIT_EVENT_ID'] + ' ' + sys.stdin.read() + '\\n')\n"
        "pathlib.Path(sys.argv[3]).write_text(' '.join(sorted(k for k in os.environ if k.startswith('HLSKIT_'))))\n"
    )
    out, flag, seen = tmp_path / "events.txt", tmp_path / "flag", tmp_path / "env.txt"
    job = ended_job(store, "c9", "LD")
    target = f"exec:{sys.executable} {script} {out} {flag} {seen}"
    monkeypatch.setenv("HLSKIT_TOKEN_SECRET", "the-token-secret-the-hook-must-not-see")
    with Notifier.from_targets([target], settings.notify_config(), retry=FAST) as notifier:
        notifier.job_ended(job)
    (line,) = out.read_text().splitlines()
    event_id, _, body = line.partition(" ")
    assert event_id == f"Transcode.{job.job_id}" and json.loads(body)["jobId"] == job.job_id
    # hlskit's settings (its secrets among them) stay out of the command's environment
    assert seen.read_text() == "HLSKIT_EVENT_ID HLSKIT_EVENT_TYPE"


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("ftp://example.com/x", "not supported"),
        ("mns:mts-queue", "need an MNS endpoint"),
        ("https:///path", "no host"),
        ("https://[::1/hook", "not a valid URL"),  # was a ValueError traceback
        ("https://hooks.example.com:99999/h", "not a valid URL"),
        ("https://hooks example.com/h", "characters a URL cannot"),  # was accepted, then never delivered
        ('https://hooks.example.com/"h', "characters a URL cannot"),
        ("exec:", "names no command"),
        ("exec:/no/such/cmd --flag", "not an executable file: check the path"),  # it said "give its full path"
        ("exec:nosuchcmd", "not an executable file: give its full path"),
        ("exec:/bin/echo 'unclosed", "quotes"),
    ],
)
def test_bad_targets_are_refused_up_front(settings, spec, fragment):
    with pytest.raises(InputError, match=fragment):
        Notifier.from_targets([spec], settings.notify_config())


@pytest.mark.parametrize(
    "spec, shown",
    [
        ("http://user:pw123@127.0.0.1:8766/x y?sig=SECRETQ", "'http://***@127.0.0.1:8766/x y?***'"),
        ('https://hooks.example.com/h"?token=SECRETQ', "'https://hooks.example.com/h\"?***'"),
        ("https://user:pw123@[::1/h?sig=SECRETQ", "'https://***@[::1/h?***'"),
        ("exec:/bin/echo 'SECRETQ", "'exec:/bin/echo ...'"),
    ],
)
def test_refusals_do_not_show_a_target_s_credentials(settings, spec, shown):
    with pytest.raises(InputError) as err:
        Notifier.from_targets([spec], settings.notify_config())
    assert f"notify target {shown}" in err.value.message
    assert "SECRETQ" not in err.value.message and "pw123" not in err.value.message


def test_secret_file_is_made_0600_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("HLSKIT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HLSKIT_NOTIFY_SECRET", raising=False)
    monkeypatch.delenv("HLSKIT_CONFIG", raising=False)
    settings = load_settings()
    first = load_notify_secret(settings.notify_config())
    path = tmp_path / "home" / "notify.secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 64 and load_notify_secret(settings.notify_config()) == first
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_notify_secret(settings.notify_config())


@pytest.mark.parametrize("weak", ["short", " " * 40, "ab" * 20])
def test_a_weak_notify_secret_is_refused(tmp_path, weak):
    with pytest.raises(ConfigError, match="^notify_secret is too weak: set HLSKIT_NOTIFY_SECRET"):
        load_notify_secret(NotifyConfig(weak, tmp_path))
    (tmp_path / "notify.secret").write_text(weak)
    (tmp_path / "notify.secret").chmod(0o600)
    with pytest.raises(ConfigError, match="notify.secret is too weak: delete it"):
        load_notify_secret(NotifyConfig(None, tmp_path))


def test_webhook_signed_with_the_secret_file_when_no_setting(receiver, tmp_path, monkeypatch, store):
    monkeypatch.delenv("HLSKIT_NOTIFY_SECRET", raising=False)
    settings = load_settings()
    receiver.secret = load_notify_secret(settings.notify_config()).decode()
    with Notifier.from_targets([receiver.url], settings.notify_config(), retry=FAST) as notifier:
        notifier.job_ended(ended_job(store, "c10", "LD"))
    assert receiver.processed == 1  # the receiver checked the signature with the file's secret


def test_no_targets_is_a_no_op(settings, store):
    notifier = Notifier.from_targets(["", "  "], settings.notify_config())
    notifier.job_ended(ended_job(store, "c11", "LD"))
    assert notifier.close(timeout=1) is True and notifier._thread is None


def test_package_event_from_a_package_result(receiver, settings, store):
    from hlskit.pipeline import PackageResult

    jobs = [ended_job(store, "c12", "LD")]
    result = PackageResult(content_id="c12", run_id="r12", dir="out/c12", manifest={}, jobs=jobs)
    with Notifier.from_targets([receiver.url], settings.notify_config(), retry=FAST) as notifier:
        notifier.package_ended(result)
    (event,) = receiver.bodies()
    assert (event["type"], event["state"], event["contentId"]) == ("Package", "Success", "c12")
    assert event["output"] == "out/c12/master.m3u8" and event["jobs"][0]["jobId"] == jobs[0].job_id
