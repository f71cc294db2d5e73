"""Seek-bar previews: one sprite sheet (JPEG) and a WebVTT thumbnails track per package.

Like MPS's sprite snapshots (SubmitSnapshotJob, ``SnapshotConfig.TileOut``: lines x columns of cells
in one JPG): one tile every ``interval`` seconds, laid out row by row. The track is the de-facto
format JW Player and the video.js thumbnail plugins read: WebVTT cues (W3C WebVTT, section 4) whose
payload is ``sprite.jpg#xywh=x,y,w,h``, a W3C Media Fragments URI spatial fragment (section 4.2)
naming the tile in pixels. The pictures come from one decode of the source (or the clip): the local
engine's encoding run writes the tiles as they come, an MJPEG stream (``thumb_filter``), and a short
run lays them out after it (``tile_args``); a sprite made apart (``sprite_args``) does both in one
run. ``fps`` keeps one frame per interval (``round=up``: the frame at each cue's start; FFmpeg's
default, ``near``, keeps the one just before the middle; ``start_time=0``: the first tile is the
first frame even when a clip's first frame falls after 0, where ``round=up`` would give it the next
interval's slot, past a short clip's end, and no tile at all), ``scale`` makes tiles 160 px wide in
the display aspect, ``tile`` lays them out. Both files go into the package's staging folder, so they
are published with it.
"""

from __future__ import annotations

import math
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from ..domain.names import SPRITE, THUMBNAILS
from ..domain.plan import PackagePlan
from .colour import hdr_kind, tone_map_chain
from .process import popen_tied

THUMB_STREAM = "thumbs.mjpeg"  # the encoding run's tiles, in a temporary folder until laid out
TILE_WIDTH = 160
MAX_TILES = 100
MIN_INTERVAL = 2  # seconds: about one tile per segment of a short package
COLUMNS = 10


@dataclass(frozen=True)
class Layout:
    interval: int  # seconds between tiles
    tiles: int
    columns: int
    rows: int
    width: int  # of one tile
    height: int

    @property
    def size(self) -> tuple[int, int]:
        """The sprite's pixel size."""
        return self.columns * self.width, self.rows * self.height


@dataclass(frozen=True)
class Thumbnails:
    sprite: str
    track: str
    layout: Layout

    def to_manifest(self) -> dict:
        width, height = self.layout.size
        return {"track": self.track, "sprite": self.sprite, **asdict(self.layout), "sprite_size": [width, height]}


def layout_for(duration: float, display_width: int, display_height: int) -> Layout:
    """One tile every ``interval`` whole seconds (at least 2 s, at most ``MAX_TILES`` tiles)."""
    interval = max(MIN_INTERVAL, math.ceil(duration / MAX_TILES))
    tiles = max(1, math.ceil(duration / interval - 1e-6))
    height = max(2, int(TILE_WIDTH * display_height / max(display_width, 1) / 2 + 0.5) * 2)
    columns = min(COLUMNS, tiles)
    return Layout(interval, tiles, columns, math.ceil(tiles / columns), TILE_WIDTH, height)


def thumb_filter(layout: Layout) -> str:
    """The filters that turn decoded pictures into the tiles: one frame per interval, tile-sized."""
    return f"fps=1/{layout.interval}:round=up:start_time=0,scale={layout.width}:{layout.height}:flags=bicubic,setsar=1"


def _tile(layout: Layout) -> str:
    return f"tile={layout.columns}x{layout.rows}"


def sprite_filter(layout: Layout) -> str:
    """The filters that turn decoded pictures into the sprite: the tiles, laid out."""
    return f"{thumb_filter(layout)},{_tile(layout)}"


def tile_args(ffmpeg: str, layout: Layout, thumbs: Path, out: Path) -> list[str]:
    """The run that lays the encoding run's tiles (an MJPEG stream) out into the sprite.

    The tiles are not laid out inside the encoding run: FFmpeg writes its first -progress report
    only once every output has begun, and a tile filter's output begins at the title's end, so
    progress, cancelling and the encryption of finished segments all waited for the whole encode."""
    return [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-f", "mjpeg", "-i", str(thumbs)] + [
        "-vf",
        _tile(layout),
        "-frames:v",
        "1",
        "-q:v",
        "5",
        str(out),
    ]


def sprite_layout(plan: PackagePlan, duration: float) -> Layout:
    """The sprite's tiles for ``duration`` s of the plan's source, in its display aspect."""
    assert plan.media is not None
    return layout_for(duration, plan.media.video.display_width, plan.media.video.display_height)


def finish_track(plan: PackagePlan, ffmpeg: str, thumbs: Path, layout: Layout, duration: float) -> dict | None:
    """The sprite laid out from the tiles the encoding run wrote to ``thumbs`` (:func:`tile_args`),
    and the thumbnails track beside it; None when the run wrote none or they cannot be laid out."""
    sprite = Path(plan.staging) / SPRITE
    if thumbs.is_file() and thumbs.stat().st_size:
        done = subprocess.run(tile_args(ffmpeg, layout, thumbs, sprite), capture_output=True, timeout=600)
        if done.returncode != 0:
            sprite.unlink(missing_ok=True)
    thumbs.unlink(missing_ok=True)
    if not sprite.is_file() or sprite.stat().st_size == 0:
        sprite.unlink(missing_ok=True)
        return None
    (Path(plan.staging) / THUMBNAILS).write_text(track_text(layout, duration), encoding="utf-8")
    return Thumbnails(SPRITE, THUMBNAILS, layout).to_manifest()


def _stamp(seconds: float) -> str:
    """A WebVTT timestamp, hh:mm:ss.ttt (WebVTT section 4.2.1)."""
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def track_text(layout: Layout, duration: float, sprite: str = SPRITE) -> str:
    """The WebVTT thumbnails track: cue i covers [i·interval, (i+1)·interval), the last ends with the video."""
    lines = ["WEBVTT", ""]
    for i in range(layout.tiles):
        start, end = i * layout.interval, min((i + 1) * layout.interval, duration)
        x, y = (i % layout.columns) * layout.width, (i // layout.columns) * layout.height
        lines += [f"{_stamp(start)} --> {_stamp(end)}", f"{sprite}#xywh={x},{y},{layout.width},{layout.height}", ""]
    return "\n".join(lines)


def sprite_args(ffmpeg: str, plan: PackagePlan, layout: Layout, out: Path) -> list[str]:
    media = plan.media
    assert media is not None
    args = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
    if plan.clip:  # the same part of the source the definitions show
        args += ["-ss", f"{plan.clip.seek:.3f}"]
        if plan.clip.duration:
            args += ["-t", f"{plan.clip.duration:.3f}"]
    if all(r.transmux for r in plan.rungs):
        # A copy decodes nothing else: decode the keyframes only (a tile shows the last keyframe
        # before its time), so the previews do not cost what the package saved.
        args += ["-skip_frame", "nokey"]
    tone = f"{tone_map_chain(media.video.color_transfer or '')}," if hdr_kind(media) else ""
    graph = tone + sprite_filter(layout)
    args += ["-i", plan.source, "-map", f"0:{media.video.index}", "-vf", graph]
    return args + ["-frames:v", "1", "-q:v", "5", str(out)]


def write_thumbnails(plan: PackagePlan, ffmpeg: str, duration: float, timeout: float = 600) -> Thumbnails:
    """Write ``sprite.jpg`` and ``thumbnails.vtt`` into the plan's staging folder.

    Raises RuntimeError with FFmpeg's reason (or OSError); callers treat either as a warning."""
    media = plan.media
    assert media is not None
    folder = Path(plan.staging)
    layout = layout_for(duration, media.video.display_width, media.video.display_height)
    sprite = folder / SPRITE
    proc = popen_tied(sprite_args(ffmpeg, plan, layout, sprite), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = proc.communicate(timeout=timeout)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if proc.returncode != 0 or not sprite.is_file() or sprite.stat().st_size == 0:
        sprite.unlink(missing_ok=True)
        lines = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
        raise RuntimeError(f"FFmpeg exited with code {proc.returncode}: " + (lines[-1] if lines else "no sprite"))
    (folder / THUMBNAILS).write_text(track_text(layout, duration), encoding="utf-8")
    return Thumbnails(SPRITE, THUMBNAILS, layout)


def add_thumbnails(plan: PackagePlan, ffmpeg: str, duration: float) -> tuple[dict | None, str | None]:
    """Thumbnails covering ``duration`` s (the longest definition as encoded) for encoded definitions:
    (their manifest entry, None), or (None, a warning sentence) when they could not be made. Never
    raises: a package without previews still plays."""
    if plan.media is None:
        return None, None
    try:
        return write_thumbnails(plan, ffmpeg, duration).to_manifest(), None
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        for name in (SPRITE, THUMBNAILS):
            (Path(plan.staging) / name).unlink(missing_ok=True)
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return None, f"no seek-bar thumbnails were made ({reason.rstrip('.')}): the package plays without them"
