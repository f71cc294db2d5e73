"""fMP4 (CMAF) HLS: the box reader, CODECS from avcC/hvcC/av1C/esds, stitching and validating
AES-128 fMP4 packages (init section and segments encrypted), and fMP4 I-frame playlists.

Clips are real FFmpeg output (320x180 or 480x270, 3 s, 1 s segments); the tests check the bytes:
the init section and each segment decrypt with the stored key to ISO BMFF boxes, and the first
video sample of each segment and of each I-frame range is a sync sample."""

from __future__ import annotations

import io
import re
import secrets
import shutil

import av
import pytest

from hlskit.domain.errors import InputError
from hlskit.hls import fmp4
from hlskit.hls.crypto import decrypt_segment
from hlskit.hls.fragments import plain_size, read_fragments
from hlskit.hls.playlist import parse
from hlskit.hls.records import hevc_codec
from hlskit.hls.source import Source, decrypt_blocks
from hlskit.hls.stitch import definitions_in, stitch
from hlskit.hls.validate import validate
from hlskit.pipeline.master import write_master
from hlskit.storage import LocalStorage
from tests.hls.fmp4_streams import encode_fmp4, package


@pytest.fixture(scope="module")
def clips(ffmpeg, tmp_path_factory):
    """Clear FFmpeg fMP4 output per codec; copy before changing."""
    base = tmp_path_factory.mktemp("fmp4")
    for codec, size in (("h264", "320x180"), ("hevc", "480x270"), ("av1", "320x180")):
        encode_fmp4(ffmpeg, base / codec, codec=codec, size=size)
    return base


def _copy(clips, tmp_path, *codecs, names=None):
    for codec, name in zip(codecs, names or codecs):
        shutil.copytree(clips / codec, tmp_path / name)
    return tmp_path


def _segments(folder):
    return sorted(folder.glob("index-*.m4s"))


def _pyav(folder):
    data = (folder / "init.mp4").read_bytes() + _segments(folder)[0].read_bytes()
    with av.open(io.BytesIO(data)) as f:
        cc = f.streams.video[0].codec_context
        return cc.profile, cc.level, cc.width, cc.height


@pytest.mark.slow
def test_box_structure_of_ffmpeg_fmp4(clips):
    folder = clips / "h264"
    data = (folder / "init.mp4").read_bytes()
    top = [b.name for b in fmp4.boxes(data)]
    assert top[:2] == ["ftyp", "moov"] and fmp4.is_fmp4(data)
    moov = next(b for b in fmp4.boxes(data) if b.type == b"moov")
    assert fmp4.child(data, moov, b"mvex") is not None and len(fmp4.children(data, moov, b"trak")) == 2
    init = fmp4.read_init(data)
    assert [(t.handler, t.fourcc) for t in init.tracks] == [("vide", "avc1"), ("soun", "mp4a")]
    assert (init.video.width, init.video.height, init.video.length_size) == (320, 180, 4)
    assert init.audio.audio.sample_rate == 48000 and init.audio.codec == "mp4a.40.2"
    ends = {}
    for path in _segments(folder):
        seg = path.read_bytes()
        names = [b.name for b in fmp4.boxes(seg)]
        assert "moof" in names and names[-1] == "mdat" and not fmp4.is_fmp4(b"\x47" + bytes(187))
        frags = fmp4.read_segment(seg, init, len(seg))
        assert frags.complete and frags.first_video.sync and frags.first_video.key is True
        for tid, run in frags.runs.items():
            assert run.decode_time == ends.get(tid, 0)  # tfdt follows on (Apple HLS authoring spec 7.3)
            ends[tid] = run.decode_time + run.duration
        video = frags.runs[init.video.track_id]
        assert len(video.sizes) == 30 and video.duration == init.video.timescale  # 30 frames, 1 s
        sample = seg[frags.first_video.offset : frags.first_video.end]
        assert 5 in [b & 0x1F for b in fmp4.nal_types(sample, 4)]  # an IDR slice
    with pytest.raises(fmp4.Truncated) as cut:
        fmp4.read_segment(seg[:200], init)
    assert cut.value.need > 200


@pytest.mark.slow
@pytest.mark.parametrize("codec", ["h264", "hevc", "av1"])
def test_codecs_strings_agree_with_pyav(clips, codec):
    init = fmp4.read_init((clips / codec / "init.mp4").read_bytes())
    profile, level, width, height = _pyav(clips / codec)
    video = init.video
    assert (video.width, video.height) == (width, height)
    if codec == "h264":
        m = re.fullmatch(r"avc1\.([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})", video.codec)
        assert m and int(m.group(3), 16) == level
        assert {"Constrained Baseline": 66, "Baseline": 66, "Main": 77, "High": 100}[profile] == int(m.group(1), 16)
    elif codec == "hevc":
        assert profile == "Main" and video.codec == f"hvc1.1.6.L{level}.90"  # x265: progressive, frame only
    else:
        assert profile == "Main" and video.codec == f"av01.0.{level:02d}M.08"


def test_hevc_codec_string_follows_annex_e():
    def record(byte1, compat, constraints, level):
        return (
            bytes([1, byte1]) + compat.to_bytes(4, "big") + bytes(constraints) + bytes([level]) + bytes(8) + b"\x03\x00"
        )

    assert hevc_codec("hvc1", record(0x02, 0x20000000, [0xB0, 0, 0, 0, 0, 0], 153)).codec == "hvc1.2.4.L153.B0"
    assert (
        hevc_codec("hev1", record(0x21, 0x60000000, [0x90, 0, 0, 0, 0, 1], 120)).codec == "hev1.1.6.H120.90.0.0.0.0.1"
    )
    assert hevc_codec("hvc1", record(0x41, 0x40000000, [0] * 6, 93)).codec == "hvc1.A1.2.L93"
    assert hevc_codec("hvc1", record(0x01, 0, [0] * 6, 93)).length_size == 4


def _stitch(folder, resolver):
    storage = LocalStorage(folder)
    info = stitch(storage, "", definitions_in(storage, ""), resolver)
    write_master(storage, info)
    return info


def _resolver(*packaged):
    keys = {}
    for p in packaged:
        keys.update(p.keys)
    return keys.get


@pytest.mark.slow
def test_encrypted_h264_and_hevc_master_validates_with_declared_equal_to_measured(clips, tmp_path):
    _copy(clips, tmp_path, "h264", "hevc", names=["LD", "HD"])
    ld = package(tmp_path / "LD", key_url="https://keys.example.test/c/LD")
    hd = package(tmp_path / "HD", key_url="https://keys.example.test/c/HD")
    # The bytes: the init section and each segment decrypt with the stored key and IV to boxes.
    for p in (ld, hd):
        folder = p.playlist.parent
        for name, (key, iv) in p.files.items():
            plain = decrypt_segment((folder / name).read_bytes(), key, iv)
            assert plain == p.plain[name] and fmp4.is_fmp4(plain)
    resolver = _resolver(ld, hd)
    info = _stitch(tmp_path, resolver)
    hevc_level, avc_level = _pyav(clips / "hevc")[1], _pyav(clips / "h264")[1]
    assert {v.definition: (v.codecs, v.resolution) for v in info.variants} == {
        "HD": (f"hvc1.1.6.L{hevc_level}.90,mp4a.40.2", "480x270"),
        "LD": (f"avc1.42c0{avc_level:02x},mp4a.40.2", "320x180"),  # x264 ultrafast: Constrained Baseline
    }
    assert all(v.frame_rate == 30 and v.iframe_uri for v in info.variants)
    report = validate(str(tmp_path / "master.m3u8"), key_resolver=resolver)
    assert report.must == [], [(f.rule, f.message) for f in report.must]
    assert {f.rule for f in report.findings} <= {"AHS-9.9"}, [(f.rule, f.message) for f in report.findings]
    for v in report.variants:
        assert v.declared_bandwidth == v.measured_peak and v.declared_average == v.measured_average
        assert v.declared_codecs == v.codecs and v.declared_resolution == v.resolution
        assert v.declared_frame_rate == round(v.frame_rate, 3)
        assert v.idr_starts == v.checked_segments == v.segments == 3
    for r in report.iframes:
        assert r.declared_bandwidth == r.measured_peak and r.idr_starts == r.checked_segments == 3


@pytest.mark.slow
def test_av1_variant_validates(clips, tmp_path):
    _copy(clips, tmp_path, "av1", "h264", names=["AV", "LD"])
    av1 = package(tmp_path / "AV", key_url="https://keys.example.test/c/AV")
    ld = package(tmp_path / "LD", key_url="https://keys.example.test/c/LD")
    info = _stitch(tmp_path, _resolver(av1, ld))
    assert any(re.fullmatch(r"av01\.0\.\d\dM\.08,mp4a\.40\.2", v.codecs) for v in info.variants)
    report = validate(str(tmp_path / "master.m3u8"), key_resolver=_resolver(av1, ld))
    assert report.must == [], [(f.rule, f.message) for f in report.must]


@pytest.mark.slow
def test_iframe_ranges_decrypt_from_byte_0_to_a_moof_and_a_sync_sample(clips, tmp_path):
    _copy(clips, tmp_path, "hevc", names=["HD"])
    hd = package(tmp_path / "HD", key_url="https://keys.example.test/c/HD")
    _stitch(tmp_path, hd.resolver)
    text = (tmp_path / "HD" / "iframes.m3u8").read_text()
    lines = text.splitlines()
    assert "#EXT-X-VERSION:5" in lines and "#EXT-X-I-FRAMES-ONLY" in lines
    assert (
        lines.index('#EXT-X-MAP:URI="init.mp4"')
        == lines.index(next(x for x in lines if x.startswith("#EXT-X-KEY"))) + 1
    )
    ipl = parse(text, str(tmp_path / "HD" / "iframes.m3u8"))
    init = fmp4.read_init(hd.plain["init.mp4"])
    assert ipl.segments[0].map.key is not None and ipl.segments[0].map.key.iv == hd.files["init.mp4"][1]
    for seg in ipl.segments:
        name = seg.raw_uri
        key, iv = hd.files[name]
        cipher = (tmp_path / "HD" / name).read_bytes()
        assert seg.byterange.offset == 0 and seg.iv == iv  # the segment IV: the range starts at block 0
        end = seg.byterange.length
        assert end % 16 == 0 or end == len(cipher)
        plain = decrypt_blocks(cipher[:end], key, seg.iv)
        assert plain[4:8] in (b"styp", b"moof", b"sidx")
        first = fmp4.read_segment(plain, init).first_video
        assert first.sync and first.key is True and first.end <= end < first.end + 16
        # FFmpeg decodes the range's I-frame with the init section alone (up to the rounding's extra bytes)
        with av.open(io.BytesIO(hd.plain["init.mp4"] + plain[: first.end])) as f:
            frames = list(f.decode(video=0))
        assert len(frames) == 1 and frames[0].key_frame


@pytest.mark.slow
def test_wrong_key_is_a_decryption_finding(clips, tmp_path):
    _copy(clips, tmp_path, "h264", names=["LD"])
    ld = package(tmp_path / "LD", key_url="https://keys.example.test/c/LD")
    report = validate(str(ld.playlist), key_resolver=lambda uri: secrets.token_bytes(16))
    c4 = [f.message for f in report.findings if f.rule == "C4"]
    assert any("initialization section" in m for m in c4), report.findings
    assert any("segments that do not decrypt" in m for m in c4), report.findings
    good = validate(str(ld.playlist), key_resolver=ld.resolver)
    assert good.must == [] and good.variants[0].codecs == "avc1.42c00d,mp4a.40.2"


def _patch_first_video_flags(path, init, flags):
    """Set the first-sample flags of the video trun in a clear segment."""
    data = bytearray(path.read_bytes())
    moof = next(b for b in fmp4.boxes(data) if b.type == b"moof")
    for traf in fmp4.children(data, moof, b"traf"):
        tfhd = fmp4.child(data, traf, b"tfhd")
        if int.from_bytes(data[tfhd.body + 4 : tfhd.body + 8], "big") == init.video.track_id:
            trun = fmp4.child(data, traf, b"trun")
            assert data[trun.body + 3] & 0x4  # first-sample-flags-present, after the data offset
            at = trun.body + 8 + (4 if data[trun.body + 3] & 0x1 else 0)
            data[at : at + 4] = flags.to_bytes(4, "big")
    path.write_bytes(bytes(data))


@pytest.mark.slow
def test_segment_not_starting_with_a_sync_sample_is_found(clips, tmp_path):
    _copy(clips, tmp_path, "h264", names=["LD"])
    init = fmp4.read_init((tmp_path / "LD" / "init.mp4").read_bytes())
    _patch_first_video_flags(_segments(tmp_path / "LD")[1], init, 0x01010000)  # depends on others, non-sync
    ld = package(tmp_path / "LD", key_url="https://keys.example.test/c/LD")
    report = validate(str(ld.playlist), key_resolver=ld.resolver)
    found = [f.message for f in report.findings if f.rule == "AHS-7.4"]
    assert found and "index-00002.m4s (not a sync sample)" in found[0]
    assert report.variants[0].idr_starts == 2


@pytest.mark.slow
def test_tfdt_gap_and_extinf_drift_are_found(clips, tmp_path):
    _copy(clips, tmp_path, "h264", names=["LD"])
    path = _segments(tmp_path / "LD")[2]
    data = bytearray(path.read_bytes())
    tfdt = next(
        fmp4.child(data, traf, b"tfdt")
        for moof in fmp4.boxes(data)
        if moof.type == b"moof"
        for traf in fmp4.children(data, moof, b"traf")
    )
    at = tfdt.body + 4
    width = 8 if data[tfdt.body] == 1 else 4
    data[at : at + width] = (int.from_bytes(data[at : at + width], "big") + 512).to_bytes(width, "big")
    path.write_bytes(bytes(data))
    ld = package(tmp_path / "LD", key_url=None)
    text = ld.playlist.read_text().replace("#EXTINF:1.000000,\nindex-00001.m4s", "#EXTINF:0.800000,\nindex-00001.m4s")
    ld.playlist.write_text(text)
    report = validate(str(ld.playlist))
    e4 = [f.message for f in report.findings if f.rule == "E4"]
    assert e4 and "index-00003.m4s track 1" in e4[0]
    assert any("index-00001.m4s EXTINF 0.8" in f.message for f in report.findings if f.rule == "E3")


@pytest.mark.slow
def test_clear_lead_and_key_rotation(clips, tmp_path):
    _copy(clips, tmp_path, "h264", names=["LD"])
    ld = package(tmp_path / "LD", key_url="https://keys.example.test/c/LD", clear_lead=1, rotate_every=1)
    pl = parse(ld.playlist.read_text(), str(ld.playlist))
    assert pl.segments[0].map.key is None and not pl.segments[0].encrypted  # MAP before the first KEY: clear
    assert len({s.key.uri for s in pl.segments[1:]}) == 2 and "init.mp4" not in ld.files
    _stitch(tmp_path, ld.resolver)
    report = validate(str(tmp_path / "master.m3u8"), key_resolver=ld.resolver)
    assert report.must == [], [(f.rule, f.message) for f in report.must]
    assert report.variants[0].idr_starts == 3 and report.iframes[0].idr_starts == 3


@pytest.mark.slow
def test_encrypted_map_without_iv_and_missing_init_are_must(clips, tmp_path):
    text = (
        "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:1\n#EXT-X-PLAYLIST-TYPE:VOD\n"
        '#EXT-X-KEY:METHOD=AES-128,URI="https://k.example.test/1"\n#EXT-X-MAP:URI="init.mp4"\n'
        "#EXTINF:1.0,\na.m4s\n#EXT-X-ENDLIST\n"
    )
    pl = parse(text, "x/index.m3u8")
    assert [p.rule for p in pl.problems] == ["X2"] and pl.segments[0].map.uri == "x/init.mp4"
    _copy(clips, tmp_path, "h264", names=["LD"])
    ld = package(tmp_path / "LD", key_url=None)
    (tmp_path / "LD" / "init.mp4").unlink()
    report = validate(str(ld.playlist))
    assert "X1" in report.rules("MUST")


@pytest.mark.slow
def test_a_segment_of_two_fragments_is_read_through_both(clips, tmp_path):
    """Two moof+mdat pairs in one encrypted segment: the durations and tfdt come from both."""
    _copy(clips, tmp_path, "h264", names=["LD"])
    folder = tmp_path / "LD"
    first, second, _ = _segments(folder)
    first.write_bytes(first.read_bytes() + second.read_bytes())
    second.unlink()
    listed = (folder / "ffmpeg.m3u8").read_text()
    listed = listed.replace("#EXTINF:1.000000,\nindex-00002.m4s\n", "").replace(
        "#EXTINF:1.000000,", "#EXTINF:2.000000,", 1
    )
    (folder / "ffmpeg.m3u8").write_text(listed)
    ld = package(folder, key_url="https://keys.example.test/c/LD")
    report = validate(str(ld.playlist), key_resolver=ld.resolver)
    assert report.must == [], [(f.rule, f.message) for f in report.must]
    assert not report.rules() & {"E3", "E4"} and report.variants[0].idr_starts == 2
    seg = parse(ld.playlist.read_text(), str(ld.playlist)).segments[0]
    source, key, size = Source(LocalStorage(folder)), ld.resolver(seg.key.uri), first.stat().st_size
    init = fmp4.read_init(ld.plain["init.mp4"])
    frags, data = read_fragments(source, seg, key, size, init, total=plain_size(source, seg, key, size))
    assert frags.complete and frags.runs[init.video.track_id].duration == 2 * init.video.timescale
    assert ld.plain[first.name].startswith(data) and len(data) > size // 2  # on past the first mdat
    head, _ = read_fragments(source, seg, key, size, init)
    assert not head.complete and head.first_video.sync  # the first fragment alone is enough for I-frames


def _decrypts(cipher: bytes, key: bytes, iv: bytes) -> bool:
    try:
        decrypt_segment(cipher, key, iv)
    except ValueError:
        return False
    return True


@pytest.mark.slow
def test_stitch_failures_are_one_sentence(clips, tmp_path):
    _copy(clips, tmp_path, "h264", names=["LD"])
    ld = package(tmp_path / "LD", key_url="https://keys.example.test/c/LD")
    for resolver, start in (
        (None, "CODECS of LD cannot be read: its initialization section is encrypted"),
        (lambda uri: secrets.token_bytes(16), "CODECS of LD cannot be read: its initialization section does not"),
    ):
        with pytest.raises(InputError) as err:
            _stitch(tmp_path, resolver)
        assert err.value.message.startswith(start) and "Traceback" not in err.value.message
    # A wrong key whose noise ends in valid PKCS#7 padding (about one key in 256) is still a wrong key.
    seg = parse(ld.playlist.read_text(), str(ld.playlist)).segments[0]
    cipher = (tmp_path / "LD" / seg.map.uri).read_bytes()
    padded = next(
        k for k in (bytes([i % 256, i // 256]) * 8 for i in range(65536)) if _decrypts(cipher, k, seg.map.cipher.iv)
    )
    with pytest.raises(
        InputError, match="initialization section does not decrypt with the key from .* \\(wrong key or IV\\)"
    ):
        _stitch(tmp_path, lambda uri: padded)
    ld.playlist.write_text(re.sub(r",IV=0x[0-9a-f]+", "", ld.playlist.read_text()))
    with pytest.raises(InputError, match=r"encrypted but its EXT-X-KEY has no IV \(RFC 8216 §4\.3\.2\.5\)"):
        _stitch(tmp_path, ld.resolver)
    assert not (tmp_path / "master.m3u8").exists() and not (tmp_path / "LD" / "iframes.m3u8").exists()
