"""`hlskit quality`: VMAF, PSNR and SSIM with the bundled FFmpeg's libvmaf, on real encodes.

A definition scored against itself is near 100; a starved encode of the same picture scores far
lower; an encrypted package is decrypted with the key store's keys and its scores are recorded.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import run_hlskit


def _hls(ffmpeg, src, folder, kbps: int):
    """A clear single-definition HLS rendition of ``src`` at ``kbps`` (FFmpeg's own hls muxer)."""
    folder.mkdir(parents=True)
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-i",
            str(src),
            "-c:v",
            "libx264",
            "-b:v",
            f"{kbps}k",
            "-maxrate",
            f"{kbps}k",
            "-bufsize",
            f"{kbps}k",
            "-an",
            "-f",
            "hls",
            "-hls_time",
            "1",
            "-hls_playlist_type",
            "vod",
            str(folder / "index.m3u8"),
        ],
        check=True,
    )
    return folder / "index.m3u8"


@pytest.mark.slow
def test_vmaf_of_a_rendition_against_itself_is_near_100_and_a_starved_one_far_lower(tmp_path, make_clip, ffmpeg):
    src = make_clip(tmp_path / "src.mp4", width=320, height=180, seconds=2)
    env = {"HLSKIT_HOME": str(tmp_path / "home")}
    good = _hls(ffmpeg, src, tmp_path / "good", 2000)
    # the decoded rendition itself as the reference: the same pictures, so VMAF is at the top of its scale
    itself = tmp_path / "itself.mkv"
    subprocess.run([ffmpeg, "-v", "error", "-i", str(good), "-c:v", "ffv1", str(itself)], check=True)
    same = run_hlskit("quality", str(good), "--source", str(itself), "--json", env=env)
    assert same.returncode == 0, same.stderr
    [q_same] = json.loads(same.stdout)["definitions"]
    # libvmaf caps PSNR at 60 dB for 8-bit video: identical pictures reach the cap
    assert q_same["vmaf"] > 97 and q_same["psnr_y"] >= 59.9 and q_same["ssim"] > 0.999 and q_same["frames"] >= 40

    starved = _hls(ffmpeg, src, tmp_path / "starved", 20)
    bad = run_hlskit("quality", str(starved), "--source", str(src), "--json", env=env)
    assert bad.returncode == 0, bad.stderr
    [q_bad] = json.loads(bad.stdout)["definitions"]
    assert q_bad["vmaf"] < q_same["vmaf"] - 30 and q_bad["psnr_y"] < q_same["psnr_y"]


@pytest.mark.slow
def test_encrypted_package_is_scored_per_definition_and_recorded_in_its_manifest(tmp_path, make_clip):
    src = make_clip(tmp_path / "src.mp4", width=960, height=540, seconds=2)
    env = {"HLSKIT_HOME": str(tmp_path / "home")}
    out = tmp_path / "out"
    done = run_hlskit(
        "package",
        str(src),
        "--out",
        str(out),
        "--content-id",
        "q",
        "--ladder",
        "LD,SD",
        "--segment-duration",
        "1",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    scored = run_hlskit("quality", str(out / "q"), "--subsample", "2", env=env)
    assert scored.returncode == 0, scored.stderr
    assert "VMAF" in scored.stdout and "LD" in scored.stdout and "SD" in scored.stdout
    manifest = json.loads((out / "q" / "hlskit.json").read_text())
    vmaf = {d["name"]: d["vmaf"] for d in manifest["definitions"]}
    assert set(vmaf) == {"LD", "SD"} and all(0 < v <= 100 for v in vmaf.values())
    assert vmaf["SD"] > vmaf["LD"]  # more pixels and bits for the same picture
    assert manifest["quality"]["subsample"] == 2 and manifest["quality"]["model"] == "vmaf_v0.6.1"


def test_quality_without_a_source_is_one_sentence(tmp_path):
    (tmp_path / "pkg").mkdir()
    done = run_hlskit("quality", str(tmp_path / "pkg"), env={"HLSKIT_HOME": str(tmp_path / "home")})
    assert done.returncode == 2 and done.stderr.startswith("error: no source for") and "Traceback" not in done.stderr


@pytest.mark.slow
def test_the_reference_is_read_on_the_encode_s_clock(tmp_path, make_clip, ffmpeg):
    # Each of these packages begins with a repeated first frame (FFmpeg's constant-rate output fills
    # the slot before a first frame that falls after time 0). The reference, read from its own first
    # frame, met every frame's neighbour: VMAF about 30 instead of the plain source's (11 for a video
    # starting 1 s late).
    src = make_clip(tmp_path / "src.mp4", width=320, height=180, seconds=4)
    ts = tmp_path / "audio-first.ts"  # AAC's priming puts the audio 21 ms before the video
    subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(src), "-map", "0:a", "-map", "0:v", "-c", "copy", str(ts)], check=True
    )
    late = tmp_path / "late-video.mp4"
    subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(src), "-itsoffset", "1", "-i", str(src), "-map", "1:v", "-map", "0:a"]
        + ["-c", "copy", str(late)],
        check=True,
    )
    film = tmp_path / "film.mp4"  # 23.976 fps: the package's 90 kHz times fall before 4th slots
    subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(src), "-vf", "fps=24000/1001", "-c:v", "libx264", "-c:a", "copy", str(film)],
        check=True,
    )
    env = {"HLSKIT_HOME": str(tmp_path / "home")}
    vmaf = {}
    cases = {"plain": (src, []), "clip": (src, ["--clip", "1.25+2"]), "ts": (ts, []), "late": (late, [])}
    cases |= {"film": (film, [])}
    cases |= {"copy": (ts, ["--transmux"]), "late copy": (late, ["--transmux"])}  # the source's own frames
    for name, (source, extra) in cases.items():
        out = tmp_path / name
        args = ["package", str(source), "--out", str(out), "--content-id", "q", "--no-encrypt"]
        args += [] if "--transmux" in extra else ["--ladder", "LD"]
        done = run_hlskit(*args, *extra, env=env)
        assert done.returncode == 0, done.stderr
        scored = run_hlskit("quality", str(out / "q"), "--json", "--subsample", "2", env=env)
        assert scored.returncode == 0, scored.stderr
        vmaf[name] = json.loads(scored.stdout)["definitions"][0]["vmaf"]
    assert vmaf["plain"] > 80, vmaf
    for name in ("clip", "ts", "late", "film"):  # the same pictures: about the same score
        assert abs(vmaf[name] - vmaf["plain"]) < 3, vmaf  # a frame met its neighbour: 94.6 at 23.976 fps
    assert vmaf["copy"] > 99 and vmaf["late copy"] > 99, vmaf  # not filled on the encode's grid
