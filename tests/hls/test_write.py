"""The one playlist writer: exact text of media, I-frame and master playlists, read back by our
parser and by the independent m3u8 package."""

from __future__ import annotations

import m3u8

from hlskit.hls.master import VariantInfo
from hlskit.hls.playlist import MediaPlaylist, parse
from hlskit.hls.write import Entry, KeyTag, master_playlist, media_playlist

A = KeyTag("AES-128", "https://keys.example.test/c/k0", bytes(16))
B = KeyTag("AES-128", "https://keys.example.test/c/k1", bytes([1]) * 16)


def test_media_playlist_text_with_clear_lead_rotation_and_clear_tail():
    entries = [
        Entry("index-00001.ts", 2.0),
        Entry("index-00002.ts", 2.0, A),
        Entry("index-00003.ts", 2.0, A),
        Entry("index-00004.ts", 2.0, B),
        Entry("index-00005.ts", 1.04, KeyTag()),
    ]
    text = media_playlist(entries, target_duration=2)
    assert text == (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n"
        "#EXTINF:2.000000,\nindex-00001.ts\n"
        '#EXT-X-KEY:METHOD=AES-128,URI="https://keys.example.test/c/k0",IV=0x00000000000000000000000000000000\n'
        "#EXTINF:2.000000,\nindex-00002.ts\n#EXTINF:2.000000,\nindex-00003.ts\n"
        '#EXT-X-KEY:METHOD=AES-128,URI="https://keys.example.test/c/k1",IV=0x01010101010101010101010101010101\n'
        "#EXTINF:2.000000,\nindex-00004.ts\n"
        "#EXT-X-KEY:METHOD=NONE\n#EXTINF:1.040000,\nindex-00005.ts\n"
        "#EXT-X-ENDLIST\n"
    )
    ours = parse(text, "p/index.m3u8")
    assert isinstance(ours, MediaPlaylist) and ours.problems == []
    assert [s.key.raw_uri if s.encrypted else None for s in ours.segments] == [None, A.uri, A.uri, B.uri, None]
    theirs = m3u8.loads(text)
    assert [s.duration for s in theirs.segments] == [2.0, 2.0, 2.0, 2.0, 1.04]
    assert [s.key.uri if s.key else None for s in theirs.segments][1:4] == [A.uri, A.uri, B.uri]
    assert theirs.is_endlist and theirs.playlist_type == "vod" and theirs.target_duration == 2


def test_iframe_playlist_text():
    entries = [Entry("index-00001.ts", 2.0, A, (18424, 0)), Entry("index-00002.ts", 1.5, A, (9024, 0))]
    text = media_playlist(entries, target_duration=2, version=4, iframes_only=True)
    assert text == (
        "#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n"
        "#EXT-X-I-FRAMES-ONLY\n"
        '#EXT-X-KEY:METHOD=AES-128,URI="https://keys.example.test/c/k0",IV=0x00000000000000000000000000000000\n'
        "#EXTINF:2.000000,\n#EXT-X-BYTERANGE:18424@0\nindex-00001.ts\n"
        "#EXTINF:1.500000,\n#EXT-X-BYTERANGE:9024@0\nindex-00002.ts\n#EXT-X-ENDLIST\n"
    )
    pl = parse(text, "HD/iframes.m3u8")
    assert pl.iframes_only and pl.problems == [] and [s.byterange.length for s in pl.segments] == [18424, 9024]
    assert m3u8.loads(text).is_i_frames_only


def _variant(name, bw, iframes=True, **kw):
    return VariantInfo(
        definition=name,
        uri=f"{name}/index.m3u8",
        bandwidth=bw,
        average_bandwidth=bw - 1000,
        codecs="avc1.64001f,mp4a.40.2",
        resolution=kw.get("resolution", "640x360"),
        frame_rate=kw.get("frame_rate", 30.0),
        segments=2,
        duration=4.0,
        bytes=1,
        target_duration=2,
        peak_wide=bw,
        key_uris=[A.uri],
        iframe_uri=f"{name}/iframes.m3u8" if iframes else None,
        iframe_bandwidth=bw // 10 if iframes else None,
        iframe_average_bandwidth=bw // 20 if iframes else None,
    )


def test_master_playlist_text():
    hd, ld = _variant("HD", 800000), _variant("LD", 300000, iframes=False, resolution=None, frame_rate=None)
    text = master_playlist([hd, ld], ("AES-128", A.uri))
    assert text == (
        "#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        '#EXT-X-SESSION-KEY:METHOD=AES-128,URI="https://keys.example.test/c/k0"\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=800000,AVERAGE-BANDWIDTH=799000,CODECS="avc1.64001f,mp4a.40.2",'
        "RESOLUTION=640x360,FRAME-RATE=30.000,CLOSED-CAPTIONS=NONE\nHD/index.m3u8\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=300000,AVERAGE-BANDWIDTH=299000,CODECS="avc1.64001f,mp4a.40.2",'
        "CLOSED-CAPTIONS=NONE\nLD/index.m3u8\n"
        '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=80000,AVERAGE-BANDWIDTH=40000,CODECS="avc1.64001f",'
        'RESOLUTION=640x360,URI="HD/iframes.m3u8"\n'
    )
    assert master_playlist([hd], None).splitlines()[:3] == [
        "#EXTM3U",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        "#EXT-X-STREAM-INF:BANDWIDTH=800000,AVERAGE-BANDWIDTH=799000,"
        'CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=30.000,CLOSED-CAPTIONS=NONE',
    ]
    pl = parse(text, "master.m3u8")
    assert pl.problems == [] and [v.uri for v in pl.variants] == ["HD/index.m3u8", "LD/index.m3u8"]
    theirs = m3u8.loads(text)
    assert [p.stream_info.bandwidth for p in theirs.playlists] == [800000, 300000]
    assert [p.uri for p in theirs.iframe_playlists] == ["HD/iframes.m3u8"]
    assert [p.stream_info.closed_captions for p in theirs.playlists] == ["NONE", "NONE"]


def test_closed_captions_none_only_when_no_variant_carries_captions():
    # RFC 8216 §4.3.4.2: NONE on every EXT-X-STREAM-INF, or on none of them.
    hd, ld = _variant("HD", 800000), _variant("LD", 300000)
    ld.closed_captions = True
    text = master_playlist([hd, ld], None)
    assert "CLOSED-CAPTIONS" not in text
    hd.closed_captions = ld.closed_captions = False
    infs = [line for line in master_playlist([hd, ld], None).splitlines() if line.startswith("#EXT-X-STREAM-INF")]
    assert len(infs) == 2 and all(line.endswith(",CLOSED-CAPTIONS=NONE") for line in infs)


def test_vod_type_is_added_to_a_finished_playlist_without_one_and_only_then():
    from hlskit.hls.write import with_vod_type

    mps = (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:5\n#EXT-X-MEDIA-SEQUENCE:0\n"
        '#EXT-X-KEY:METHOD=AES-128,URI="https://k/x"\n#EXTINF:4.127544,\nindex-00001.ts\n#EXT-X-ENDLIST\n'
    )
    fixed = with_vod_type(mps)
    assert fixed.splitlines()[4] == "#EXT-X-PLAYLIST-TYPE:VOD" and fixed.splitlines()[5].startswith("#EXT-X-KEY")
    assert with_vod_type(fixed) is None  # already there
    assert with_vod_type(mps.replace("#EXT-X-ENDLIST\n", "")) is None  # not finished: may be live
