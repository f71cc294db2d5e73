"""The long reliability run for `hlskit package`: every bad or odd input of the test suite on larger
clips, plus repeated faults (kill -9, SIGINT, SIGTERM during encoding and during encryption, disk
full, read-only output, damaged stores), plus the key material cases of
tests/reliability/key_inputs.py (`keys import`, `--key-file`, `--key-hex -`, `keys export`) and
interrupted 300,000-key imports. The checks are the test suite's own
(tests/reliability/helpers.assert_outcome, key_inputs.check); this only runs them more often and
on bigger media.

    .venv/bin/python bench/reliability_package.py [--scale 4] [--repeat 3] [--only keys]

Prints the counts: inputs tried and handled, faults survived, key inputs handled, orphans,
tracebacks. ``--only keys`` runs the key material part alone (no FFmpeg); ``--only cancel`` runs issue 25's
cancels at every phase and the odd sources (audio gaps, interlace) alone.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _pytest.outcomes import Skipped  # noqa: E402

from hlskit.engines.encode import ffmpeg_exe  # noqa: E402
from tests.conftest import _make_clip  # noqa: E402
from tests.reliability import key_inputs  # noqa: E402
from tests.reliability import test_bad_inputs as bad  # noqa: E402
from tests.reliability import test_cancel_and_odd_sources as cancels  # noqa: E402
from tests.reliability import test_faults as faults  # noqa: E402
from tests.reliability import test_key_inputs as key_tests  # noqa: E402
from tests.reliability.helpers import processes_mentioning  # noqa: E402
from tests.reliability.inputs import clip, make_source  # noqa: E402


class Tally:
    def __init__(self) -> None:
        self.tried = self.handled = self.orphans = self.tracebacks = self.skipped = 0
        self.failures: list[str] = []

    def run(self, name: str, folder: Path, check) -> None:
        self.tried += 1
        try:
            check()
            self.handled += 1
        except Skipped as exc:
            self.tried -= 1
            self.skipped += 1
            print(f"  skip {name}: {exc}", flush=True)
            return
        except Exception as exc:  # noqa: BLE001 - a bench counts failures instead of stopping
            text = "".join(traceback.format_exception_only(exc)).strip()
            self.tracebacks += "Traceback" in text
            self.failures.append(f"{name}: {text[:300]}")
        orphans = processes_mentioning(str(folder))
        self.orphans += len(orphans)
        for pid in orphans:  # never leave our own strays behind
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        print(
            f"  {'ok  ' if not self.failures or not self.failures[-1].startswith(name + ':') else 'FAIL'} {name}",
            flush=True,
        )


def run_key_inputs(work: Path, tally: Tally, repeat: int) -> None:
    """Every key material case once, and each interrupted import ``repeat`` times."""
    print(f"key inputs ({len(key_inputs.CASES)} cases, 3 interruptions x {repeat})", flush=True)
    for n, case in enumerate(key_inputs.CASES):
        folder = work / f"key-{n}"
        folder.mkdir()
        tally.run(f"key input {case.name}", folder, lambda c=case, f=folder: key_inputs.check(c, f))
    interruptions = [(signal.SIGTERM, "storing"), (signal.SIGINT, "storing"), (signal.SIGTERM, "reading")]
    for round_ in range(repeat):
        for sig, phase in interruptions:
            folder = work / f"interrupt-{sig}-{phase}-{round_}"
            folder.mkdir()
            tally.run(
                f"{signal.Signals(sig).name} while {phase} 300,000 keys #{round_ + 1}",
                folder,
                lambda s=sig, p=phase, f=folder: key_tests.test_an_interrupted_import_adds_nothing_and_is_audited(
                    s, p, 300_000, f
                ),
            )


def run_cancels(work: Path, ffmpeg: str, make_clip, faults_: Tally, inputs: Tally, repeat: int) -> None:
    """Issue 25's cancel at every phase, and the odd sources (an audio gap, interlace), ``repeat`` times."""
    print(f"cancel at every phase and odd sources (each repeated {repeat} times)", flush=True)
    for round_ in range(repeat):
        for phase in ("encode", "encrypt", "remux"):
            case = work / f"cancel-{phase}-{round_}"
            case.mkdir()
            faults_.run(
                f"hlskit cancel while {phase} #{round_ + 1}",
                case,
                lambda p=phase, c=case: cancels.test_a_cancel_at_any_phase_publishes_nothing(p, c, make_clip, ffmpeg),
            )
        odd = {
            "audio with a 4 s gap": cancels.test_a_gap_in_the_source_audio_stays_a_gap,
            "interlaced source": cancels.test_an_interlaced_source_is_deinterlaced,
        }
        for k, (name, check) in enumerate(odd.items()):
            case = work / f"odd-{k}-{round_}"
            case.mkdir()
            inputs.run(f"{name} #{round_ + 1}", case, lambda f=check, c=case: f(c, ffmpeg))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=4, help="clip size as a multiple of 320x180 (4: 1280x720)")
    parser.add_argument("--repeat", type=int, default=3, help="how many times each fault is repeated")
    parser.add_argument(
        "--only",
        choices=["all", "keys", "cancel"],
        default="all",
        help="keys: the key material part alone; cancel: cancels at every phase and the odd sources alone",
    )
    args = parser.parse_args()
    started = time.time()
    inputs, fault_tally, keys = Tally(), Tally(), Tally()
    ffmpeg = ffmpeg_exe()
    make_clip = lambda path, **kw: _make_clip(ffmpeg, path, **kw)  # noqa: E731
    if args.only in ("all", "cancel"):
        with tempfile.TemporaryDirectory(prefix="hlskit-reliability-") as tmp:
            run_cancels(Path(tmp), ffmpeg, make_clip, fault_tally, inputs, args.repeat)
    if args.only in ("all", "keys"):
        with tempfile.TemporaryDirectory(prefix="hlskit-reliability-") as tmp:
            run_key_inputs(Path(tmp), keys, args.repeat)
    if args.only != "all":
        return report(started, inputs, fault_tally, keys)
    with tempfile.TemporaryDirectory(prefix="hlskit-reliability-") as tmp:
        work = Path(tmp)
        w, h = 320 * args.scale, 180 * args.scale
        base = clip(ffmpeg, work / "base.mp4", w, h, seconds=6)
        print(f"inputs ({w}x{h} sources, {len(bad.SOURCES)} + 7 kinds, {len(bad.OPTIONS)} option cases)", flush=True)
        extra = [("mkv", 0, "")] + [(f"truncated-{pct}", 2, "truncated") for pct in (10, 25, 75, 90)]
        extra += [(f"corrupt-middle-{seed}", 0, "decode error") for seed in (2, 3)]
        for kind, code, words in bad.SOURCES + extra:
            case = work / f"src-{len(inputs.failures)}-{inputs.tried}"
            case.mkdir()

            def source_case(kind=kind, code=code, words=words, case=case):
                source = make_source(kind, case, ffmpeg, base, scale=args.scale)
                done, out, home = bad._package(str(source), case)
                bad._check(done, code, out, home, case, words)

            inputs.run(f"source {kind}", case, source_case)
        short = clip(ffmpeg, work / "short.mp4", w, h, seconds=2)  # the option cases assume a 2 s clip
        for case_id, extra, code, words in bad.OPTIONS:
            case = work / f"opt-{inputs.tried}"
            case.mkdir()
            inputs.run(
                f"option {case_id}",
                case,
                lambda e=extra, c=code, wd=words, i=case_id, d=case: bad.test_option(i, e, c, wd, d, short, ffmpeg),
            )

        long_clip = clip(ffmpeg, work / "long.mp4", 640, 360, seconds=12)
        print(f"faults (each repeated {args.repeat} times)", flush=True)
        for round_ in range(args.repeat):
            for sig in faults.SIGNALS:
                case = work / f"enc-{sig}-{round_}"
                case.mkdir()
                fault_tally.run(
                    f"{sig} during encoding #{round_ + 1}",
                    case,
                    lambda s=sig, c=case: faults.test_signal_during_encoding(s, c, long_clip),
                )
                case = work / f"crypt-{sig}-{round_}"
                case.mkdir()
                fault_tally.run(
                    f"{sig} during encryption #{round_ + 1}",
                    case,
                    lambda s=sig, c=case: faults.test_signal_during_encryption(s, c, ffmpeg, make_clip),
                )
            case = work / f"full-{round_}"
            case.mkdir()
            fault_tally.run(
                f"disk full #{round_ + 1}",
                case,
                lambda c=case: faults.test_disk_full_ends_the_definition_with_disk_full(c, make_clip),
            )
            more = {
                "disk full while encrypting": lambda c: faults.test_disk_full_while_encrypting(c, ffmpeg, make_clip),
                "FFmpeg exits 0 with a cut playlist": lambda c: (
                    faults.test_ffmpeg_exiting_0_with_a_cut_playlist_is_no_success(c, ffmpeg, make_clip)
                ),
                "output turns read-only while encoding": lambda c: faults.test_output_turns_read_only_while_encoding(
                    c, long_clip
                ),
            }
            for k, (name, check) in enumerate(more.items()):
                case = work / f"more-{k}-{round_}"
                case.mkdir()
                fault_tally.run(f"{name} #{round_ + 1}", case, lambda f=check, c=case: f(c))
            for where in ("folder", "under"):
                case = work / f"ro-{where}-{round_}"
                case.mkdir()
                fault_tally.run(
                    f"read-only output ({where}) #{round_ + 1}",
                    case,
                    lambda w=where, c=case: faults.test_read_only_output(w, c, make_clip),
                )
            for store in ("jobs.db", "keys.db"):
                for damage in ("garbage", "pages"):
                    case = work / f"store-{store}-{damage}-{round_}"
                    case.mkdir()
                    fault_tally.run(
                        f"damaged {store} ({damage}) #{round_ + 1}",
                        case,
                        lambda s=store, d=damage, c=case: faults.test_damaged_store(s, d, c, make_clip),
                    )
    return report(started, inputs, fault_tally, keys)


def report(started: float, inputs: Tally, fault_tally: Tally, keys: Tally) -> int:
    tallies = (inputs, fault_tally, keys)
    cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    print()
    print(f"machine: {platform.platform()}, {cpu} cores, Python {platform.python_version()}")
    print(f"inputs tried: {inputs.tried}, handled: {inputs.handled}")
    print(f"faults tried: {fault_tally.tried}, survived: {fault_tally.handled}, skipped: {fault_tally.skipped}")
    print(f"key inputs tried: {keys.tried}, handled: {keys.handled}")
    print(f"orphans: {sum(t.orphans for t in tallies)}, tracebacks: {sum(t.tracebacks for t in tallies)}")
    print(f"wall time: {time.time() - started:.0f} s")
    failures = [f for t in tallies for f in t.failures]
    for failure in failures:
        print(f"FAILED {failure}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
