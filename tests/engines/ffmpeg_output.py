"""What FFmpeg's HLS muxer leaves in a definition's staging folder, written by hand: its playlist
and segment files (arbitrary bytes: the code under test never decodes them)."""

from __future__ import annotations

from pathlib import Path

from hlskit.engines.encode import FFMPEG_PLAYLIST


def segment_bytes(i: int) -> bytes:
    """Distinct, not block-aligned segment content (PKCS#7 must pad it)."""
    return bytes((i * 7 + n) % 256 for n in range(1000 + 37 * i))


def write_ffmpeg_output(
    folder: Path,
    durations: list[float],
    *,
    fmp4: bool = False,
    endlist: bool = True,
    empty: tuple[int, ...] = (),
    missing: tuple[int, ...] = (),
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".m4s" if fmp4 else ".ts"
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{7 if fmp4 else 3}",
        f"#EXT-X-TARGETDURATION:{round(max(durations, default=1))}",
    ]
    lines += ["#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD"]
    if fmp4:
        lines.append('#EXT-X-MAP:URI="init.mp4"')
        (folder / "init.mp4").write_bytes(b"\x00\x00\x00\x18ftypiso5" + b"\x00" * 40)
    for i, d in enumerate(durations):
        name = f"seg-{i:05d}{suffix}"
        lines += [f"#EXTINF:{d:.6f},", name]
        if i not in missing:
            (folder / name).write_bytes(b"" if i in empty else segment_bytes(i))
    if endlist:
        lines.append("#EXT-X-ENDLIST")
    path = folder / FFMPEG_PLAYLIST
    path.write_text("\n".join(lines) + "\n")
    return path
