"""Stitch and validate a 2-hour title: 6 definitions x 1,200 segments of 6 s, AES-128 encrypted.

Segments are synthetic but real: per definition FFmpeg encodes one 6 s TS segment, which is padded
with TS null packets into 8 sizes, encrypted (one key, explicit IV, as hlskit does) and
hard-linked 1,200 times, so sizes vary, disk use stays small and every segment still decrypts and
starts with an IDR. (The copies repeat the same PTS, so validate's EXTINF-vs-PTS check, E3, fires
on every segment: expected here, and it exercises the reporting of many findings.)

Compared side by side: head-only reads (what stitch and validate do) against reading, decrypting
and scanning every segment whole (what denser I-frame playlists would need).

Run: .venv/bin/python bench/stitch.py [--segments 1200] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import subprocess
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg

from hlskit.hls import ts
from hlskit.hls.crypto import decrypt_segment, encrypt_segment
from hlskit.hls.stitch import definitions_in, stitch
from hlskit.hls.validate import validate
from hlskit.pipeline.master import write_master
from hlskit.storage import LocalStorage

LADDER = [
    ("LD", "320x180", 200),
    ("SD", "320x180", 400),
    ("HD", "320x180", 800),
    ("FHD", "320x180", 1200),
    ("2K", "320x180", 1600),
    ("4K", "320x180", 2000),
]
KEY_URI = "http://127.0.0.1:8000/keys/bench/k1"


class CountingStorage(LocalStorage):
    """LocalStorage that counts reads, so the bench can say how many bytes each approach touched."""

    def __init__(self, root):
        super().__init__(root)
        self.reads = self.bytes = self.stats = 0

    def read_bytes(self, path, start=None, length=None):
        data = super().read_bytes(path, start, length)
        self.reads += 1
        self.bytes += len(data)
        return data

    def size(self, path):
        self.stats += 1
        return super().size(path)


def build(root: Path, segments: int, key: bytes, iv: bytes) -> None:
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    null = bytes([0x47, 0x1F, 0xFF, 0x10]) + b"\xff" * 184
    for name, size, kbps in LADDER:
        folder = root / name
        folder.mkdir(parents=True)
        subprocess.run(
            [
                ffmpeg,
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                f"testsrc2=size={size}:rate=30",
                "-f",
                "lavfi",
                "-i",
                "sine=sample_rate=48000",
                "-t",
                "6",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-b:v",
                f"{kbps}k",
                "-g",
                "60",
                "-sc_threshold",
                "0",
                "-c:a",
                "aac",
                "-b:a",
                "64k",
                "-f",
                "mpegts",
                str(folder / "one.ts"),
            ],
            check=True,
        )
        plain = (folder / "one.ts").read_bytes()
        variants = []
        for k in range(8):
            path = folder / f"v{k}.bin"
            path.write_bytes(encrypt_segment(plain + null * (k * 40), key, iv))
            variants.append(path)
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:3",
            "#EXT-X-TARGETDURATION:6",
            "#EXT-X-MEDIA-SEQUENCE:0",
            "#EXT-X-PLAYLIST-TYPE:VOD",
            f'#EXT-X-KEY:METHOD=AES-128,URI="{KEY_URI}",IV=0x{iv.hex()}',
        ]
        for i in range(segments):
            seg = f"index-{i + 1:05d}.ts"
            os.link(variants[(i * 5) % 8], folder / seg)
            lines += ["#EXTINF:6.000000,", seg]
        lines.append("#EXT-X-ENDLIST")
        (folder / "index.m3u8").write_text("\n".join(lines) + "\n")


def full_scan(root: Path, key: bytes, iv: bytes) -> tuple[float, int]:
    """Read, decrypt and find every keyframe of every segment (the dense I-frame alternative)."""
    t = time.perf_counter()
    total = 0
    for name, _, _ in LADDER:
        for seg in sorted((root / name).glob("index-*.ts")):
            data = decrypt_segment(seg.read_bytes(), key, iv)
            total += len(data)
            program = ts.find_program(data)
            for off in ts.pes_starts(data, program.video_pid):
                ts.read_pes(data, program.video_pid, off)
    return time.perf_counter() - t, total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--segments", type=int, default=1200)
    ap.add_argument("--keep", default=None)
    args = ap.parse_args()
    key, iv = secrets.token_bytes(16), secrets.token_bytes(16)
    with tempfile.TemporaryDirectory(prefix="hlskit-bench-") as tmp:
        root = Path(args.keep or tmp) / "title"
        t = time.perf_counter()
        build(root, args.segments, key, iv)
        built = time.perf_counter() - t
        total_bytes = sum(p.stat().st_size for p in root.glob("*/index-*.ts"))

        storage = CountingStorage(root)
        t = time.perf_counter()
        info = stitch(storage, "", definitions_in(storage, ""), lambda uri: key)
        write_master(storage, info)
        stitched = time.perf_counter() - t
        s_reads, s_bytes, s_stats = storage.reads, storage.bytes, storage.stats

        t = time.perf_counter()
        report = validate(str(root / "master.m3u8"), key_resolver=lambda uri: key)
        validated = time.perf_counter() - t

        scan_s, scan_bytes = full_scan(root, key, iv)

    n = len(LADDER) * args.segments
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"title: {len(LADDER)} definitions x {args.segments} segments = {n} segments, "
        f"{total_bytes / 1e6:.0f} MB logical (hard links), built in {built:.1f} s"
    )
    print(
        f"stitch + write_master: {stitched:.2f} s ({s_reads} reads, {s_bytes / 1e6:.1f} MB read, {s_stats} stats), "
        f"{len(info.variants)} variants, {sum(v.iframe_count for v in info.variants)} I-frames"
    )
    print(
        f"validate (master + 6 media + 6 I-frame playlists): {validated:.2f} s, "
        f"{len(report.must)} MUST / {len(report.should)} SHOULD findings "
        f"(rules {sorted(report.rules())})"
    )
    print(
        f"full scan of every segment (dense I-frames): {scan_s:.2f} s for {scan_bytes / 1e6:.0f} MB "
        f"= {scan_bytes / 1e6 / scan_s:.0f} MB/s"
    )


if __name__ == "__main__":
    main()
