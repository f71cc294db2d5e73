"""A source without a keyframe index (MPEG-TS) is cut on exact frames: a clip of it starts on the
frame it names and lasts what it says, as a clip of the same video in MP4 does, and `hlskit
quality` scores it against the same span of the source. Before the remux,
a 4 s clip of this TS (one keyframe every 10 s) started at the next keyframe and lasted 8 s."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
from pathlib import Path

import pytest

from hlskit.domain.errors import InputError
from hlskit.domain.ladder import choose_ladder
from hlskit.domain.tracks import AudioRendition
from hlskit.engines.seekable import has_index, seekable
from hlskit.pipeline.pertitle import choose
from hlskit.pipeline.probe import probe
from tests.conftest import run_hlskit
from tests.plans import media, plan

FPS, SECONDS, START = 24, 12, 3.2


def test_only_containers_without_a_keyframe_index_are_remuxed():
    assert has_index(media())  # mov,mp4,…
    assert has_index(dataclasses.replace(media(), format="matroska,webm"))
    for name in ("mpegts", "mpeg", "flv", "h264"):
        assert not has_index(dataclasses.replace(media(), format=name))


@pytest.mark.slow
def test_a_source_ffmpeg_cannot_copy_is_refused_in_one_sentence(tmp_path, ffmpeg):
    info = dataclasses.replace(media(path=str(tmp_path / "gone.ts")), format="mpegts")
    with pytest.raises(InputError) as refused:
        seekable(plan(("LD",), info=info), tmp_path / "copy.mov", ffmpeg)
    assert refused.value.message.startswith("the source's container (mpegts) has no keyframe index")
    assert refused.value.message.endswith("remux it into MP4 or MKV and package that.")
    assert not (tmp_path / "copy.mov").exists()


@pytest.mark.slow
def test_audio_taken_from_the_source_reads_the_copy_and_other_files_stay(tmp_path, ffmpeg):
    source = _ts(tmp_path, ffmpeg)
    info = dataclasses.replace(media(480, 270, path=str(source)), format="mpegts")
    info = dataclasses.replace(info, video=dataclasses.replace(info.video, index=1))
    own = AudioRendition("und", str(source), 0, None, "Main", default=True)
    other = AudioRendition("fr", str(tmp_path / "fr.m4a"), 0, "fr", "Français")
    made = seekable(dataclasses.replace(plan(("LD",), info=info), audio=[own, other]), tmp_path / "c.mov", ffmpeg)
    assert made.source == str(tmp_path / "c.mov") and [a.input for a in made.audio] == [made.source, other.input]
    assert made.media is not None and made.media.video.index == 0  # the copy holds the video first
    assert probe(made.source).video.index == 0 and probe(source).video.index == 1


@pytest.mark.slow
def test_a_clip_of_a_ts_source_starts_on_its_frame_like_the_same_clip_of_an_mp4(tmp_path, ffmpeg):
    ts = _ts(tmp_path, ffmpeg)
    mp4 = tmp_path / "same.mp4"
    subprocess.run([ffmpeg, "-v", "error", "-i", str(ts), "-map", "0", "-c", "copy", str(mp4)], check=True)
    dry = run_hlskit("package", str(ts), "--clip", "4+4", "--ladder", "LD", "--out", str(tmp_path / "dry"), "--dry-run")
    assert dry.returncode == 0 and "/.source.mov " in dry.stdout, dry.stdout  # shown as it will run
    assert not (tmp_path / "dry").exists()
    firsts, counts, vmaf = {}, {}, {}
    for source in (ts, mp4):
        out = tmp_path / f"out-{source.suffix[1:]}"
        done = run_hlskit("package", str(source), "--clip", "4+4", "--ladder", "LD", "--no-encrypt", "--out", str(out))
        assert done.returncode == 0, done.stderr
        [package] = [p for p in out.iterdir() if not p.name.startswith(".")]
        assert not list(package.rglob("*.mov")) and not list(out.glob(".*"))  # the copy left with the run
        playlist = package / "LD" / "index.m3u8"
        counts[source.suffix] = _frames(ffmpeg, playlist)
        firsts[source.suffix] = _gray_frame(ffmpeg, playlist, 0)
        # hlskit quality cuts the same span of the source as reference (exactly: decoded and trimmed)
        scored = run_hlskit("quality", str(package), "--json", "--subsample", "2")
        assert scored.returncode == 0, scored.stderr
        vmaf[source.suffix] = json.loads(scored.stdout)["definitions"][0]["vmaf"]
    assert counts[".ts"] == counts[".mp4"] and abs(counts[".ts"] - 4 * FPS) <= 1, counts
    # The first picture is the source's frame at 4 s, not one of its neighbours.
    scores = {
        n: _psnr(firsts[".ts"], _gray_frame(ffmpeg, mp4, n, size="96x54")) for n in (4 * FPS - 1, 4 * FPS, 4 * FPS + 1)
    }
    assert max(scores, key=lambda n: scores[n]) == 4 * FPS, scores
    assert _psnr(firsts[".ts"], firsts[".mp4"]) > 40
    assert abs(vmaf[".ts"] - vmaf[".mp4"]) < 1, vmaf  # one frame off would cost tens of points here


@pytest.mark.slow
def test_per_title_samples_a_ts_source_on_the_frames_it_samples_in_its_mp4_copy(tmp_path, ffmpeg):
    # before: -ss into the TS landed past its one keyframe, the probes got no frame, and the
    # analysis died on an MP4 without a track
    ts = _ts(tmp_path, ffmpeg)
    mp4 = tmp_path / "same.mp4"
    subprocess.run([ffmpeg, "-v", "error", "-i", str(ts), "-map", "0", "-c", "copy", str(mp4)], check=True)
    found = {}
    for source in (ts, mp4):
        info = probe(source)
        fixed = choose_ladder(info.video.display_width, info.video.display_height)
        _, found[source.suffix] = choose(ffmpeg, str(source), info, fixed, preset="veryfast", length=SECONDS)
    assert found[".ts"] and len(found[".ts"]) == len(found[".mp4"])
    for a, b in zip(found[".ts"], found[".mp4"]):  # the same choice from the same frames (to encoder noise)
        assert (a.definition, a.width, a.height, a.crf, a.kept) == (b.definition, b.width, b.height, b.crf, b.kept)
        assert a.kbps_predicted == pytest.approx(b.kbps_predicted, rel=0.01)
        assert a.vmaf_predicted == pytest.approx(b.vmaf_predicted, abs=0.5)


def _ts(tmp_path: Path, ffmpeg: str) -> Path:
    """12 s at 24 fps, one keyframe every 10 s, starting 3.2 s into the TS clock, its audio listed
    first (as broadcast captures may be): the video is stream 1, and stream 0 of the MOV copy."""
    path = tmp_path / "capture.ts"
    if not path.exists():
        subprocess.run(
            [ffmpeg, "-v", "error", "-f", "lavfi", "-i", f"testsrc2=s=480x270:r={FPS}", "-f", "lavfi"]
            + ["-i", "sine=f=500", "-t", str(SECONDS), "-c:v", "libx264", "-preset", "ultrafast", "-g", "240"]
            + ["-c:a", "aac", "-map", "1:a", "-map", "0:v", "-output_ts_offset", str(START), "-f", "mpegts", str(path)],
            check=True,
        )
    return path


def _frames(ffmpeg: str, path: Path) -> int:
    done = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(path), "-map", "0:v:0", "-f", "framemd5", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return sum(1 for line in done.stdout.splitlines() if line and not line.startswith("#"))


def _gray_frame(ffmpeg: str, path: Path, n: int, size: str = "96x54") -> bytes:
    """Frame ``n`` of ``path`` as raw 8-bit gray pixels at ``size``."""
    done = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(path), "-vf", f"select=eq(n\\,{n}),scale={size},format=gray"]
        + ["-frames:v", "1", "-f", "rawvideo", "-"],
        capture_output=True,
        check=True,
    )
    return done.stdout


def _psnr(a: bytes, b: bytes) -> float:
    assert len(a) == len(b) and a
    mse = sum((x - y) ** 2 for x, y in zip(a, b)) / len(a)
    return 99.0 if mse == 0 else 10 * math.log10(255**2 / mse)
