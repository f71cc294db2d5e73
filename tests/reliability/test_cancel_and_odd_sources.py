"""Issue 25's defects 1, 9 and 10, each with a test that failed before its fix.

1. ``hlskit cancel RUN`` at every phase (while encoding, between the encode and encryption, when an
   MP4 download's remux starts) publishes nothing: exit 3, no package, no clear download, no live
   key. FFmpeg is wrapped so the cancel lands at exactly that phase (no timing guesses).
9. A source whose audio has a gap keeps it as silence: what comes after the gap plays at its time.
10. An interlaced source is deinterlaced: FFmpeg's own detector (idet) finds progressive pictures.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import HLSKIT, run_hlskit
from tests.reliability.helpers import live_keys, visible
from tests.tiers import debian_ffmpeg

pytestmark = pytest.mark.slow

WRAPPER = """#!{python}
import json, os, subprocess, sys
args, phase, marker = sys.argv[1:], {phase!r}, {marker!r}
joined = " ".join(args)
hit = {{"encode": "-var_stream_map" in joined, "encrypt": "-var_stream_map" in joined,
       "remux": "+faststart" in joined}}[phase]
def cancel():
    runs = json.loads(subprocess.run({hlskit} + ["status", "--json"], capture_output=True, text=True).stdout)
    [run] = [r for r in runs if r["state"] == "Running"]
    subprocess.run({hlskit} + ["cancel", run["run_id"]], capture_output=True)
if hit and not os.path.exists(marker):
    open(marker, "w").close()
    if phase == "encrypt":  # the encode runs to its end, then the cancel lands before encryption
        code = subprocess.call([{ffmpeg!r}] + args)
        cancel()
        sys.exit(code)
    cancel()
os.execv({ffmpeg!r}, [{ffmpeg!r}] + args)
"""


@pytest.mark.parametrize("phase", ["encode", "encrypt", "remux"])
def test_a_cancel_at_any_phase_publishes_nothing(phase, tmp_path, make_clip, ffmpeg):
    src = make_clip(tmp_path / "clip.mp4", width=960, height=540, seconds=3)
    wrapper = tmp_path / "ffmpeg-cancelling"
    wrapper.write_text(
        WRAPPER.format(python=sys.executable, phase=phase, marker=str(tmp_path / "done"), hlskit=HLSKIT, ffmpeg=ffmpeg)
    )
    wrapper.chmod(0o755)
    home, out = tmp_path / "home", tmp_path / "out"
    env = {"HLSKIT_HOME": str(home), "HLSKIT_FFMPEG": str(wrapper)}
    done = run_hlskit(
        "package", str(src), "--out", str(out), "--content-id", "cx", "--format", "fmp4", "--mp4",
        "--segment-duration", "1", "--preset", "ultrafast", env=env,
    )  # fmt: skip
    assert (tmp_path / "done").exists(), "the wrapper never saw its phase"
    assert done.returncode == 3 and "was cancelled" in done.stderr and "published" not in done.stdout, done.stderr
    assert visible(out) == [] and not list(out.rglob("*.mp4"))  # no package, no clear MP4 anywhere
    assert live_keys(home) == set()
    status = json.loads(run_hlskit("status", "cx", "--json", env=env).stdout)
    assert [r["state"] for r in status] == ["Cancelled"]


def _levels(ffmpeg_bin: str, media: str, seconds: int) -> str:
    """One character per second of the media's audio, decoded by its timestamps (sound or silence)."""
    pcm = subprocess.run(
        [ffmpeg_bin, "-v", "error", "-i", media, "-map", "0:a", "-af", "aresample=async=1:first_pts=0"]
        + ["-t", str(seconds), "-f", "s16le", "-ac", "1", "-ar", "8000", "-"],
        capture_output=True,
        check=True,
    ).stdout
    samples = memoryview(pcm).cast("h")
    out = []
    for s in range(len(samples) // 8000):
        chunk = samples[s * 8000 : (s + 1) * 8000]
        out.append("X" if math.sqrt(sum(x * x for x in chunk) / len(chunk)) > 100 else ".")
    return "".join(out)


def test_a_gap_in_the_source_audio_stays_a_gap(tmp_path, ffmpeg):
    """Audio covers 0-2 s and 6-8 s of a 10 s video: the package plays the second part at 6 s, as the source does."""
    src = tmp_path / "gap.mp4"
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=10", "-f", "lavfi"]
        + ["-i", "sine=f=440:r=48000:d=4", "-filter_complex", "[1:a]asetpts='if(gte(T,2),PTS+4/TB,PTS)'[a]"]
        + ["-map", "0:v", "-map", "[a]", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(src)],
        check=True,
        capture_output=True,
    )
    home, out = tmp_path / "home", tmp_path / "out"
    done = run_hlskit(
        "package", str(src), "--out", str(out), "--content-id", "gap", "--no-encrypt", "--segment-duration", "2",
        env={"HLSKIT_HOME": str(home)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    source_levels = _levels(debian_ffmpeg(), str(src), 10)
    assert source_levels[:2] == "XX" and source_levels[3:6] == "..." and source_levels[6:8] == "XX", source_levels
    packaged = _levels(debian_ffmpeg(), str(out / "gap" / "LD" / "index.m3u8"), 10)
    # as the source to its audio's end at 8 s, then silence to the video's end (8-9 s holds the sound's
    # last frame, as 2-3 s does)
    assert packaged[:8] == source_levels and packaged[9:] == ".", (packaged, source_levels)


def _idet(ffmpeg_bin: str, media: str) -> dict[str, int]:
    """FFmpeg's interlace detector over the media's luma: TFF, BFF, Progressive, Undetermined counts.

    Luma only: combing shows there, and idet reads the subsampled chroma of synthetic patterns as fields.
    """
    log = subprocess.run(
        [ffmpeg_bin, "-hide_banner", "-i", media, "-map", "0:v", "-vf", "extractplanes=y,idet", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    # FFmpeg may print one report per filter graph it built (an empty one first): the last one counts.
    line = [ln for ln in log.splitlines() if "Multi frame detection" in ln][-1]
    words = line.split("detection:")[1].split()
    return {words[i].rstrip(":"): int(words[i + 1]) for i in range(0, len(words) - 1, 2)}


def test_an_interlaced_source_is_deinterlaced(tmp_path, ffmpeg):
    src = tmp_path / "interlaced.mp4"
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=640x480:r=50:d=4"]
        + ["-vf", "tinterlace=interleave_top,fieldorder=tff", "-c:v", "libx264", "-preset", "ultrafast"]
        + ["-flags", "+ildct+ilme", "-x264-params", "tff=1", str(src)],
        check=True,
        capture_output=True,
    )
    assert _idet(ffmpeg, str(src))["TFF"] > 50  # the source really is interlaced (combing on motion)
    home, out = tmp_path / "home", tmp_path / "out"
    env = {"HLSKIT_HOME": str(home)}
    plan = run_hlskit("package", str(src), "--out", str(out), "--dry-run", "--json", env=env)
    assert plan.returncode == 0 and "bwdif" in " ".join(json.loads(plan.stdout)["ffmpeg"]), plan.stderr
    assert any("interlaced" in note for note in json.loads(plan.stdout)["notes"])
    done = run_hlskit("package", str(src), "--out", str(out), "--content-id", "i", "--no-encrypt", env=env)
    assert done.returncode == 0, done.stderr
    found = _idet(ffmpeg, str(out / "i" / "LD" / "index.m3u8"))
    assert found["Progressive"] > 5 * (found["TFF"] + found["BFF"]), found


def test_wrapper_text_is_a_python_program():
    """(The wrapper above is generated text: it must stay valid Python for every phase.)"""
    for phase in ("encode", "encrypt", "remux"):
        code = WRAPPER.format(python=sys.executable, phase=phase, marker="/m", hlskit=HLSKIT, ffmpeg="/bin/true")
        compile(code.split("\n", 1)[1], "wrapper", "exec")
    assert Path(sys.executable).is_file()
