"""FFmpeg's clear output → a definition's final segments and media playlist: each segment
encrypted whole by the key its schedule names (decrypted back here with ``cryptography``),
renamed like MPS's, listed with one EXT-X-KEY per key change."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from hlskit.domain.errors import HlskitError
from hlskit.domain.keys import KeySchedule
from hlskit.engines.segments import SegmentProtector, finish_segments
from hlskit.hls.model import MediaPlaylist
from hlskit.hls.playlist import parse
from tests.engines.ffmpeg_output import segment_bytes, write_ffmpeg_output
from tests.plans import data_key

KEY_URL = "https://keys.example.com/keys"


def decrypt(data: bytes, key: bytes, iv: bytes) -> bytes:
    """AES-128-CBC with PKCS#7 padding, as RFC 8216 §4.3.2.4 defines METHOD=AES-128."""
    d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = d.update(data) + d.finalize()
    u = padding.PKCS7(128).unpadder()
    return u.update(padded) + u.finalize()


class Keys:
    """key_for(i): data key i, made on first use; remembers the order it was asked in."""

    def __init__(self):
        self.made: dict[int, object] = {}

    def __call__(self, index: int):
        return self.made.setdefault(index, data_key("talk", index))


def read(folder) -> MediaPlaylist:
    text = (folder / "index.m3u8").read_text()
    playlist = parse(text, (folder / "index.m3u8").as_posix())
    assert isinstance(playlist, MediaPlaylist)
    return playlist


def test_segments_are_encrypted_by_the_schedule_and_decrypt_back(tmp_path):
    folder = tmp_path / "LD"
    source = write_ffmpeg_output(folder, [4.0, 4.0, 4.0, 4.0, 4.0, 2.5])
    keys = Keys()
    out = finish_segments(source, KeySchedule(rotate_every=2, clear_lead=1), keys, KEY_URL)
    assert not source.exists() and sorted(p.name for p in folder.iterdir()) == [
        "index-00001.ts",
        "index-00002.ts",
        "index-00003.ts",
        "index-00004.ts",
        "index-00005.ts",
        "index-00006.ts",
        "index.m3u8",
    ]
    schedule = [None, 0, 0, 1, 1, 2]
    for i, k in enumerate(schedule):
        data = (folder / f"index-{i + 1:05d}.ts").read_bytes()
        if k is None:
            assert data == segment_bytes(i)
        else:
            key = keys.made[k]
            assert data != segment_bytes(i) and len(data) % 16 == 0
            assert decrypt(data, key.key, key.iv) == segment_bytes(i)
    assert out.key_ids == tuple(keys.made[k].key_id for k in (0, 1, 2))
    assert (out.segments, out.duration, out.target_duration, out.init) == (6, 22.5, 4, None)
    assert out.bytes == sum((folder / f"index-{i:05d}.ts").stat().st_size for i in range(1, 7))


def test_the_playlist_lists_one_key_tag_per_key_with_its_uri_and_iv(tmp_path):
    folder = tmp_path / "SD"
    keys = Keys()
    finish_segments(write_ffmpeg_output(folder, [4.0] * 5), KeySchedule(rotate_every=2, clear_lead=1), keys, KEY_URL)
    text = (folder / "index.m3u8").read_text()
    # The clear lead needs no tag (no EXT-X-KEY means clear); then one tag where each key starts.
    assert text.count("#EXT-X-KEY:") == 2 and "METHOD=NONE" not in text
    assert text.index("index-00001.ts") < text.index("METHOD=AES-128") < text.index("index-00002.ts")
    playlist = read(folder)
    assert playlist.endlist and playlist.playlist_type == "VOD" and playlist.target_duration == 4
    got = [(s.raw_uri, s.key.method if s.key else None, s.key.uri if s.key else None) for s in playlist.segments]
    assert got == [
        ("index-00001.ts", None, None),  # no EXT-X-KEY yet
        ("index-00002.ts", "AES-128", f"{KEY_URL}/talk/{keys.made[0].key_id}"),
        ("index-00003.ts", "AES-128", f"{KEY_URL}/talk/{keys.made[0].key_id}"),
        ("index-00004.ts", "AES-128", f"{KEY_URL}/talk/{keys.made[1].key_id}"),
        ("index-00005.ts", "AES-128", f"{KEY_URL}/talk/{keys.made[1].key_id}"),
    ]
    assert [s.key.iv for s in playlist.segments[1:]] == [keys.made[0].iv] * 2 + [keys.made[1].iv] * 2


def test_a_clear_package_keeps_the_bytes_and_writes_no_key(tmp_path):
    folder = tmp_path / "LD"
    keys = Keys()
    out = finish_segments(write_ffmpeg_output(folder, [2.0, 2.0]), KeySchedule(encrypt=False), keys, KEY_URL)
    assert keys.made == {} and out.key_ids == ()
    assert (folder / "index-00002.ts").read_bytes() == segment_bytes(1)
    assert "AES-128" not in (folder / "index.m3u8").read_text()


def test_fmp4_init_section_stays_clear_with_its_map_before_the_first_key(tmp_path):
    """The init section holds no sample; VLC 3.0 never decrypts one (docs/clients.md), and RFC 8216
    §4.3.2.5 allows a clear MAP before the first EXT-X-KEY."""
    folder = tmp_path / "HD-hevc"
    source = write_ffmpeg_output(folder, [4.0, 4.0], fmp4=True)
    plain_init = (folder / "init.mp4").read_bytes()
    keys = Keys()
    out = finish_segments(source, KeySchedule(), keys, KEY_URL)
    assert out.init == "init.mp4" and list(keys.made) == [0]
    assert (folder / "init.mp4").read_bytes() == plain_init
    key = keys.made[0]
    assert decrypt((folder / "index-00002.m4s").read_bytes(), key.key, key.iv) == segment_bytes(1)
    text = (folder / "index.m3u8").read_text()
    assert text.index('#EXT-X-MAP:URI="init.mp4"') < text.index("METHOD=AES-128") < text.index("index-00001.m4s")
    assert "#EXT-X-VERSION:6" in text  # RFC 8216 §7: EXT-X-MAP outside an I-frames-only playlist
    playlist = read(folder)
    assert playlist.segments[0].map is not None and playlist.segments[1].key.iv == key.iv


def test_with_a_clear_lead_the_init_section_and_first_segment_stay_clear(tmp_path):
    folder = tmp_path / "LD"
    source = write_ffmpeg_output(folder, [4.0, 4.0, 4.0], fmp4=True)
    plain_init = (folder / "init.mp4").read_bytes()
    finish_segments(source, KeySchedule(clear_lead=1), Keys(), KEY_URL)
    assert (folder / "init.mp4").read_bytes() == plain_init
    assert (folder / "index-00001.m4s").read_bytes() == segment_bytes(0)


def test_a_one_frame_segment_still_gets_a_target_duration_of_one(tmp_path):
    out = finish_segments(write_ffmpeg_output(tmp_path / "LD", [0.033]), KeySchedule(encrypt=False), Keys(), KEY_URL)
    assert out.target_duration == 1 and "#EXT-X-TARGETDURATION:1" in (tmp_path / "LD" / "index.m3u8").read_text()


def test_target_duration_rounds_half_up_as_rfc_8216_says(tmp_path):
    out = finish_segments(
        write_ffmpeg_output(tmp_path / "LD", [4.5, 4.49, 1.0]), KeySchedule(encrypt=False), Keys(), KEY_URL
    )
    assert out.target_duration == 5


def test_an_empty_or_master_playlist_is_an_error_not_a_package(tmp_path):
    empty = write_ffmpeg_output(tmp_path / "A", [])
    with pytest.raises(HlskitError, match="lists no segment: FFmpeg's output is empty"):
        finish_segments(empty, KeySchedule(), Keys(), KEY_URL)
    master = tmp_path / "B" / "ffmpeg.m3u8"
    master.parent.mkdir()
    master.write_text("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\nLD/index.m3u8\n")
    with pytest.raises(HlskitError, match="is not a media playlist"):
        finish_segments(master, KeySchedule(), Keys(), KEY_URL)


def test_segments_are_encrypted_while_ffmpeg_writes_and_the_finish_gives_the_same_package(tmp_path):
    """A segment is whole once FFmpeg has opened the next one; the ones encrypted early end up
    byte for byte as the finish alone would write them."""
    early, late = tmp_path / "early" / "LD", tmp_path / "late" / "LD"
    schedule = KeySchedule(rotate_every=2, clear_lead=1)
    keys = Keys()
    playlist = write_ffmpeg_output(early, [4.0, 4.0, 4.0, 2.0])
    write_ffmpeg_output(late, [4.0, 4.0, 4.0, 2.0])
    playlist.rename(tmp_path / "held.m3u8")  # FFmpeg writes a VOD playlist only when it ends
    protector = SegmentProtector(early, "ts", schedule, keys)
    protector.catch_up()
    # seg-00003 has no successor yet: it may still be written.
    assert [p.name for p in sorted(early.iterdir())] == [
        "index-00001.ts",
        "index-00002.ts",
        "index-00003.ts",
        "seg-00000.ts",  # kept until the finish: the subtitles read its first timestamp
        "seg-00003.ts",
    ]
    assert protector.taken() == {"seg-00000.ts", "seg-00001.ts", "seg-00002.ts"}
    key = keys.made[0]
    assert decrypt((early / "index-00002.ts").read_bytes(), key.key, key.iv) == segment_bytes(1)
    protector.catch_up()
    assert len(protector.done) == 3  # nothing new: nothing encrypted twice
    (tmp_path / "held.m3u8").rename(playlist)
    out = finish_segments(playlist, schedule, keys, KEY_URL, protector.done)
    whole = finish_segments(late / "ffmpeg.m3u8", schedule, keys, KEY_URL)
    assert sorted(p.name for p in early.iterdir()) == sorted(p.name for p in late.iterdir())
    for path in late.iterdir():
        assert (early / path.name).read_bytes() == path.read_bytes(), path.name
    assert out == replace(whole, playlist=out.playlist)


def test_with_downloads_to_make_the_clear_segments_stay_and_a_reset_forgets_the_work(tmp_path):
    folder = tmp_path / "LD"
    write_ffmpeg_output(folder, [2.0, 2.0, 2.0], fmp4=True)
    protector = SegmentProtector(folder, "fmp4", KeySchedule(), Keys(), keep_clear=True)
    protector.catch_up()
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "ffmpeg.m3u8",
        "index-00001.m4s",
        "index-00002.m4s",
        "init.mp4",
        "seg-00000.m4s",
        "seg-00001.m4s",
        "seg-00002.m4s",
    ]
    protector.reset()  # its FFmpeg run failed: a retry writes the folder again
    assert protector.done == [] and not list(folder.glob("index-*"))
