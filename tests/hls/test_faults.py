"""The validator names each fault, built on purpose into real FFmpeg streams, with its rule."""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from hlskit.hls.validate import validate
from hlskit.pipeline.master import stitch_playlists
from tests.hls.streams import encode, encrypt_playlist


def _rules(report, severity="MUST"):
    return {f.rule for f in report.findings if f.severity == severity}


def _clean_master(ladder: Path, tmp_path: Path, **kw) -> Path:
    shutil.copytree(ladder, tmp_path / "s")
    master = tmp_path / "s" / "master.m3u8"
    stitch_playlists([str(tmp_path / "s" / d / "index.m3u8") for d in ("LD", "HD")], str(master), **kw)
    return master


@pytest.mark.slow
def test_clean_stream_has_no_must_finding(ladder, tmp_path):
    report = validate(str(_clean_master(ladder, tmp_path)))
    assert report.must == [], [(f.rule, f.message) for f in report.must]
    assert all(v.declared_bandwidth == v.measured_peak for v in report.variants)


@pytest.fixture(scope="module")
def ffmpeg_master(ffmpeg, tmp_path_factory) -> Path:
    """A two-variant stream with FFmpeg's own master playlist (-master_pl_name)."""
    base = tmp_path_factory.mktemp("ffmaster")
    subprocess.run(
        [
            ffmpeg,
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=30",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-t",
            "4",
            "-filter_complex",
            "[0:v]split=2[a][b];[b]scale=320:180[b2]",
            "-map",
            "[a]",
            "-map",
            "[b2]",
            "-map",
            "1:a",
            "-map",
            "1:a",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-b:v:0",
            "700k",
            "-b:v:1",
            "250k",
            "-g",
            "60",
            "-keyint_min",
            "60",
            "-sc_threshold",
            "0",
            "-c:a",
            "aac",
            "-b:a",
            "64k",
            "-f",
            "hls",
            "-hls_time",
            "2",
            "-hls_playlist_type",
            "vod",
            "-master_pl_name",
            "master.m3u8",
            "-var_stream_map",
            "v:0,a:0 v:1,a:1",
            "-hls_segment_filename",
            str(base / "v%v/seg-%05d.ts"),
            str(base / "v%v/index.m3u8"),
        ],
        check=True,
        capture_output=True,
    )
    return base


@pytest.mark.slow
def test_ffmpeg_master_with_bandwidth_30_percent_low(ffmpeg_master, tmp_path):
    shutil.copytree(ffmpeg_master, tmp_path / "s")
    master = tmp_path / "s" / "master.m3u8"
    text = master.read_text()
    declared = int(re.search(r"BANDWIDTH=(\d+)", text).group(1))
    low = int(declared * 0.7)
    master.write_text(text.replace(f"BANDWIDTH={declared}", f"BANDWIDTH={low}", 1))
    report = validate(str(master))
    # Below the peak is RFC 8216's MUST (B1), reported once; Apple's ±10% (B4) is the SHOULD.
    b1 = [f for f in report.must if f.rule == "B1" and f"BANDWIDTH {low} b/s is below" in f.message]
    assert len(b1) == 1 and "v0/index.m3u8" in b1[0].where
    assert not [f for f in report.findings if f.rule == "B4" and f"declared {low} b/s" in f.message]
    v0 = next(v for v in report.variants if v.name == "v0/index.m3u8")
    assert v0.declared_bandwidth == low and v0.measured_peak > low / 0.9
    # FFmpeg writes no I-frame playlist into the master: Apple's must-fix 6.1.
    assert "AHS-6.1" in _rules(report)


@pytest.mark.slow
def test_missing_codecs(ffmpeg_master, tmp_path):
    shutil.copytree(ffmpeg_master, tmp_path / "s")
    master = tmp_path / "s" / "master.m3u8"
    master.write_text(re.sub(r',CODECS="[^"]*"', "", master.read_text()))
    report = validate(str(master))
    missing = [f for f in report.must if f.rule == "AHS-9.1"]
    assert len(missing) == 2 and all("has no CODECS" in f.message for f in missing)


@pytest.mark.slow
def test_wrong_codecs_and_resolution(ladder, tmp_path):
    master = _clean_master(ladder, tmp_path)
    text = master.read_text()
    text = text.replace("RESOLUTION=640x360,", "RESOLUTION=640x368,", 1)
    master.write_text(re.sub(r'CODECS="avc1\.[0-9a-f]{6}', 'CODECS="avc1.4d401e', text, count=1))
    report = validate(str(master))
    assert {"6.3", "3.1-RESOLUTION"} <= _rules(report)
    assert any("SPS (after cropping) says 640x360" in f.message for f in report.must)


@pytest.mark.slow
def test_segment_longer_than_target_duration(ffmpeg, tmp_path):
    # Keyframes at 0, 2 and 6 s: FFmpeg makes a 4 s segment; the playlist then claims target 2.
    playlist = encode(ffmpeg, tmp_path / "v", seconds=8, gop=600, x264=["-force_key_frames", "0,2,6"])
    text = playlist.read_text()
    assert "#EXT-X-TARGETDURATION:4" in text
    playlist.write_text(text.replace("#EXT-X-TARGETDURATION:4", "#EXT-X-TARGETDURATION:2"))
    report = validate(str(playlist))
    t2 = [f for f in report.must if f.rule == "T2"]
    assert len(t2) == 1 and "index-00001.ts EXTINF 4" in t2[0].message


@pytest.mark.slow
def test_misaligned_keyframes(ffmpeg, tmp_path):
    # Scene-cut keyframes on and a different GOP per rung: segment boundaries drift apart.
    encode(ffmpeg, tmp_path / "LD", size="320x180", kbps=250, seconds=6, gop=45, scenecut=True)
    encode(ffmpeg, tmp_path / "HD", size="640x360", kbps=700, seconds=6, gop=75, scenecut=True)
    master = tmp_path / "master.m3u8"
    stitch_playlists([str(tmp_path / "LD/index.m3u8"), str(tmp_path / "HD/index.m3u8")], str(master))
    report = validate(str(master))
    aligned = [f for f in report.findings if f.rule == "AHS-8.22"]
    assert len(aligned) == 1 and "not aligned" in aligned[0].message
    # The first variant of the master is the base the others are compared with (any ladder order).
    other, base = re.search(r"boundaries of (\w+)/index.m3u8 are not aligned with (\w+)/", aligned[0].message).groups()
    extinfs = [re.findall(r"#EXTINF:([\d.]+)", (tmp_path / d / "index.m3u8").read_text()) for d in (base, other)]
    first = next(i for i, (a, b) in enumerate(zip(*extinfs)) if a != b)
    assert f"segment {first}: EXTINF {float(extinfs[0][first]):g} vs {float(extinfs[1][first]):g}" in aligned[0].message


@pytest.mark.slow
def test_missing_endlist(ladder, tmp_path):
    master = _clean_master(ladder, tmp_path)
    media = master.parent / "HD" / "index.m3u8"
    media.write_text(media.read_text().replace("#EXT-X-ENDLIST\n", ""))
    report = validate(str(master))
    p3 = [f for f in report.must if f.rule == "P3"]
    assert len(p3) == 1 and p3[0].where.endswith("HD/index.m3u8")


@pytest.mark.slow
def test_wrong_key(ladder, tmp_path):
    shutil.copytree(ladder, tmp_path / "s")
    key, wrong = secrets.token_bytes(16), secrets.token_bytes(16)
    uri = "https://keys.example.test/c/k1"
    for d in ("LD", "HD"):
        encrypt_playlist(tmp_path / "s" / d / "index.m3u8", key, uri)
    master = tmp_path / "s" / "master.m3u8"
    stitch_playlists(
        [str(tmp_path / "s" / d / "index.m3u8") for d in ("LD", "HD")], str(master), key_resolver=lambda u: key
    )
    assert validate(str(master), key_resolver=lambda u: key).must == []
    report = validate(str(master), key_resolver=lambda u: wrong)
    c4 = [f for f in report.must if f.rule == "C4"]
    assert c4 and any("PKCS#7" in f.message for f in c4) and any("0x47" in f.message for f in c4)


@pytest.mark.slow
def test_iv_from_media_sequence_number(ladder, tmp_path):
    """No IV attribute: the IV is the MSN (IV1), and the I-frame playlist must state it explicitly."""
    shutil.copytree(ladder, tmp_path / "s")
    key = secrets.token_bytes(16)
    for d in ("LD", "HD"):
        encrypt_playlist(tmp_path / "s" / d / "index.m3u8", key, "https://keys.example.test/c/k", explicit_iv=False)
    master = tmp_path / "s" / "master.m3u8"
    stitch_playlists(
        [str(tmp_path / "s" / d / "index.m3u8") for d in ("LD", "HD")], str(master), key_resolver=lambda u: key
    )
    iframes = (tmp_path / "s" / "HD" / "iframes.m3u8").read_text()
    assert "IV=0x00000000000000000000000000000001" in iframes
    report = validate(str(master), key_resolver=lambda u: key)
    assert report.must == [] and "IV3" in _rules(report, "SHOULD")


@pytest.mark.slow
def test_key_uri_answering_hex_text(ladder, tmp_path, key_server):
    shutil.copytree(ladder, tmp_path / "s")
    key = secrets.token_bytes(16)
    key_server.bodies["hex"] = key.hex().encode()
    key_server.bodies["raw"] = key
    for d, name in (("LD", "hex"), ("HD", "raw")):
        encrypt_playlist(tmp_path / "s" / d / "index.m3u8", key, f"{key_server.url}/{name}")
    master = tmp_path / "s" / "master.m3u8"
    stitch_playlists(
        [str(tmp_path / "s" / d / "index.m3u8") for d in ("LD", "HD")], str(master), key_resolver=lambda u: key
    )
    report = validate(str(master), key_token="tok-123")
    kf1 = [f for f in report.must if f.rule == "KF1"]
    assert len(kf1) == 1 and "answered 32 bytes (it looks like hex text)" in kf1[0].message
    assert kf1[0].where.endswith("LD/index.m3u8")
    hd = next(v for v in report.variants if v.name == "HD/index.m3u8")
    assert hd.idr_starts == hd.segments  # the raw key decrypted every HD segment over HTTP
    assert all(r.get("Authorization") == "Bearer tok-123" for r in key_server.requests)


def test_unreadable_stream_raises_input_error(tmp_path):
    from hlskit.domain.errors import InputError

    with pytest.raises(InputError, match="cannot read"):
        validate(str(tmp_path / "missing.m3u8"))
    (tmp_path / "x.m3u8").write_bytes(b"\x00\x01 not a playlist")
    with pytest.raises(InputError, match="not an HLS playlist"):
        validate(str(tmp_path / "x.m3u8"))


@pytest.mark.slow
def test_a_key_that_cannot_be_had_is_one_plain_note(ladder, tmp_path):
    shutil.copytree(ladder, tmp_path / "s")
    uri = "https://keys.example.invalid/c/k1"  # RFC 2606: never resolves
    encrypt_playlist(tmp_path / "s" / "LD" / "index.m3u8", secrets.token_bytes(16), uri)
    report = validate(str(tmp_path / "s" / "LD" / "index.m3u8"))
    [note] = [n for n in report.notes if uri in n]
    # the URI once and the failure said once (it read "key X could not be fetched (key URI X could not …))")
    assert re.fullmatch(rf"key URI {re.escape(uri)} could not be fetched \([^()]+\); decryption was not checked", note)
