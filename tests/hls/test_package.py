"""Our stitch of a real encrypted package (the lead's `packaged` fixture) validates clean."""

from __future__ import annotations

import io
import json

import av
import pytest

from hlskit.hls import ts
from hlskit.hls.playlist import parse
from hlskit.hls.source import Source, plain_range
from hlskit.hls.validate import validate
from hlskit.storage import LocalStorage
from hlskit.stores.keys import KeyStore

pytestmark = pytest.mark.slow


def test_stitched_package_validates_with_declared_equal_measured(packaged):
    report = validate(
        str(packaged.dir / "master.m3u8"), key_resolver=KeyStore.open(packaged.settings.store_config()).resolver()
    )
    assert report.must == [], [f"{f.rule} {f.message}" for f in report.must]
    assert len(report.variants) == len(packaged.manifest["definitions"])
    for v in report.variants:
        assert v.declared_bandwidth == v.measured_peak
        assert v.declared_average == v.measured_average
        assert v.codecs == v.declared_codecs and v.codecs.startswith("avc1.64")
        assert v.resolution == v.declared_resolution
        assert v.idr_starts == v.checked_segments == v.segments
        assert v.encryption.startswith("AES-128")
    for i in report.iframes:
        assert i.declared_bandwidth == i.measured_peak and i.idr_starts == i.segments


def test_master_shape(packaged):
    text = (packaged.dir / "master.m3u8").read_text()
    lines = text.splitlines()
    assert lines[:2] == ["#EXTM3U", "#EXT-X-INDEPENDENT-SEGMENTS"]
    assert "#EXT-X-VERSION" not in text  # nothing in the master needs more than version 1
    infs = [ln for ln in lines if ln.startswith("#EXT-X-STREAM-INF")]
    uris = [lines[lines.index(ln) + 1] for ln in infs]
    assert uris[0] == "LD/index.m3u8"  # start variant: the lowest (hlskit.hls.master.START_DEFINITION)
    bws = [int(ln.split("BANDWIDTH=")[1].split(",")[0]) for ln in infs[1:]]
    assert bws == sorted(bws)
    assert all("FRAME-RATE=30.000" in ln and "RESOLUTION=" in ln for ln in infs)
    assert text.count("#EXT-X-I-FRAME-STREAM-INF") == len(infs)
    keys = {k["uri"] for k in packaged.manifest["keys"]}
    if len(keys) == 1:
        assert f'#EXT-X-SESSION-KEY:METHOD=AES-128,URI="{keys.pop()}"' in text
    manifest = json.loads((packaged.dir / "hlskit.json").read_text())
    assert [v["uri"] for v in manifest["master"]["variants"]] == uris
    assert all(v["iframe"]["uri"].endswith("iframes.m3u8") for v in manifest["master"]["variants"])


def test_every_iframe_range_decrypts_to_an_idr_as_a_player_does(packaged):
    """hls-rules C5: widen to 16-byte blocks, IV = block before (segment IV at 0), trim, demux."""
    resolve = KeyStore.open(packaged.settings.store_config()).resolver()
    source = Source(LocalStorage("."))
    checked = 0
    for d in packaged.manifest["definitions"]:
        ref = str(packaged.dir / d["name"] / "iframes.m3u8")
        pl = parse(open(ref).read(), ref)
        assert pl.iframes_only and pl.version == 4
        for seg in pl.segments:
            assert seg.key.iv is not None  # explicit IVs: MSNs here are not the segments' MSNs
            key = resolve(seg.key.uri)
            data = plain_range(source, seg, key, seg.byterange.offset, seg.byterange.length, source.size(seg.uri))
            assert len(data) == seg.byterange.length and ts.synced(data)
            program = ts.find_program(data)
            first = ts.pes_starts(data, program.video_pid)[0]
            assert ts.is_idr(ts.read_pes(data, program.video_pid, first).payload)
            # And FFmpeg's own demuxer and decoder get a key frame picture out of the range alone.
            with av.open(io.BytesIO(data), format="mpegts") as container:
                frame = next(container.decode(video=0))
                assert frame.key_frame and int(frame.pict_type) == 1  # AV_PICTURE_TYPE_I
                assert f"{frame.width}x{frame.height}" == f"{d['width']}x{d['height']}"
            checked += 1
    assert checked >= 9
