"""Encapsulation (issue 22) with real FFmpeg: --transmux copies the source (its decoded frames, read
back by Debian's own FFmpeg through the key service, are the source's), --ladder auto+source puts
it above encoded definitions cut at the same keyframes, and no definition is encoded above the
source's own rate."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import av
import pytest

from hlskit.domain.plan import PackageOptions
from hlskit.domain.settings import Settings
from hlskit.hls.model import MasterPlaylist, MediaPlaylist
from hlskit.hls.playlist import parse
from hlskit.hls.validate import validate
from hlskit.keys.tokens import make_token, token_secret
from hlskit.pipeline import run_package
from hlskit.pipeline.probe import probe
from hlskit.stores.keys import KeyStore
from tests.conftest import run_hlskit
from tests.server.conftest import start_server
from tests.tiers import debian_ffmpeg

pytestmark = pytest.mark.slow


def _source(ffmpeg: str, path: Path, *, codec: list[str], seconds: int = 6, gop: int = 50, audio: bool = True) -> Path:
    args = [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25"]
    if audio:
        args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-c:a", "aac"]
    args += ["-t", str(seconds), *codec, "-g", str(gop), "-keyint_min", str(gop), str(path)]
    subprocess.run(args, check=True, capture_output=True)
    return path


def _frame_hashes(ffmpeg: str, url: str) -> list[str]:
    """One MD5 per decoded video frame (FFmpeg's framemd5 muxer), timestamps left out."""
    out = subprocess.run(
        [ffmpeg, "-v", "error", "-i", url, "-map", "0:v:0", "-f", "framemd5", "-"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return [line.rsplit(",", 1)[1].strip() for line in out.splitlines() if line and not line.startswith("#")]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    base = tmp_path_factory.mktemp("transmux")
    out = base / "out"
    out.mkdir()
    settings = Settings(home=base / "home", media_root=out, x264_preset="ultrafast")
    server = start_server(settings)
    yield base, out, settings, server
    server.stop()


@pytest.mark.parametrize(
    "name,codec,fmt",
    [
        ("h264", ["-c:v", "libx264", "-preset", "ultrafast"], "ts"),
        ("hevc", ["-c:v", "libx265", "-x265-params", "log-level=error:open-gop=0", "-tag:v", "hvc1"], "fmp4"),
    ],
)
def test_transmux_gives_an_encrypted_valid_package_with_the_source_frames(ffmpeg, site, name, codec, fmt):
    base, out, settings, server = site
    src = _source(ffmpeg, base / f"{name}.mp4", codec=codec)
    options = PackageOptions(transmux=True, segment_duration=2, content_id=f"copy-{name}", key_url=server.url + "/keys")
    result = run_package(str(src), str(out), settings, options)
    assert result.ok and [d.name for d in result.manifest.definitions] == ["SOURCE"]
    assert result.manifest.format == fmt and result.manifest.definitions[0].codec == name
    pkg = Path(result.dir)
    playlist = parse((pkg / "SOURCE" / "index.m3u8").read_text(), "SOURCE/index.m3u8")
    assert isinstance(playlist, MediaPlaylist) and all(s.encrypted for s in playlist.segments)
    keys = KeyStore.open(settings.store_config()).resolver()
    report = validate(str(pkg / "master.m3u8"), key_resolver=keys)
    assert report.must == [], [f"{f.rule}: {f.message}" for f in report.must]
    token = make_token(token_secret(settings.token_config()), options.content_id, 300)
    url = f"{server.url}/media/{options.content_id}/master.m3u8?token={token}"
    copied = _frame_hashes(debian_ffmpeg(), url)
    assert copied == _frame_hashes(debian_ffmpeg(), str(src)) and len(copied) == 150  # every frame, bit for bit


def test_a_ts_source_s_aac_is_copied_into_fmp4(ffmpeg, site):
    # ADTS-framed AAC copied into fMP4 failed in FFmpeg's muxer ("Operation not permitted")
    base, out, settings, _ = site
    src = _source(ffmpeg, base / "adts.ts", codec=["-c:v", "libx264", "-preset", "ultrafast"], seconds=2)
    options = PackageOptions(transmux=True, format="fmp4", segment_duration=2, content_id="adts", encrypt=False)
    result = run_package(str(src), str(out), settings, options)
    assert result.ok, [j.message for j in result.failed]
    report = validate(str(Path(result.dir) / "master.m3u8"))
    assert report.must == [] and report.variants[0].codecs.endswith("mp4a.40.2")
    folder = Path(result.dir) / "SOURCE"
    whole = (folder / "init.mp4").read_bytes() + b"".join(p.read_bytes() for p in sorted(folder.glob("*.m4s")))
    (base / "adts-whole.mp4").write_bytes(whole)
    with av.open(str(base / "adts-whole.mp4")) as container:
        samples = sum(f.samples for f in container.decode(audio=0))
    assert abs(samples / 48000 - 2.0) < 0.05  # the sound is all there


def test_source_rung_tops_an_encoded_ladder_cut_at_the_same_keyframes(ffmpeg, site):
    base, out, settings, _ = site
    src = _source(ffmpeg, base / "wide.mp4", codec=["-c:v", "libx264", "-preset", "ultrafast", "-b:v", "3M"], gop=37)
    # 1.48 s between source keyframes: the encoded LD takes its keyframes there too, not every 2 s.
    options = PackageOptions(ladder="LD+source", segment_duration=2, content_id="topped", codecs=("h264",))
    result = run_package(str(src), str(out), settings, options)
    assert result.ok, [j.message for j in result.failed]
    names = [d.name for d in result.manifest.definitions]
    assert names == ["LD", "SOURCE"]
    pkg = Path(result.dir)
    starts = {}
    for name in names:
        pl = parse((pkg / name / "index.m3u8").read_text(), f"{name}/index.m3u8")
        assert isinstance(pl, MediaPlaylist)
        starts[name] = [round(sum(s.duration for s in pl.segments[:i]), 2) for i in range(len(pl.segments))]
    assert starts["LD"] == starts["SOURCE"]  # the same segment boundaries in both variants
    report = validate(str(pkg / "master.m3u8"), key_resolver=KeyStore.open(settings.store_config()).resolver())
    assert report.must == [] and "T4" not in report.rules(), [f"{f.rule}: {f.message}" for f in report.findings]
    master = parse((pkg / "master.m3u8").read_text(), "master.m3u8")
    assert isinstance(master, MasterPlaylist) and {v.uri.split("/")[-2] for v in master.variants} == set(names)


def test_a_low_rate_source_never_gets_a_variant_above_its_own_rate(ffmpeg, site):
    base, out, settings, _ = site
    low = base / "low.mp4"
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=25", "-t", "4"]
        + ["-c:v", "libx264", "-preset", "ultrafast", "-b:v", "450k", "-maxrate", "450k", "-bufsize", "900k", str(low)],
        check=True,
        capture_output=True,
    )
    plan = run_hlskit(
        "package", str(low), "--out", str(out), "--dry-run", "--json", env={"HLSKIT_HOME": str(base / "h2")}
    )
    assert plan.returncode == 0, plan.stderr
    ladder = json.loads(plan.stdout)["ladder"]
    source_kbps = round((probe(str(low)).video.bit_rate or 0) / 1000)  # as the container states it
    assert 0 < source_kbps < 800 and [r["name"] for r in ladder] == ["LD", "HD"]
    assert all(r["video_kbps"] <= source_kbps for r in ladder) and "capped at the source's own" in ladder[-1]["why"]
    result = run_package(str(low), str(out), settings, PackageOptions(content_id="low", segment_duration=2))
    assert result.ok
    for d in result.manifest.definitions:
        assert d.video_kbps <= source_kbps
        assert d.bytes * 8 / 1000 / d.duration <= source_kbps * 1.25  # measured: not inflated (a VBV of 1.5x allowed)


def test_what_a_copy_cannot_carry_is_refused_before_anything_is_made(ffmpeg, site):
    base, out, _, _ = site
    vp9 = _source(ffmpeg, base / "vp9.webm", codec=["-c:v", "libvpx-vp9", "-b:v", "200k"], seconds=2, audio=False)
    home = {"HLSKIT_HOME": str(base / "h3")}
    done = run_hlskit("package", str(vp9), "--out", str(base / "none"), "--transmux", "--format", "ts", env=home)
    assert done.returncode == 2 and "VP9" in done.stderr and "re-encode" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    hevc = _source(ffmpeg, base / "h.mp4", codec=["-c:v", "libx265", "-x265-params", "log-level=error"], seconds=2)
    done = run_hlskit("package", str(hevc), "--out", str(base / "none"), "--transmux", "--format", "ts", env=home)
    assert done.returncode == 2 and "fMP4 only" in done.stderr and "--format fmp4" in done.stderr, done.stderr
    for pixels, profile in [("yuv420p10le", "High 10"), ("yuv444p", "High 4:4:4 Predictive")]:
        rare = _source(ffmpeg, base / f"{pixels}.mp4", codec=["-c:v", "libx264", "-pix_fmt", pixels], seconds=2)
        done = run_hlskit("package", str(rare), "--out", str(base / "none"), "--transmux", env=home)
        assert done.returncode == 2, done.stderr  # was published: CODECS avc1.6e001e, which few players decode
        assert f"video is H.264 {profile} ({pixels}), which few players decode" in done.stderr, done.stderr
    fields = ["-c:v", "libx264", "-flags", "+ilme+ildct", "-vf", "setfield=tff"]
    interlaced = _source(ffmpeg, base / "i.mp4", codec=fields, seconds=2)
    done = run_hlskit("package", str(interlaced), "--out", str(base / "none"), "--transmux", env=home)
    assert done.returncode == 2 and "is interlaced (tt fields)" in done.stderr, done.stderr  # was published as is
    assert not (base / "none").exists()  # nothing was made where the package would go


def test_a_long_source_gop_is_named_in_a_warning(ffmpeg, site):
    base, out, settings, _ = site
    src = _source(
        ffmpeg, base / "gop.mp4", codec=["-c:v", "libx264", "-preset", "ultrafast", "-sc_threshold", "0"], gop=125
    )
    result = run_package(
        str(src), str(out), settings, PackageOptions(transmux=True, segment_duration=2, content_id="gop")
    )
    assert result.ok
    [warning] = [w for w in result.manifest.warnings if "keyframes" in w]
    assert "up to 5.00 s apart" in warning and "--segment-duration 2" in warning
    target = parse((Path(result.dir) / "SOURCE" / "index.m3u8").read_text(), "x")
    assert isinstance(target, MediaPlaylist) and target.target_duration == 5
