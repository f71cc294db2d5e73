"""Bad and odd inputs for `hlskit package`: each kind is made on demand with real FFmpeg.

Shared by tests/reliability/test_bad_inputs.py (small clips) and bench/reliability_package.py
(larger clips, more kinds).
"""

from __future__ import annotations

import random
import struct
import subprocess
from pathlib import Path

from hlskit.engines.sample import sample_args


def ff(ffmpeg: str, *args: str) -> None:
    subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def clip(ffmpeg: str, path: Path, w: int = 320, h: int = 180, seconds: float = 2, fps: int = 30) -> Path:
    subprocess.run(
        sample_args(ffmpeg, str(path), w, h, seconds, fps, True, preset="ultrafast"), check=True, capture_output=True
    )
    return path


def lavfi(ffmpeg: str, path: Path, vf: str = "", seconds: float = 2, size: str = "320x180", extra=()) -> Path:
    args = ["-f", "lavfi", "-i", f"testsrc2=s={size}:r=30", "-f", "lavfi", "-i", "sine=f=440"]
    args += ["-t", str(seconds), "-shortest"]
    if vf:
        args += ["-vf", vf]
    ff(ffmpeg, *args, *extra, "-c:a", "aac", str(path))
    return path


def damage_middle(src: Path, dst: Path, seed: int = 1) -> Path:
    """Overwrite small runs of bytes in the middle 20% of a file: the container stays readable."""
    data = bytearray(src.read_bytes())
    rnd = random.Random(seed)
    n = len(data)
    for k in range(40):
        at = int(n * 0.4) + k * (n // 200)
        data[at : at + 64] = bytes(rnd.randrange(256) for _ in range(64))
    dst.write_bytes(bytes(data))
    return dst


def udta_first(mp4: bytes) -> bytes:
    """``mp4`` with its moov's udta box moved before its tracks (chunk offsets point into mdat,
    which does not move: FFmpeg writes moov last)."""

    def boxes(data: bytes) -> list[tuple[bytes, bytes]]:
        found, at = [], 0
        while at < len(data):
            size, kind = struct.unpack(">I4s", data[at : at + 8])
            found.append((kind, data[at : at + size]))
            at += size
        return found

    out = b""
    for kind, box in boxes(mp4):
        if kind == b"moov":
            children = boxes(box[8:])
            box = box[:8] + b"".join(b for k, b in sorted(children, key=lambda c: (c[0] != b"mvhd", c[0] != b"udta")))
        out += box
    return out


def make_source(kind: str, folder: Path, ffmpeg: str, base: Path, scale: int = 1) -> Path:
    """The source file for ``kind`` under ``folder``; ``base`` is a good 2 s clip to derive from."""
    p = folder / f"{kind}.mp4"
    size = f"{320 * scale}x{180 * scale}"
    if kind == "not-media":
        p.write_text("this is not a video\n" * 100)
    elif kind == "empty":
        p.write_bytes(b"")
    elif kind == "random-bytes":
        p.write_bytes(random.Random(2).randbytes(64 * 1024))
    elif kind.startswith("truncated-"):
        data = base.read_bytes()
        named = {"truncated-half": 0.5, "truncated-tail": 0.95, "truncated-head": 0.02}
        cut = named[kind] if kind in named else int(kind.rsplit("-", 1)[1]) / 100  # truncated-<percent>
        p.write_bytes(data[: int(len(data) * cut)])
    elif kind == "header-only":
        p.write_bytes(base.read_bytes()[:40])
    elif kind == "audio-only":
        p = folder / "audio-only.m4a"
        ff(ffmpeg, "-f", "lavfi", "-i", "sine=d=2", "-c:a", "aac", str(p))
    elif kind == "png":
        p = folder / "still.png"
        ff(ffmpeg, "-f", "lavfi", "-i", "testsrc2=s=320x180", "-frames:v", "1", str(p))
    elif kind == "jpeg":
        p = folder / "still.jpg"
        ff(ffmpeg, "-f", "lavfi", "-i", "testsrc2=s=320x180", "-frames:v", "1", str(p))
    elif kind == "mjpeg-stream":  # a raw stream of 25 JPEG pictures: image demuxer, no frame rate
        p = folder / "camera.mjpeg"
        ff(ffmpeg, "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=1", "-c:v", "mjpeg", str(p))
    elif kind == "one-frame":
        ff(ffmpeg, "-f", "lavfi", "-i", "testsrc2=s=320x180:r=30", "-frames:v", "1", "-c:v", "libx264", str(p))
    elif kind == "very-short":
        lavfi(ffmpeg, p, seconds=0.2)
    elif kind == "tiny-16x16":
        lavfi(ffmpeg, p, size="16x16", extra=["-c:v", "libx264", "-preset", "ultrafast"])
    elif kind == "odd-321x181":
        lavfi(ffmpeg, p, size="321x181", extra=["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p"])
    elif kind == "10-bit":
        lavfi(ffmpeg, p, size=size, extra=["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le"])
    elif kind == "444":
        lavfi(ffmpeg, p, size=size, extra=["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p"])
    elif kind == "vfr":
        # 30 fps for 1 s, then 10 fps: real variable frame rate in one stream
        lavfi(
            ffmpeg,
            p,
            vf="select='lt(t,1)+not(mod(n,3))',setpts=N/30/TB",
            size=size,
            extra=["-fps_mode", "vfr", "-c:v", "libx264", "-preset", "ultrafast"],
        )
    elif kind == "rotated":
        ff(ffmpeg, "-display_rotation", "90", "-i", str(base), "-c", "copy", str(p))
    elif kind in ("hdr-pq", "hdr-hlg"):
        trc = "smpte2084" if kind == "hdr-pq" else "arib-std-b67"
        vf = f"setparams=color_primaries=bt2020:color_trc={trc}:colorspace=bt2020nc,format=yuv420p10le"
        lavfi(ffmpeg, p, vf=vf, size=size, extra=["-c:v", "libx264", "-preset", "ultrafast"])
    elif kind.startswith("corrupt-middle"):  # corrupt-middle[-<seed>]
        good = lavfi(
            ffmpeg, folder / "pre-corrupt.mp4", seconds=3, size=size, extra=["-c:v", "libx264", "-preset", "ultrafast"]
        )
        damage_middle(good, p, seed=int(kind.rsplit("-", 1)[1]) if kind[-1].isdigit() else 1)
    elif kind == "mpeg-ts":
        p = folder / "source.ts"
        ff(ffmpeg, "-i", str(base), "-c", "copy", str(p))
    elif kind == "mkv":
        p = folder / "source.mkv"
        ff(ffmpeg, "-i", str(base), "-c", "copy", str(p))
    elif kind == "mkv-from-pipe":  # Matroska written where it cannot seek back: no duration in its header
        p = folder / "piped.mkv"
        with p.open("wb") as out:
            subprocess.run(
                [ffmpeg, "-v", "error", "-i", str(base), "-c", "copy", "-f", "matroska", "-"], stdout=out, check=True
            )
    elif kind.startswith("audio-longer-"):  # complete, its audio 1.5 s longer than its video
        p = folder / f"longer-audio.{kind.rsplit('-', 1)[1]}"  # Matroska states no stream duration, MP4 does
        streams = ["-map", "0:v", "-map", "1:a", "-c:v", "copy"]
        ff(ffmpeg, "-i", str(base), "-f", "lavfi", "-i", "sine=d=3.5", *streams, str(p))
    elif kind == "raw-h264":  # an elementary stream: frames without timestamps
        p = folder / "video.h264"
        ff(ffmpeg, "-i", str(base), "-map", "0:v", "-c", "copy", "-f", "h264", str(p))
    elif kind.startswith("cover-first-"):  # a square cover picture listed before the video
        p = folder / f"cover-first.{kind.rsplit('-', 1)[1]}"
        cover = folder / "cover.png"
        ff(ffmpeg, "-f", "lavfi", "-i", "color=red:s=600x600", "-frames:v", "1", str(cover))
        if p.suffix == ".mkv":  # Matroska: a PNG track of one picture, not flagged as cover art
            ff(ffmpeg, "-i", str(cover), "-i", str(base), "-map", "0", "-map", "1", "-c", "copy", str(p))
        else:  # MP4: cover art (covr) in a udta box that comes before the tracks, as some taggers write it
            tagged = folder / "tagged.mp4"
            streams = ["-map", "0", "-map", "1", "-c", "copy", "-disposition:v:1", "attached_pic"]
            ff(ffmpeg, "-i", str(base), "-i", str(cover), *streams, str(tagged))
            p.write_bytes(udta_first(tagged.read_bytes()))
    elif kind == "preview-track-first":  # a camera's 160x90 preview track before the 320x180 video, both default
        p = folder / "preview-first.mkv"
        preview = ["-f", "lavfi", "-i", "testsrc2=s=160x90:r=30:d=2", "-i", str(base)]
        maps = ["-map", "0:v", "-map", "1:v", "-map", "1:a"]
        codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy"]
        flags = ["-disposition:v:0", "default", "-disposition:v:1", "default"]
        ff(ffmpeg, *preview, *maps, *codecs, *flags, str(p))
    elif kind == "audio-with-cover":
        p = folder / "song.m4a"
        cover = folder / "cover.png"
        ff(ffmpeg, "-f", "lavfi", "-i", "color=red:s=300x300", "-frames:v", "1", str(cover))
        streams = ["-map", "0", "-map", "1", "-c:a", "aac", "-c:v", "copy", "-disposition:v", "attached_pic"]
        ff(ffmpeg, "-f", "lavfi", "-i", "sine=d=2", "-i", str(cover), *streams, str(p))
    elif kind == "quoted-track-titles":  # two audio streams, one titled with double quotes and a tab
        p = folder / "titles.mkv"
        tags = ["-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra"]
        tags += ["-metadata:s:a:1", 'title=Le "Director"\tcut']
        streams = ["-map", "0:v", "-map", "0:a", "-map", "1:a", "-c:v", "copy", "-c:a", "aac"]
        ff(ffmpeg, "-i", str(base), "-f", "lavfi", "-i", "sine=f=300", "-shortest", *streams, *tags, str(p))
    elif kind == "subtitle-with-arrow":  # an embedded SubRip track whose text holds "-->"
        p = folder / "arrow.mkv"
        srt = folder / "arrow.srt"
        srt.write_text("1\n00:00:00,500 --> 00:00:01,500\nleft --> right, 5 < 6 & <i>so</i>\n")
        ff(ffmpeg, "-i", str(base), "-i", str(srt), "-map", "0", "-map", "1", "-c", "copy", "-c:s", "srt", str(p))
    elif kind == "no-audio":
        ff(ffmpeg, "-i", str(base), "-an", "-c", "copy", str(p))
    elif kind == "spaces in name":
        p = folder / "my holiday video.mp4"
        p.write_bytes(base.read_bytes())
    elif kind == "unicode-name":
        p = folder / "vidéo-東京-🎬.mp4"
        p.write_bytes(base.read_bytes())
    elif kind == "leading-dash":
        p = folder / "-dash.mp4"
        p.write_bytes(base.read_bytes())
    elif kind == "directory":
        p = folder / "a-folder.mp4"
        p.mkdir()
    elif kind == "missing":
        p = folder / "missing.mp4"
    else:
        raise ValueError(kind)
    return p
