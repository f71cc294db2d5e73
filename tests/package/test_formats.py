"""--format fmp4, --codec h264,hevc,av1 and --mp4 on real FFmpeg output: the bytes, not only exit codes.

Every definition's init section and segments are decrypted with the key from the key store and
decoded by PyAV (FFmpeg's demuxers and decoders, independent of hlskit's own box reader): the init
section is a real ``ftyp``/``moov``, each segment a ``moof``/``mdat`` fragment whose first video
frame is a key frame, and every codec cuts its segments at the same times.
"""

from __future__ import annotations

import io
import json
import os
import struct
from pathlib import Path

import av
import pytest

from hlskit.config import load_settings
from hlskit.domain.plan import PackageOptions
from hlskit.hls.crypto import decrypt_segment
from hlskit.hls.playlist import MediaPlaylist, parse
from hlskit.pipeline import run_package
from hlskit.stores.keys import KeyStore
from tests.conftest import _make_clip, run_hlskit

pytestmark = pytest.mark.slow

SECONDS = 4
DECODERS = {"h264": {"h264"}, "hevc": {"hevc"}, "av1": {"libdav1d", "av1", "libaom-av1"}}


def top_boxes(data: bytes) -> list[str]:
    """The types of the top-level ISO BMFF boxes (ISO/IEC 14496-12 §4.2), in file order."""
    found, at = [], 0
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        if size == 1:
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
        found.append(kind.decode("latin-1"))
        if size < 8:
            break
        at += size
    return found


def plain(path: Path, seg_key, keys: KeyStore, content_id: str) -> bytes:
    data = path.read_bytes()
    if seg_key is None or not seg_key.encrypted:
        return data
    key = keys.get(content_id, seg_key.uri.rsplit("/", 1)[1])
    assert key is not None and len(key) == 16
    return decrypt_segment(data, key, seg_key.iv)


@pytest.fixture(scope="module")
def fmp4_package(tmp_path_factory, ffmpeg):
    base = tmp_path_factory.mktemp("fmp4")
    source = _make_clip(ffmpeg, base / "clip.mp4", width=320, height=180, seconds=SECONDS)
    home = base / "home"
    saved = {k: os.environ.get(k) for k in ("HLSKIT_HOME", "HLSKIT_X264_PRESET")}
    os.environ.update(HLSKIT_HOME=str(home), HLSKIT_X264_PRESET="ultrafast")
    try:
        settings = load_settings()
        options = PackageOptions(
            ladder="LD",
            segment_duration=1,
            rotate_every=2,
            clear_lead=1,
            content_id="fm",
            codecs=("h264", "hevc", "av1"),
            mp4=True,
        )
        result = run_package(str(source), str(base / "out"), settings, options)
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    keys = KeyStore(home / "keys.db", home / "master.key")
    return result, Path(result.dir), keys


def test_fmp4_is_chosen_for_hevc_and_av1_and_every_job_succeeds(fmp4_package):
    result, pkg, _ = fmp4_package
    assert result.ok, [(j.definition, j.message) for j in result.failed]
    manifest = json.loads((pkg / "hlskit.json").read_text())
    assert manifest["format"] == "fmp4"
    assert [(d["name"], d["codec"]) for d in manifest["definitions"]] == [
        ("LD", "h264"),
        ("LD-hevc", "hevc"),
        ("LD-av1", "av1"),
    ]
    by_name = {d["name"]: d for d in manifest["definitions"]}
    assert by_name["LD-hevc"]["video_kbps"] < by_name["LD"]["video_kbps"]  # a newer codec's rung spends less


def test_init_and_segments_decrypt_to_fragments_that_start_with_a_key_frame(fmp4_package):
    result, pkg, keys = fmp4_package
    expected = {"LD": "h264", "LD-hevc": "hevc", "LD-av1": "av1"}
    for name, codec in expected.items():
        text = (pkg / name / "index.m3u8").read_text()
        pl = parse(text, (pkg / name / "index.m3u8").as_posix())
        assert isinstance(pl, MediaPlaylist) and pl.version == 6  # RFC 8216 §7: EXT-X-MAP needs 6
        assert text.index("#EXT-X-MAP") < text.index("#EXT-X-KEY")  # clear lead: the init section is clear
        init = (pkg / name / "init.mp4").read_bytes()
        assert top_boxes(init)[:2] == ["ftyp", "moov"]
        assert [s.raw_uri for s in pl.segments] == [f"index-{i:05d}.m4s" for i in range(1, len(pl.segments) + 1)]
        assert not pl.segments[0].encrypted and all(s.encrypted for s in pl.segments[1:])
        for seg in pl.segments:
            data = plain(pkg / name / seg.raw_uri, seg.key, keys, "fm")
            boxes = top_boxes(data)  # FFmpeg: styp, sidx (one per track), moof, mdat
            assert boxes[0] in ("styp", "moof") and "moof" in boxes and boxes[-1] == "mdat"
            with av.open(io.BytesIO(init + data)) as container:
                stream = container.streams.video[0]
                assert stream.codec_context.name in DECODERS[codec]
                packet = next(p for p in container.demux(stream) if p.size)
                assert packet.is_keyframe, f"{name} {seg.raw_uri} does not start with a key frame"
            with av.open(io.BytesIO(init + data)) as container:  # decoded alone, from its first frame
                frame = next(container.decode(video=0))
                assert frame.key_frame, f"{name} {seg.raw_uri}: the first decoded picture is not a key frame"


def test_every_codec_cuts_its_segments_at_the_same_times(fmp4_package):
    _, pkg, _ = fmp4_package
    lists = {}
    for name in ("LD", "LD-hevc", "LD-av1"):
        pl = parse((pkg / name / "index.m3u8").read_text(), (pkg / name / "index.m3u8").as_posix())
        lists[name] = [s.duration_us for s in pl.segments]
    assert lists["LD"] == lists["LD-hevc"] == lists["LD-av1"]
    assert sum(lists["LD"]) == pytest.approx(SECONDS * 1_000_000, abs=100_000)


def test_the_master_lists_each_codec_and_starts_with_h264(fmp4_package):
    _, pkg, _ = fmp4_package
    lines = (pkg / "master.m3u8").read_text().splitlines()
    infs = [line for line in lines if line.startswith("#EXT-X-STREAM-INF")]
    codecs = [line.split('CODECS="')[1].split('"')[0] for line in infs]
    assert codecs[0].startswith("avc1.")  # every player decodes the first variant
    assert {c.split(".")[0] for c in codecs} == {"avc1", "hvc1", "av01"}
    assert all(c.endswith("mp4a.40.2") for c in codecs)


def test_mp4_downloads_are_fast_start_and_play_whole(fmp4_package):
    result, pkg, _ = fmp4_package
    manifest = result.manifest
    assert [(d.name, d.state) for d in manifest.downloads] == [
        ("LD", "TranscodeSuccess"),
        ("LD-hevc", "TranscodeSuccess"),
        ("LD-av1", "TranscodeSuccess"),
    ]
    for d in manifest.downloads:
        path = pkg / d.uri
        data = path.read_bytes()
        assert d.bytes == len(data)
        boxes = top_boxes(data)
        assert boxes.index("moov") < boxes.index("mdat")  # fast start: the index before the media
        with av.open(str(path)) as container:
            assert float(container.duration / av.time_base) == pytest.approx(SECONDS, abs=0.15)
            assert container.streams.audio and container.streams.video
            frames = sum(1 for _ in container.decode(video=0))
        assert frames == SECONDS * 30
    jobs = {j.definition: j for j in result.jobs}
    assert {"LD.mp4", "LD-hevc.mp4", "LD-av1.mp4"} <= set(jobs)  # each download is a job of its own
    assert len({j.job_id for j in result.jobs}) == 6


def test_without_clear_lead_the_init_section_stays_clear_and_every_segment_is_encrypted(
    tmp_path, make_clip, hlskit_env
):
    # VLC 3.0 never decrypts an init section (docs/clients.md): the MAP comes before the first KEY.
    src = make_clip(tmp_path / "c.mp4", seconds=2)
    options = PackageOptions(ladder="LD", segment_duration=1, content_id="enc", format="fmp4")
    result = run_package(str(src), str(tmp_path / "out"), hlskit_env, options)
    assert result.ok
    pkg = Path(result.dir)
    text = (pkg / "LD" / "index.m3u8").read_text()
    assert text.index("#EXT-X-MAP") < text.index("#EXT-X-KEY") < text.index("index-00001.m4s")
    assert top_boxes((pkg / "LD" / "init.mp4").read_bytes())[:2] == ["ftyp", "moov"]
    pl = parse(text, (pkg / "LD" / "index.m3u8").as_posix())
    assert not pl.segments[0].map.encrypted and all(s.encrypted for s in pl.segments)
    keys = KeyStore.open(hlskit_env.store_config())
    for seg in pl.segments:
        path = pkg / "LD" / seg.raw_uri
        assert top_boxes(path.read_bytes())[-1:] != ["mdat"]  # ciphertext on disk
        assert top_boxes(plain(path, seg.key, keys, "enc"))[-1] == "mdat"


@pytest.mark.parametrize(
    "args, words",
    [
        (["--format", "ts", "--codec", "hevc"], "fMP4 only"),
        (["--codec", "vp9"], "unknown codec 'vp9'"),
        (["--format", "mkv"], "--format must be ts or fmp4"),
    ],
)
def test_bad_format_choices_are_refused_in_one_sentence_and_write_nothing(tmp_path, make_clip, args, words):
    src = make_clip(tmp_path / "c.mp4", seconds=1)
    out = tmp_path / "out"
    done = run_hlskit("package", str(src), "--out", str(out), *args, env={"HLSKIT_HOME": str(tmp_path / "home")})
    assert done.returncode == 2
    assert words in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())


def test_quality_reads_encrypted_fmp4_definitions_of_every_codec(fmp4_package):
    """`hlskit quality` decrypts each init section and its segments (keys from the store) and scores
    them against the source: every codec's definition is close to its source, far above noise."""
    result, pkg, _ = fmp4_package
    done = run_hlskit("quality", str(pkg), "--json", env={"HLSKIT_HOME": str(pkg.parent.parent / "home")})
    assert done.returncode == 0, done.stderr
    scores = {d["definition"]: d for d in json.loads(done.stdout)["definitions"]}
    assert set(scores) == {"LD", "LD-hevc", "LD-av1"}
    for name, d in scores.items():
        assert d["frames"] == SECONDS * 30, name
        assert d["vmaf"] > 60, (name, d["vmaf"])
