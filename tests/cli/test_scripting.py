"""CLI for scripting: `--dry-run` (the plan and the exact FFmpeg command, nothing touched),
`--json` on submit and stitch, and the encoder flags (--preset, --rate-control, --crf) reaching
x264: proven from the options string x264 writes into the stream it encoded."""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path

import pytest
from rich.console import Console

from hlskit.cli.progress import package_progress
from hlskit.domain.plan import PackageOptions
from hlskit.domain.settings import Settings
from hlskit.engines import get_engine
from hlskit.engines.encode import ffmpeg_exe
from hlskit.pipeline import start_run
from hlskit.stores.jobs import JobStore
from hlskit.stores.keys import KeyStore
from tests.cli.conftest import clean_env, hlskit
from tests.conftest import HLSKIT, _make_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return _make_clip(ffmpeg_exe(), tmp_path_factory.mktemp("scripting") / "clip.mp4", seconds=2)


def run(tmp_path: Path, *args: str):
    return hlskit(*args, cwd=tmp_path, env=clean_env(HLSKIT_HOME=str(tmp_path / "home")))


@pytest.mark.slow
def test_package_dry_run_json_gives_the_plan_and_the_ffmpeg_command_and_touches_nothing(tmp_path, clip):
    got = run(
        tmp_path, "package", str(clip), "--out", "out", "--content-id", "dry", "--segment-duration", "2",
        "--key-url", "/keys", "--preset", "slow", "--crf", "30", "--dry-run", "--json",
    )  # fmt: skip
    assert got.returncode == 0, got.stderr
    plan = json.loads(got.stdout)
    assert plan["dry_run"] is True and plan["content_id"] == "dry" and plan["engine"] == "local"
    assert plan["segment_duration"] == 2 and plan["key_url"] == "/keys" and plan["encrypt"] is True
    assert plan["x264_preset"] == "slow" and plan["rate_control"] == "capped-crf" and plan["crf"] == 30
    assert [(r["name"], r["width"], r["height"]) for r in plan["ladder"]] == [("LD", 320, 180)]
    assert plan["ladder"][0]["video_kbps"] > 0 and plan["ladder"][0]["maxrate_kbps"] > plan["ladder"][0]["video_kbps"]
    out = (tmp_path / "out").resolve()
    assert plan["outputs"] == [f"{out}/dry/master.m3u8", f"{out}/dry/LD/index.m3u8"]
    args = plan["ffmpeg"]
    assert Path(args[0]).name.startswith("ffmpeg") and args[args.index("-i") + 1] == str(clip)
    assert args[args.index("-preset:v:0") + 1] == "slow" and args[args.index("-crf:v:0") + 1] == "30"
    assert "-b:v:0" not in args and args[args.index("-hls_time") + 1] == "2"
    assert args[args.index("-c:v:0") + 1] == "libx264"
    # Nothing was made: no out folder, no home (so no run, job or key in any store).
    assert not (tmp_path / "out").exists() and not (tmp_path / "home").exists()

    text = run(tmp_path, "package", str(clip), "--out", "out", "--content-id", "dry", "--dry-run")
    assert text.returncode == 0, text.stderr
    # a webhook is checked without its signing secret being made (no home folder either)
    hook = ["--notify", "https://hooks.example.com/hls", "--dry-run"]
    assert run(tmp_path, "package", str(clip), "--out", "out", *hook).returncode == 0
    assert not (tmp_path / "home").exists()
    bad = run(tmp_path, "package", str(clip), "--out", "out", "--notify", "https://hooks example.com/", "--dry-run")
    assert bad.returncode == 2 and "characters a URL cannot" in bad.stderr, bad.stderr
    assert "nothing was written" in text.stdout and "ffmpeg: " in text.stdout and "-b:v" in text.stdout
    assert not (tmp_path / "out").exists() and not (tmp_path / "home").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--preset", "warp"], "--preset must be one of"),
        (["--crf", "60"], "--crf must be a whole number from 0 to 51"),
        (["--rate-control", "cbr"], "--rate-control must be abr or capped-crf"),
        (["--rate-control", "abr", "--crf", "20"], "pass only one"),
    ],
)
def test_bad_encoder_flags_are_one_sentence_and_touch_nothing(tmp_path, clip, flags, words):
    got = run(tmp_path, "package", str(clip), "--out", "out", *flags)
    assert got.returncode == 2 and words in got.stderr, got.stderr
    assert "Traceback" not in got.stderr and len(got.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_preset_and_crf_reach_x264_and_stitch_json_reports_the_master(tmp_path, clip):
    got = run(
        tmp_path, "package", str(clip), "--out", "out", "--content-id", "crf", "--segment-duration", "1",
        "--no-encrypt", "--preset", "superfast", "--crf", "31",
    )  # fmt: skip
    assert got.returncode == 0, got.stderr
    # x264 writes its options into the stream (an SEI): the encode ran with what the flags said.
    segment = tmp_path / "out" / "crf" / "LD" / "index-00001.ts"
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(segment), "-map", "0:v", "-c", "copy", "-f", "h264", "-"],
        capture_output=True,
        check=True,
    ).stdout  # the elementary stream, out of its 188-byte TS packets
    options = raw[raw.index(b"x264 - core") :].split(b"\x00", 1)[0].decode("ascii", "replace")
    assert "rc=crf" in options and "crf=31.0" in options, options
    assert "subme=1" in options  # superfast's subme (veryfast, the default, uses 2)

    stitched = run(tmp_path, "stitch", "out/crf", "--json")
    assert stitched.returncode == 0, stitched.stderr
    info = json.loads(stitched.stdout)
    assert info["path"].endswith("crf/master.m3u8") and info["session_key"] is None
    [variant] = info["variants"]
    assert variant["definition"] == "LD" and variant["bandwidth"] >= variant["average_bandwidth"] > 0
    assert variant["codecs"].startswith("avc1.") and variant["resolution"] == "320x180"


@pytest.mark.slow
def test_submit_dry_run_and_json(tmp_path, clip):
    batch = tmp_path / "batch.csv"
    batch.write_text(f"source,content_id,ladder\n{clip},one,LD\nmissing.mp4,two,LD\n")
    dry = run(tmp_path, "submit", str(batch), "--out", "out", "--dry-run", "--json")
    assert dry.returncode == 2, dry.stderr  # the second row's source is missing
    report = json.loads(dry.stdout)
    assert report["dry_run"] is True and [r["content_id"] for r in report["rows"]] == ["one"]
    assert report["rows"][0]["line"] == 2 and "-preset:v:0" in report["rows"][0]["ffmpeg"]
    assert [e["line"] for e in report["errors"]] == [3] and report["errors"][0]["exit_code"] == 2
    assert not (tmp_path / "out").exists() and not (tmp_path / "home").exists()

    batch.write_text(f"source,content_id,ladder,segment_duration\n{clip},one,LD,1\n")
    done = hlskit(
        "submit", str(batch), "--out", "out", "--json", cwd=tmp_path,
        env=clean_env(HLSKIT_HOME=str(tmp_path / "home"), HLSKIT_X264_PRESET="ultrafast"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["exit_code"] == 0 and result["errors"] == []
    [row] = result["rows"]
    assert row["state"] == "published" and row["content_id"] == "one" and row["line"] == 2
    assert [(j["definition"], j["state"]) for j in row["jobs"]] == [("LD", "TranscodeSuccess")]
    assert Path(row["dir"], "master.m3u8").is_file()


def test_progress_shows_each_definition_live_with_speed_and_ends_in_the_true_state():
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    with package_progress(console) as progress:
        for pct in (10.0, 55.0, 99.0):
            for name in ("LD", "SD"):
                progress(name, pct, 2.5)
        bars = {t.description: t for t in progress.bar.tasks}
        # Each definition has its own bar while encoding, with the speed and the time left.
        assert set(bars) == {"LD", "SD"} and bars["SD"].completed == 99.0
        assert bars["LD"].fields["detail"].startswith("2.50× real time, ~") and "s left" in bars["LD"].fields["detail"]
        progress("LD", 0.0)  # stitching re-reports from 0: the bar does not step back
        assert bars["LD"].completed == 99.0
        progress.finish({"LD": "TranscodeSuccess", "SD": "TranscodeFail"})
        assert bars["LD"].completed == 100 and bars["LD"].finished and bars["LD"].fields["detail"] == "done"
        assert bars["SD"].completed == 99.0 and bars["SD"].fields["detail"] == "failed"

    plain = Console(file=io.StringIO(), force_terminal=False)
    with package_progress(plain) as progress:
        progress("LD", 50.0, 3.0)
        progress.finish({"LD": "TranscodeCancelled"})
    lines = plain.file.getvalue().splitlines()
    assert lines[0].startswith("LD: 50% (3.00× real time, ~") and lines[-1] == "LD: cancelled"


@pytest.mark.slow
def test_package_prints_speed_and_ends_each_definition_done(tmp_path, clip):
    got = hlskit(
        "package", str(clip), "--out", "out", "--segment-duration", "1", "--ladder", "LD", cwd=tmp_path,
        env=clean_env(HLSKIT_HOME=str(tmp_path / "home"), HLSKIT_X264_PRESET="ultrafast"),
    )  # fmt: skip
    assert got.returncode == 0, got.stderr
    lines = got.stderr.splitlines()
    # A 2 s clip encodes in well under a second: FFmpeg may report its speed once or not at all.
    for ln in lines[:-1]:
        assert re.fullmatch(r"LD: \d+%( \(\d+\.\d\d× real time, ~\d+ s left\))?", ln), lines
    assert lines[-1] == "LD: done" and "LD: 100%" in lines


@pytest.mark.slow
def test_cancel_json_names_the_run_and_the_cancelled_jobs(tmp_path, clip):
    home = tmp_path / "home"
    settings = Settings(home=home, x264_preset="ultrafast")
    store, keys = JobStore.open(settings.store_config()), KeyStore.open(settings.store_config())
    engine = get_engine("local", settings)
    plan = start_run(str(clip), str(tmp_path / "out"), settings, PackageOptions(ladder="LD"), store, keys, engine)
    got = run(tmp_path, "cancel", plan.run_id, "--json")
    assert got.returncode == 0, got.stderr
    report = json.loads(got.stdout)
    assert report["run_id"] == plan.run_id and report["refused"] == []
    assert [(j["definition"], j["state"]) for j in report["cancelled"]] == [("LD", "TranscodeCancelled")]


def test_a_reader_that_stops_early_gets_no_error_line(tmp_path):
    """`hlskit config | head -1`: the reader has what it wanted; an error about "the output folder"
    (the last-resort OSError sentence) was printed on stderr."""
    proc = subprocess.Popen(
        [*HLSKIT, "config"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(HLSKIT_HOME=str(tmp_path / "home")),
        cwd=tmp_path,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the first line is written
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 1 and err == b"", err


@pytest.mark.parametrize(
    "args",
    [
        ["status", "no-such-run", "--json"],
        ["cancel", "no-such-run", "--json"],
        ["probe", "/no/such/video.mp4", "--json"],
        ["package", "/no/such/video.mp4", "--json"],
        ["config", "--bogus", "--json"],
    ],
)
def test_a_failure_under_json_is_json_on_stdout_too(args, tmp_path):
    done = hlskit(*args, cwd=tmp_path, env=clean_env(HLSKIT_HOME=str(tmp_path / "home")))
    assert done.returncode == 2 and done.stderr.startswith("error: ")
    assert json.loads(done.stdout) == {"error": done.stderr.removeprefix("error: ").strip(), "exit_code": 2}


def test_a_file_named_like_an_option_gets_the_way_to_name_it(tmp_path):
    (tmp_path / "-video.mp4").write_bytes(b"")
    done = hlskit("package", "-video.mp4", "--out", "out", cwd=tmp_path, env=clean_env(HLSKIT_HOME=str(tmp_path / "h")))
    # click's "No such option '-v'" pointed at --help, which does not say how to name such a file
    assert done.returncode == 2 and done.stderr.strip().endswith("write ./-video.mp4."), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_status_json_masks_notify_targets_and_wait_fails_on_a_failed_run(tmp_path):
    from hlskit.domain.runs import Job, Run, RunState
    from hlskit.stores.jobs import JobStore

    home = tmp_path / "h"
    store = JobStore(home / "jobs.db")
    targets = json.dumps(["http://user:pw@127.0.0.1:9/hook?token=SECRET123", "exec:/bin/hook --key SECRET456"])
    store.start_run(
        Run("r" * 12, "masked", notify=targets), [Job("j" * 12, "masked", "LD", run_id="r" * 12, notify=targets)]
    )
    store.end_run("r" * 12, RunState.FAILED, "TranscodeFail", "x")
    env = clean_env(HLSKIT_HOME=str(home))
    done = hlskit("status", "masked", "--json", cwd=tmp_path, env=env)
    assert done.returncode == 0 and "SECRET" not in done.stdout and ":pw@" not in done.stdout, done.stdout
    [run] = json.loads(done.stdout)
    shown = ["http://***@127.0.0.1:9/hook?***", "exec:/bin/hook ..."]
    assert run["notify"] == shown and run["jobs"][0]["notify"] == shown  # a list, not JSON inside a string
    waited = hlskit("status", "masked", "--wait", "--json", cwd=tmp_path, env=env)
    assert waited.returncode == 1 and json.loads(waited.stdout)[0]["state"] == "Failed"  # exit 0 before
