"""Run each native client hlskit does not control on a URL and report what it showed.

Every runner returns :class:`Played`: the video frames the client decoded and handed to its
output, their sizes in order (a switch of variant shows as a new size), the last picture (luma),
whether it stopped by itself, and its error text. Frames are counted at the client's own video
output, never from its exit code:

- FFmpeg (Debian's, tests.tiers.debian_ffmpeg): ``-progress`` frame count;
- mpv: ``--vo=image``, one file per frame;
- VLC: its ``yuv`` video output writes YUV4MPEG2 to a FIFO (it reopens the file when the picture
  size changes, so a FIFO keeps every output in order); run as ``nobody`` when we are root, since
  the vlc binary refuses root;
- GStreamer: ``playbin3`` (hlsdemux2) into a ``fakesink`` that logs every buffer (``-v``).
"""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from tests.tiers import debian_ffmpeg, require_heavy

NOBODY = 65534


@dataclass
class Played:
    frames: int
    sizes: list[tuple[int, int]] = field(default_factory=list)  # each new picture size, in order
    last: bytes | None = None  # the last picture's luma plane
    ended: bool = True  # reached its end of stream and stopped by itself
    log: str = ""
    code: int | None = None  # exit status (negative: killed by that signal; None: timed out)

    @property
    def switched(self) -> bool:
        return len(set(self.sizes)) > 1


def need(command: str, package: str) -> str:
    """A system player (mpv, VLC, GStreamer) on PATH: for tests marked slow."""
    require_heavy("slow")
    path = shutil.which(command)
    assert path, f"{command} is missing: install Debian's {package} package (make test does)."
    return path


def _run(cmd: list[str], timeout: float, env: dict | None = None) -> tuple[subprocess.CompletedProcess | None, str]:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        return done, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"") + (exc.stderr or b"")
        return None, out.decode(errors="replace") if isinstance(out, bytes) else out


def read_y4m(data: bytes) -> tuple[list[tuple[int, int]], list[bytes]]:
    """(sizes, luma plane of every frame) of a YUV4MPEG2 stream, headers repeated at each new size."""
    at, sizes, lumas, w, h = 0, [], [], 0, 0
    while at < len(data):
        end = data.index(b"\n", at)
        line = data[at:end].split()
        if line[0] == b"YUV4MPEG2":
            w = int(next(x for x in line if x.startswith(b"W"))[1:])
            h = int(next(x for x in line if x.startswith(b"H"))[1:])
            sizes.append((w, h))
            at = end + 1
            continue
        assert line[0] == b"FRAME", f"not a YUV4MPEG2 frame at byte {at}"
        frame = data[end + 1 : end + 1 + w * h * 3 // 2]
        if len(frame) < w * h * 3 // 2:
            break  # cut off by the client's exit
        lumas.append(frame[: w * h])
        at = end + 1 + len(frame)
    return sizes, lumas


def differ(a: bytes, b: bytes) -> float:
    """Mean absolute difference of two pictures' luma, 0-255 (inf when their sizes differ)."""
    if len(a) != len(b):
        return float("inf")
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def reference_frames(url: str, ffmpeg: str) -> list[bytes]:
    """The luma plane of every frame of a variant, decoded by FFmpeg."""
    done = subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-nostdin",
            "-i",
            url,
            "-map",
            "0:v:0",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "yuv4mpegpipe",
            "-",
        ],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return read_y4m(done.stdout)[1]


def nearest(picture: bytes, frames: list[bytes]) -> int:
    """The index of the frame ``picture`` looks most like."""
    return min(range(len(frames)), key=lambda i: differ(picture, frames[i]))


def ffmpeg(url: str, timeout: float = 60) -> Played:
    cmd = [debian_ffmpeg(), "-hide_banner", "-nostdin", "-v", "error", "-nostats", "-progress", "pipe:1"]
    done, log = _run([*cmd, "-i", url, "-map", "0:v:0", "-f", "null", "-"], timeout)
    frames = re.findall(r"^frame=(\d+)$", done.stdout if done else "", re.M)
    code = done.returncode if done else None
    return Played(
        int(frames[-1]) if frames else 0, ended=code == 0, log=log if done is None else done.stderr, code=code
    )


def mpv(url: str, timeout: float = 60) -> Played:
    with tempfile.TemporaryDirectory(prefix="mpv-") as out:
        cmd = [need("mpv", "mpv"), "--no-config", "--vo=image", "--vo-image-format=jpg", f"--vo-image-outdir={out}"]
        cmd += ["--ao=null", "--ao-null-untimed", "--untimed", "--framedrop=no", "--msg-level=all=warn", url]
        done, log = _run(cmd, timeout)
        code = done.returncode if done else None
        return Played(len(os.listdir(out)), ended=code == 0, log=log, code=code)


def vlc(url: str, timeout: float = 60) -> Played:
    cvlc = need("cvlc", "vlc")
    work = Path(tempfile.mkdtemp(prefix="vlc-"))
    try:
        os.chmod(work, 0o755)
        home = work / "home"
        home.mkdir(mode=0o777)
        os.chmod(home, 0o777)
        fifo = work / "frames.y4m"
        os.mkfifo(fifo, 0o666)
        os.chmod(fifo, 0o666)
        fd = os.open(fifo, os.O_RDWR)  # read-write: no EOF when VLC closes it to reopen at a new size
        chunks: list[bytes] = []
        stop = threading.Event()

        def drain():
            while True:
                if select.select([fd], [], [], 0.2)[0]:
                    chunks.append(os.read(fd, 1 << 20))
                elif stop.is_set():
                    return

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        cmd = [cvlc, "--intf", "dummy", "--play-and-exit", "--no-dbus", "--no-media-library", "--avcodec-hw", "none"]
        cmd += ["--aout", "dummy"]
        cmd += [
            "--vout",
            "yuv",
            "--yuv-file",
            str(fifo),
            "--yuv-yuv4mpeg2",
            "--no-drop-late-frames",
            "--no-skip-frames",
        ]
        env = {**os.environ, "HOME": str(home)}
        if os.geteuid() == 0:  # "VLC is not supposed to be run as root"
            cmd = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *cmd]
        done, log = _run([*cmd, url], timeout, env)
        stop.set()  # the reader drains what VLC left in the FIFO, then returns
        reader.join(timeout=10)
        os.close(fd)
        sizes, lumas = read_y4m(b"".join(chunks))
        code = done.returncode if done else None
        return Played(len(lumas), sizes, lumas[-1] if lumas else None, ended=code == 0, log=log, code=code)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def gstreamer(url: str, timeout: float = 30) -> Played:
    """playbin3 as fast as it can (sync=false). --no-fault: a crash ends the process
    instead of gst-launch's "Spinning..." wait."""
    cmd = [need("gst-launch-1.0", "gstreamer1.0-tools"), "--no-fault", "-v", "playbin3", f"uri={url}"]
    cmd += ["video-sink=fakesink name=vsink sync=false silent=false", "audio-sink=fakesink sync=false"]
    done, log = _run(cmd, timeout)
    frames = len(re.findall(r"\(vsink:sink\) \(", log))
    sizes = []
    for w, h in re.findall(r"vsink\.GstPad:sink: caps = video/x-raw.*?width=\(int\)(\d+), height=\(int\)(\d+)", log):
        if not sizes or sizes[-1] != (int(w), int(h)):
            sizes.append((int(w), int(h)))
    code = done.returncode if done else None
    return Played(frames, sizes, ended=code == 0 and "Got EOS from element" in log, log=log, code=code)
