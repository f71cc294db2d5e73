"""What every reliability case checks: exit code, one error sentence, nothing visible, no live key, no orphan."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

from hlskit.stores.keys import KeyStore

# hlskit.cli.progress's plain lines: "LD: 40%", "LD: 40% (2.10× real time, ~3 s left)", "LD: failed".
PROGRESS_LINE = re.compile(r"\S+( \S+)?: (\d+%( \(\d+\.\d+× real time(, ~\d+ s left)?\))?|done|failed|cancelled)")

EXIT_OK, EXIT_JOB, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


def visible(out: Path) -> list[str]:
    """Entries under --out a user (or a web server) would see: not the hidden staging folders."""
    return sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) if out.is_dir() else []


def live_keys(home: Path) -> set[tuple[str, str]]:
    if not (home / "keys.db").exists():
        return set()
    return {(r.content_id, r.key_id) for r in KeyStore(home / "keys.db", home / "master.key").list() if not r.revoked}


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains ``text`` (a test's own tmp folder), zombies excluded."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z" and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found


def ffmpeg_children(pid: int) -> list[int]:
    """FFmpeg processes whose parent is ``pid``."""
    kids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and "ffmpeg" in Path(cmd).name:
            kids.append(int(entry.name))
    return kids


def gone_within(pids: list[int], seconds: float) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        alive = [p for p in pids if Path(f"/proc/{p}").exists() and _state(p) != "Z"]
        if not alive:
            return True
        time.sleep(0.05)
    return False


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def assert_outcome(done: subprocess.CompletedProcess, code: int, out: Path, home: Path, marker: str) -> None:
    """The contract of issue 11 for one `hlskit package` run that has ended."""
    err = done.stderr
    assert done.returncode == code, f"exit {done.returncode}, expected {code}\n{err}"
    assert "Traceback" not in err and "Traceback" not in done.stdout, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert not processes_mentioning(marker), "an FFmpeg (or other) process outlived hlskit"
    if code == EXIT_OK:
        assert errors == [], err
        [package] = visible(out)
        assert (out / package / "master.m3u8").is_file()
        return
    assert len(errors) == 1, err
    sentence = errors[0]
    assert sentence.endswith(".") and sentence.count("\n") == 0 and len(sentence) > 20, sentence
    others = [line for line in err.splitlines() if line.strip() and not line.startswith(("error:", "warning:"))]
    assert all(PROGRESS_LINE.fullmatch(line.rstrip()) for line in others), err  # progress lines only
    assert visible(out) == [], visible(out)
    assert live_keys(home) == set(), "a run that did not publish left a live key"


def send(proc: subprocess.Popen, sig: int) -> None:
    os.kill(proc.pid, sig)


SIGNALS = {"SIGKILL": signal.SIGKILL, "SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM}
