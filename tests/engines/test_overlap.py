"""The local engine encrypts each segment while FFmpeg still encodes the next ones (a real encode
watched from its progress callback), and the package it publishes is the same as ever: every
segment decrypts with its stored data key to whole MPEG-TS."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import m3u8
import pytest

from hlskit.domain.plan import PackageOptions
from hlskit.hls.crypto import decrypt_segment
from hlskit.pipeline import run_package
from hlskit.stores.keys import KeyStore
from tests.tsutil import ts_sync_ok


@pytest.mark.slow
def test_segments_are_encrypted_during_the_encode_and_the_package_decrypts(tmp_path, make_clip, hlskit_env):
    src = make_clip(tmp_path / "in.mp4", width=640, height=360, seconds=10)
    out = tmp_path / "out"
    seen: list[dict[str, bytes]] = []  # each progress report during the encode: the LD folder's files

    def progress(definition: str, percent: float, *speed: float | None) -> None:
        if speed and definition == "LD":  # FFmpeg still runs: its -progress reports carry a speed
            for folder in out.glob(".overlap.partial-*/LD"):
                seen.append({p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()})

    slow = dataclasses.replace(hlskit_env, x264_preset="veryslow")  # an encode long enough to watch
    result = run_package(str(src), str(out), slow, PackageOptions(segment_duration=1, content_id="overlap"), progress)
    during = [files for files in seen if "index-00003.ts" in files]
    assert during, f"no segment was encrypted while FFmpeg ran ({len(seen)} progress reports)"
    files = during[0]
    assert "ffmpeg.m3u8" not in files and "index.m3u8" not in files  # FFmpeg had not ended yet
    assert "seg-00002.ts" not in files  # the clear copy is gone once encrypted …
    assert "seg-00000.ts" in files  # … but the first, whose timestamp subtitles read at the end
    early = files["index-00003.ts"]
    assert len(early) % 16 == 0 and not ts_sync_ok(early)

    playlist = m3u8.load(str(Path(result.dir) / "LD" / "index.m3u8"))
    assert len(playlist.segments) == 10
    assert sorted(p.name for p in (Path(result.dir) / "LD").iterdir() if p.suffix == ".ts") == [
        s.uri for s in playlist.segments
    ]  # no clear FFmpeg segment published beside them
    assert (Path(result.dir) / "LD" / "index-00003.ts").read_bytes() == early  # encrypted once, kept
    keys = KeyStore(hlskit_env.key_db, hlskit_env.master_key_file)
    for seg in playlist.segments:
        key = keys.get("overlap", seg.key.uri.rsplit("/", 1)[-1])
        data = (Path(result.dir) / "LD" / seg.uri).read_bytes()
        assert ts_sync_ok(decrypt_segment(data, key, bytes.fromhex(seg.key.iv[2:]))), seg.uri
