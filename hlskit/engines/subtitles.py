"""A source's own audio and subtitle streams, for renditions: what each one is (language tag, title,
the dispositions that set FORCED and CHARACTERISTICS), and a subtitle stream as WebVTT text.

Text subtitle streams (mov_text in MP4, subrip or ASS in MKV, WebVTT...) convert with FFmpeg's
WebVTT encoder and muxer (``-map 0:s:N -c:s webvtt -f webvtt -``); the text goes to the caller,
which reads it with hlskit.hls.webvtt and segments it along the video. Picture subtitles (PGS,
DVD, DVB bitmaps) have no text to convert: refused in one sentence with the fix.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import av
from av.stream import Disposition

from ..domain.errors import InputError, JobError
from .process import popen_tied

TEXT_SUB = 1 << 17  # AV_CODEC_PROP_TEXT_SUB (libavcodec/codec_desc.h): a subtitle codec that carries text
EXTRACT_SECONDS = 600


@dataclass(frozen=True)
class SourceTrack:
    """One audio or subtitle stream of a source, as its container describes it."""

    kind: str  # "audio" or "subtitle"
    index: int  # N of FFmpeg's 0:a:N / 0:s:N
    codec: str
    language: str | None  # the container's tag as written (ISO 639-2 in MP4 and MKV), or None
    title: str | None
    default: bool
    forced: bool  # FORCED=YES for a subtitle rendition (RFC 8216 §4.3.4.1)
    hearing_impaired: bool  # captions for the deaf and hard of hearing (hearing_impaired or captions)
    visual_impaired: bool  # audio description (visual_impaired or descriptions)
    channels: int | None = None  # audio only
    comment: bool = False  # a commentary (disposition "comment"): never chosen for a player by language
    text: bool = True  # subtitle only: converts to WebVTT (False for picture subtitles)


def _title(metadata: dict[str, str]) -> str | None:
    """The stream title: MKV writes ``title``, FFmpeg's MP4 demuxer reports the track name as ``name``."""
    found = {k.lower(): v for k, v in metadata.items()}
    return (found.get("title") or found.get("name") or "").strip() or None


def source_tracks(path: str | Path, *, name: str | None = None) -> list[SourceTrack]:
    """Every audio and subtitle stream of a local source, in stream order per kind."""
    shown = name or str(path)
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise InputError(f"{shown} is not a readable media file ({exc.strerror or exc}): give a video file.") from None
    out: list[SourceTrack] = []
    with container:
        for kind, streams in (("audio", container.streams.audio), ("subtitle", container.streams.subtitles)):
            for n, s in enumerate(streams):
                d = Disposition(int(s.disposition))
                cc = s.codec_context
                codec = cc.codec.name if cc is not None else "unknown"
                language = (s.metadata.get("language") or "").strip() or None
                out.append(
                    SourceTrack(
                        kind,
                        n,
                        codec,
                        language,
                        _title(dict(s.metadata)),
                        bool(d & Disposition.default),
                        bool(d & Disposition.forced),
                        bool(d & (Disposition.hearing_impaired | Disposition.captions)),
                        bool(d & (Disposition.visual_impaired | Disposition.descriptions)),
                        channels=getattr(cc, "channels", None) if kind == "audio" else None,
                        comment=bool(d & Disposition.comment),
                        text=kind != "subtitle" or bool(cc is not None and int(cc.codec.properties) & TEXT_SUB),
                    )
                )
    return out


def extract_args(ffmpeg: str, source: str, track: SourceTrack) -> list[str]:
    """FFmpeg arguments that write subtitle stream ``track`` of ``source`` to stdout as WebVTT. A WebVTT
    stream (Matroska's S_TEXT/WEBVTT) is copied: FFmpeg's WebVTT decoder and encoder would drop its cue
    settings, its voice, class and ruby tags, and undo its &lt; and &amp; escapes."""
    codec = "copy" if track.codec == "webvtt" else "webvtt"
    return [ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-i", source] + [
        *("-map", f"0:s:{track.index}", "-c:s", codec, "-f", "webvtt", "-"),
    ]


def extract_webvtt(
    ffmpeg: str, source: str | Path, track: SourceTrack, *, name: str | None = None, timeout: float = EXTRACT_SECONDS
) -> str:
    """Subtitle stream ``track`` of ``source`` as WebVTT text (FFmpeg's conversion). InputError for a
    picture subtitle; JobError, one sentence with FFmpeg's last line, when FFmpeg fails."""
    shown = name or str(source)
    where = f"subtitle stream 0:s:{track.index} ({track.codec}) of {shown}"
    if track.kind != "subtitle":
        raise ValueError(f"stream {track.index} is {track.kind}, not a subtitle stream")
    if not track.text:
        raise InputError(
            f"{where} holds pictures, not text, so it cannot become WebVTT: give the subtitles as an "
            "SRT or WebVTT file instead (OCR tools such as Subtitle Edit make one)."
        )
    proc = popen_tied(
        extract_args(ffmpeg, str(source), track),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise JobError(f"converting {where} to WebVTT took over {timeout:g} s: check the source file.") from None
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if proc.returncode != 0:
        last = next((ln for ln in reversed(err.decode(errors="replace").splitlines()) if ln.strip()), "no message")
        raise JobError(f"FFmpeg could not convert {where} to WebVTT ({last.strip()[:200]}): check the source file.")
    return out.decode("utf-8", errors="replace")
