"""Odd and hostile key material for `hlskit keys import`, `package --key-file`/`--key-hex -` and
`keys export`, shared by tests/reliability/test_key_inputs.py and bench/reliability_package.py.

Each case builds its input in a fresh folder, runs the real CLI in a subprocess (stdin and stdout
closed, devices, FIFOs, sparse files of any size), and checks the contract: the documented exit
code, exactly one ``error:`` sentence and no traceback on failure, within a time bound (a read
that blocks or never ends fails the case), and the key store holding all of the file's keys or
none of them.
"""

from __future__ import annotations

import codecs
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hlskit.stores.keys import KeyStore

HLSKIT = [sys.executable, "-m", "hlskit"]
ROOT = Path(__file__).resolve().parents[2]
KEY = bytes(range(16, 32))
TIMEOUT = 60  # seconds; every case ends in a second or two, a blocked read does not


def export_lines(count: int, content_id: str = "imp", prefix: str = "k") -> str:
    """``count`` lines as `hlskit keys export` prints them (fixed keys, distinct key ids)."""
    return "".join(
        json.dumps({"content_id": content_id, "key_id": f"{prefix}{i:07d}", "iv": f"{i:032x}", "key": KEY.hex()}) + "\n"
        for i in range(count)
    )


@dataclass
class Run:
    """What a case runs: CLI arguments, and what stdin/stdout are."""

    args: list[str]
    stdin: bytes | Path | None = None  # bytes piped in, or a path opened as stdin
    close_stdin: bool = False
    close_stdout: bool = False
    close_pipe_early: bool = False  # stdout a pipe whose reader is gone before the first write
    stdout: Path | None = None  # a path opened as stdout (/dev/full: a disk with no room)


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], Run]
    exit: int  # 0, 2 (bad input)
    words: str = ""  # in the error sentence
    stored: int = 0  # keys of content "imp" in the store afterwards
    before: Callable[[Path], None] = field(default=lambda home: None)  # prepare the home


def _file(name: str, data: bytes, args: Callable[[Path], list[str]] | None = None) -> Callable[[Path], Run]:
    def build(d: Path) -> Run:
        (d / name).write_bytes(data)
        return Run((args or _import)(d / name))

    return build


def _sparse(name: str, size: int, args: Callable[[Path], list[str]]) -> Callable[[Path], Run]:
    def build(d: Path) -> Run:
        with open(d / name, "wb") as f:
            f.truncate(size)  # no disk used: a hole
        return Run(args(d / name))

    return build


def _fifo(args: Callable[[Path], list[str]]) -> Callable[[Path], Run]:
    def build(d: Path) -> Run:
        os.mkfifo(d / "fifo")  # nobody ever writes: a blocking open or read would hang the case
        return Run(args(d / "fifo"))

    return build


def _package(path: Path) -> list[str]:
    return ["package", str(path.parent / "no-source.mp4"), "--out", str(path.parent / "out"), "--key-file", str(path)]


def _import(path: Path) -> list[str]:
    return ["keys", "import", str(path)]


def _live_key(home: Path) -> None:
    KeyStore(home / "keys.db", home / "master.key").create("exp")


GOOD = export_lines(3)
DEEP = "[" * 100_000 + "\n"

CASES: list[Case] = [
    # --- encodings: accepted or refused in one sentence ---------------------------------------
    Case("utf-8", _file("k.jsonl", GOOD.encode()), 0, stored=3),
    Case("utf-8 with BOM", _file("k.jsonl", codecs.BOM_UTF8 + GOOD.encode()), 0, stored=3),
    Case("utf-16-le with BOM", _file("k.jsonl", codecs.BOM_UTF16_LE + GOOD.encode("utf-16-le")), 0, stored=3),
    Case("utf-16-be with BOM", _file("k.jsonl", codecs.BOM_UTF16_BE + GOOD.encode("utf-16-be")), 0, stored=3),
    Case("CRLF line ends", _file("k.jsonl", GOOD.replace("\n", "\r\n").encode()), 0, stored=3),
    Case("utf-16 without BOM", _file("k.jsonl", GOOD.encode("utf-16-le")), 2, "NUL characters"),
    Case("utf-32 with BOM", _file("k.jsonl", codecs.BOM_UTF32_LE + GOOD.encode("utf-32-le")), 0, stored=3),
    Case("latin-1 byte", _file("k.jsonl", GOOD.encode() + b'{"content_id": "caf\xe9"}\n'), 2, "not UTF-8 text (line 4)"),
    Case("random bytes", _file("k.jsonl", bytes(range(128, 256)) * 64), 2, "not UTF-8 text"),
    Case("utf-16 BOM, odd length", _file("k.jsonl", codecs.BOM_UTF16_LE + GOOD.encode("utf-16-le") + b"x"), 2, "not UTF-16 text"),
    # --- shapes ----------------------------------------------------------------------------
    Case("100,000 nested [", _file("k.jsonl", DEEP.encode()), 2, "characters long"),
    Case("1,000 nested [ (under the line cap)", _file("k.jsonl", ("[" * 1000 + "\n").encode()), 2, "not JSON"),
    Case("one 1 MB line", _file("k.jsonl", (" " * 1_000_000 + GOOD).encode()), 2, "characters long"),
    Case("empty file", _file("k.jsonl", b""), 2, "holds no keys"),
    Case("good lines, then a bad one", _file("k.jsonl", (GOOD + "{}\n").encode()), 2, "line 4"),
    Case("a line twice", _file("k.jsonl", (GOOD + GOOD.splitlines()[0] + "\n").encode()), 2, "twice"),
    Case(
        "a key already stored",
        _file("k.jsonl", (export_lines(2, prefix="x") + GOOD).encode()),
        2,
        "already in this key store",
        stored=1,  # the one stored before: the other two lines are not added
        before=lambda home: KeyStore(home / "keys.db", home / "master.key").add("imp", KEY, KEY, key_id="k0000000"),
    ),
    # --- what is not a regular file, or too large -------------------------------------------
    Case("import /dev/zero", lambda d: Run(["keys", "import", "/dev/zero"]), 2, "device, FIFO or socket"),
    Case("import a FIFO", _fifo(_import), 2, "device, FIFO or socket"),
    Case("import a folder", lambda d: Run(["keys", "import", str(d)]), 2, "a folder"),
    Case("import a missing file", lambda d: Run(["keys", "import", str(d / "nope")]), 2, "cannot be read"),
    Case("import a 100 MB file", _sparse("big.jsonl", 100 * 1024 * 1024, _import), 2, "larger than 64 MiB"),
    Case("import - from /dev/zero", lambda d: Run(["keys", "import", "-"], Path("/dev/zero")), 2, "larger than 64 MiB"),
    Case("import - with stdin closed", lambda d: Run(["keys", "import", "-"], close_stdin=True), 2, "standard input is closed"),
    Case("import - utf-16 on stdin", lambda d: Run(["keys", "import", "-"], codecs.BOM_UTF16_LE + GOOD.encode("utf-16-le")), 0, stored=3),
    Case("--key-file /dev/zero", lambda d: Run(_package(Path("/dev/zero"))), 2, "device, FIFO or socket"),
    Case("--key-file a FIFO", _fifo(_package), 2, "device, FIFO or socket"),
    Case("--key-file 1 GB sparse", _sparse("key.bin", 1 << 30, _package), 2, "larger than 256 bytes"),
    Case("--key-file 17 bytes", _file("key.bin", KEY + b"!", _package), 2, "must hold 16 raw bytes or 32 hex characters"),
    Case("--key-hex - with stdin closed", lambda d: Run(_package(d / "x")[:-2] + ["--key-hex", "-"], close_stdin=True), 2, "standard input is closed"),
    Case("--key-hex - from /dev/zero", lambda d: Run(_package(d / "x")[:-2] + ["--key-hex", "-"], Path("/dev/zero")), 2, "larger than 256 bytes"),
    Case("--key-hex - non-ASCII", lambda d: Run(_package(d / "x")[:-2] + ["--key-hex", "-"], "é".encode() * 16), 2, "must hold 32 hex characters"),
    Case("export, stdout closed", lambda d: Run(["keys", "export", "exp", "--i-understand-this-prints-keys"], close_stdout=True), 2, "standard output, which is closed", before=_live_key),
    Case("export, reader gone", lambda d: Run(["keys", "export", "exp", "--i-understand-this-prints-keys"], close_pipe_early=True), 2, "closed its end", before=_live_key),
    Case("export, disk full", lambda d: Run(["keys", "export", "exp", "--i-understand-this-prints-keys"], stdout=Path("/dev/full")), 2, "could not write every key to its output (No space left on device)", before=_live_key),
]  # fmt: skip


def env_for(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HLSKIT_")}
    env.update(HLSKIT_HOME=str(home), HLSKIT_CONFIG=str(home.parent / "none.toml"), PYTHONPATH=str(ROOT))
    return env


def execute(run: Run, home: Path, cwd: Path) -> subprocess.CompletedProcess:
    """Run the CLI as the case says; TimeoutExpired when it blocks."""
    closing = [fd for fd, yes in ((0, run.close_stdin), (1, run.close_stdout)) if yes]
    stdin_file = open(run.stdin, "rb") if isinstance(run.stdin, Path) else None
    stdout_file = open(run.stdout, "wb") if run.stdout else None
    try:
        proc = subprocess.Popen(
            [*HLSKIT, *run.args],
            stdin=stdin_file or (subprocess.PIPE if isinstance(run.stdin, bytes) else subprocess.DEVNULL),
            stdout=stdout_file or subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env_for(home),
            cwd=cwd,
            preexec_fn=(lambda: [os.close(fd) for fd in closing]) if closing else None,
        )
        if run.close_pipe_early:
            proc.stdout.close()  # before the interpreter has even started: every write gets EPIPE
            proc.stdout = None
        out, err = proc.communicate(run.stdin if isinstance(run.stdin, bytes) else None, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    finally:
        for opened in (stdin_file, stdout_file):
            if opened:
                opened.close()
    return subprocess.CompletedProcess(
        proc.args, proc.returncode, (out or b"").decode(errors="replace"), err.decode(errors="replace")
    )


def stored(home: Path, content_id: str = "imp") -> int:
    if not (home / "keys.db").exists():
        return 0
    return len(KeyStore(home / "keys.db", home / "master.key").list(content_id))


def audit_events(home: Path) -> list[dict]:
    log = home / "audit.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def check(case: Case, folder: Path) -> None:
    """Run one case in ``folder`` and assert its contract."""
    home = folder / "home"
    home.mkdir(parents=True, mode=0o700)
    (folder / "none.toml").write_text("")
    case.before(home)
    done = execute(case.build(folder), home, folder)
    err = done.stderr
    assert "Traceback" not in err, err
    assert done.returncode == case.exit, f"exit {done.returncode}, expected {case.exit}: {err}"
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    if case.exit == 0:
        assert errors == [], err
    else:
        assert len(errors) == 1, err
        assert case.words in errors[0] and errors[0].endswith("."), errors[0]
        assert KEY.hex() not in err
    assert stored(home) == case.stored, f"{stored(home)} keys stored, expected {case.stored}"
    if case.name.startswith("export"):
        # Nothing reached anyone when stdout was closed: no export line; EPIPE happens after the audit.
        exported = [e for e in audit_events(home) if e["event"] == "key-export"]
        assert len(exported) == (0 if "stdout closed" in case.name else 1), exported


# --- interruption -----------------------------------------------------------------------------


def handler_installed(pid: int, sig: int) -> bool:
    """Whether ``pid`` catches ``sig`` (/proc/<pid>/status SigCgt): the import's guard is armed."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    return False


def _size(path: Path) -> int:
    """The file's size, 0 while it does not exist (SQLite removes its WAL at a checkpoint)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def interrupt_import(folder: Path, lines: int, sig: int, phase: str) -> tuple[subprocess.CompletedProcess, Path]:
    """Start `keys import` of ``lines`` keys and send ``sig`` while it reads ("reading": the guard is
    armed and the store not yet open) or while it stores ("storing": the write transaction has
    spilled at least 1 MB into SQLite's write-ahead log). -> (the finished process, its home)."""
    home = folder / "home"
    home.mkdir(parents=True, mode=0o700)
    (folder / "none.toml").write_text("")
    data = folder / "keys.jsonl"
    data.write_text(export_lines(lines))
    proc = subprocess.Popen(
        [*HLSKIT, "keys", "import", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env_for(home),
        cwd=folder,
    )
    wal = home / "keys.db-wal"
    deadline = time.monotonic() + TIMEOUT
    while proc.poll() is None and time.monotonic() < deadline:
        if phase == "reading" and handler_installed(proc.pid, signal.SIGTERM) and not (home / "keys.db").exists():
            break
        if phase == "storing" and _size(wal) > 1 << 20:
            break
        time.sleep(0.005)
    else:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"the import ended (exit {proc.returncode}) before the {phase} phase was seen: {err}")
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=TIMEOUT)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out.decode(), err.decode()), home
