"""`hlskit validate` on mutated fMP4 (issue 25, defects 3-5): every mutation of a real FFmpeg package
ends with exit 0 when it is equivalent to the original and with MUST findings (exit 1) otherwise,
never exit 2, a traceback or "unexpected"; from files and over HTTP (a real server on 127.0.0.1);
within the time budget and a memory ceiling (the corpus runs in a child process under RLIMIT_AS
whose peak RSS is measured). Then the issue's own reproductions, one test each.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from hlskit.domain.errors import InputError
from hlskit.hls.validate import validate
from tests.conftest import HLSKIT, REPO
from tests.hls.fmp4_mutations import (
    Mutation,
    corpus,
    million_sample_segment,
    repeated_playlist,
    validate_in_child,
    walk,
    write_cases,
)
from tests.hls.fmp4_streams import encode_fmp4
from tests.hls.hostile import HostileServer

pytestmark = pytest.mark.slow

BUDGET = 20.0  # --time-budget of each validation
AS_LIMIT = 1536 * 1024 * 1024  # address space of the child: a runaway allocation fails there
RSS_CEILING_MIB = 300


@pytest.fixture(scope="module")
def package(ffmpeg, tmp_path_factory) -> Path:
    """FFmpeg's own fMP4 HLS output, H.264 + AAC, three 1 s segments; copy before changing."""
    return encode_fmp4(ffmpeg, tmp_path_factory.mktemp("fmp4") / "h264").parent


@pytest.fixture(scope="module")
def hevc_package(ffmpeg, tmp_path_factory) -> Path:
    return encode_fmp4(ffmpeg, tmp_path_factory.mktemp("fmp4") / "hevc", codec="hevc").parent


def test_mutation_corpus_over_files_and_http_is_judged_right_within_budget_and_memory(package, tmp_path):
    folder = shutil.copytree(package, tmp_path / "pkg")
    mutations = corpus(folder)
    cases = write_cases(folder, mutations)
    assert len(cases) >= 200 and sum(m.playable for m in mutations) >= 10
    server = HostileServer(folder)
    try:
        files = [str(folder / name) for name, _ in cases]
        urls = [f"{server.url}/{name}" for name, _ in cases]
        results, rss_mib = validate_in_child(files + urls, budget=BUDGET, as_limit=AS_LIMIT)
    finally:
        server.close()
    wrong = []
    for (_, m), located in zip(cases * 2, files + urls):
        kind, code, musts, seconds, detail = results[located]
        expected = 0 if m.playable else 1
        if kind != "report" or code != expected or seconds > BUDGET:
            wrong.append(f"{located} [{m.name}]: {kind} exit {code} {musts} {detail}")
    assert wrong == [], "\n".join(wrong[:40])
    assert rss_mib < RSS_CEILING_MIB, rss_mib
    # Every family of mutation is there, and the broken ones are named by the fMP4 rules.
    assert set(Counter(m.kind for m in mutations)) >= {"size field", "rename", "truncation", "count field"}
    named = Counter(rule for name, m in cases if not m.playable for rule in results[str(folder / name)][2])
    assert {"FM1", "FM2", "FM3", "FM4", "FM5", "FM6"} <= set(named), named


def _case(folder: Path, mutation: Mutation) -> Path:
    [(name, _)] = write_cases(folder, [mutation])
    return folder / name


# Runs `hlskit validate` under the same address-space limit, kills it at its timeout (no orphan is
# left running), and prints the child's peak RSS (KiB) as the last line of stderr.
WAITER = f"""
import resource, subprocess, sys
resource.setrlimit(resource.RLIMIT_AS, ({AS_LIMIT}, {AS_LIMIT}))
try:
    p = subprocess.run(sys.argv[2:], capture_output=True, text=True, timeout=float(sys.argv[1]))
except subprocess.TimeoutExpired:
    print("timed out", file=sys.stderr)
    sys.exit(124)
sys.stdout.write(p.stdout)
sys.stderr.write(p.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(p.returncode)
"""


def _cli(playlist: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`hlskit validate` in a child under the memory ceiling; its peak RSS (KiB) ends stderr."""
    cmd = [sys.executable, "-c", WAITER, str(timeout), *HLSKIT, "validate", str(playlist), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 30, cwd=REPO)


def _must(proc: subprocess.CompletedProcess, rule: str, words: str) -> None:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "Traceback" not in out and "unexpected" not in out, out
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip().startswith(f"[{rule}]")]
    assert lines and words in lines[0], out


def _box(data: bytes, path_end: str):
    return next(n.box for n in walk(data) if n.path.endswith(path_end))


def _put(data: bytes, at: int, value: bytes) -> bytes:
    return data[:at] + value + data[at + len(value) :]


def test_a_trun_of_a_million_samples_listed_200_times_is_refused_within_budget_and_memory(package, tmp_path):
    """Defect 3: a 116-byte segment whose trun declares 1,048,575 samples, listed 200 times, with
    --time-budget 5 (it took 2.7 GB and did not end in 150 s)."""
    folder = shutil.copytree(package, tmp_path / "pkg")
    segment = million_sample_segment()
    assert len(segment) == 116
    (folder / "evil.m4s").write_bytes(segment)
    (folder / "evil.m3u8").write_text(repeated_playlist("evil.m4s", 200))
    proc = _cli(folder / "evil.m3u8", "--time-budget", "5", timeout=60)
    assert proc.returncode != 124, "still running after 60 s"
    *_, rss_kib = proc.stderr.strip().split("\n")
    assert int(rss_kib) / 1024 < RSS_CEILING_MIB, rss_kib
    _must(proc, "FM4", "evil.m4s (the trun of track 1 lists 1048575 samples; the mdat has 24 bytes for them)")
    assert "(200 in all)" in proc.stdout


def _segment_case(folder: Path, change) -> Path:
    seg = (folder / "index-00001.m4s").read_bytes()
    return _case(folder, Mutation("issue 25", "seg", change(seg), False, "repro"))


def _init_case(folder: Path, change) -> Path:
    init = (folder / "init.mp4").read_bytes()
    return _case(folder, Mutation("issue 25", "init", change(init), False, "repro"))


def _track_box(init: bytes, handler: bytes, kind: bytes):
    """The ``kind`` box of the track whose hdlr says ``handler``."""
    for n in walk(init):
        if n.box.type == b"trak":
            inside = [m for m in walk(init) if m.path.startswith(n.path + "/")]
            hdlr = next(m.box for m in inside if m.box.type == b"hdlr")
            if init[hdlr.body + 8 : hdlr.body + 12] == handler:
                return next(m.box for m in inside if m.box.type == kind)
    raise AssertionError(handler)


def _timescale_zero(handler: bytes):
    def change(init: bytes) -> bytes:
        mdhd = _track_box(init, handler, b"mdhd")
        return _put(init, mdhd.body + (20 if init[mdhd.body] == 1 else 12), bytes(4))

    return change


def _without_tfdt(seg: bytes) -> bytes:
    tfdt = _box(seg, "traf#0/tfdt#0")
    return _put(seg, tfdt.start + 4, b"free")  # the box stays (offsets hold), its type is no tfdt


REPROS = {
    "segment truncated to half": ("seg", lambda s: s[: len(s) // 2], "FM1", "runs past the end of the file"),
    "mdat size 0xFFFFFFFF": ("seg", lambda s: _put(s, _box(s, "mdat#0").start, b"\xff" * 4), "FM1", "4294967295"),
    "moof of size 0": (
        "seg",
        lambda s: _put(s, _box(s, "moof#0").start, bytes(4)),
        "FM1",
        "the moof box at byte 128 has size 0",
    ),
    "no tfdt": ("seg", _without_tfdt, "FM3", "has no tfdt box"),
    "sample entry renamed zzzz": (
        "init",
        lambda i: _put(i, _box(i, "avc1#0").start + 4, b"zzzz"),
        "FM5",
        "sample entry 'zzzz', which names no codec",
    ),
    "stsd entry_count 33": (
        "init",
        lambda i: _put(i, _box(i, "trak#0/mdia#0/minf#0/stbl#0/stsd#0").body + 4, struct.pack(">I", 33)),
        "FM5",
        "says 33 sample entries but holds 1",
    ),
    "audio mdhd timescale 0": ("init", _timescale_zero(b"soun"), "FM5", "gives a timescale of 0"),
    "video mdhd timescale 0": ("init", _timescale_zero(b"vide"), "FM5", "gives a timescale of 0"),
}


@pytest.mark.parametrize("name", list(REPROS))
def test_issue_25_reproductions_are_must_findings(package, tmp_path, name):
    """Defects 4 and 5: each passed (exit 0) or crashed (exit 2, "unexpected ZeroDivisionError")."""
    folder = shutil.copytree(package, tmp_path / "pkg")
    target, change, rule, words = REPROS[name]
    playlist = (_segment_case if target == "seg" else _init_case)(folder, change)
    _must(_cli(playlist), rule, words)


def test_a_corrupted_hvcc_is_a_must_finding(hevc_package, tmp_path):
    """Defect 4: the hvcC's SPS overwritten (FFmpeg then decodes no frame at all)."""
    folder = shutil.copytree(hevc_package, tmp_path / "pkg")

    def corrupt(init: bytes) -> bytes:
        hvcc = _box(init, "hvcC#0")
        vps_len = int.from_bytes(init[hvcc.body + 26 : hvcc.body + 28], "big")
        sps = hvcc.body + 28 + vps_len + 3 + 2  # the SPS NAL unit, after its array header and length
        return _put(init, sps, b"\xff" * 12)

    _must(_cli(_init_case(folder, corrupt)), "FM6", "the hvcC of track 1 cannot be read")


def test_hlskit_own_style_packages_stay_clean(package, hevc_package, tmp_path):
    """The strict reader passes what FFmpeg writes (H.264 and HEVC), clear and unchanged."""
    for pkg in (package, hevc_package):
        proc = _cli(pkg / "ffmpeg.m3u8")
        assert proc.returncode == 0 and "MUST fix: 0" in proc.stdout, proc.stdout + proc.stderr


def test_the_time_budget_bounds_a_run_over_local_fmp4_segments(package, tmp_path):
    """Defect 3's other half: --time-budget held only for HTTP fetches; a long playlist of local
    segments ran on past it. 20,000 real segments take tens of seconds to read; 0.5 s is the budget."""
    folder = shutil.copytree(package, tmp_path / "pkg")
    (folder / "long.m3u8").write_text(repeated_playlist("index-00002.m4s", 20_000))
    with pytest.raises(InputError, match=r"did not finish within its 0\.5 s time budget"):
        validate(str(folder / "long.m3u8"), time_budget=0.5)
