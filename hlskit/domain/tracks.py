"""A title's other streams: audio renditions (one per language) and subtitle renditions.

When a title has more than one audio stream, or the caller adds audio or subtitle files, audio
leaves the definitions: each audio stream is encoded once into its own rendition
(``EXT-X-MEDIA:TYPE=AUDIO``) that every definition's variant names by group, and subtitles become
segmented WebVTT renditions (``TYPE=SUBTITLES``). Apple's HLS authoring spec asks for this
(separate audio renditions; subtitles in WebVTT); MPS builds the same with its AudioGroup and
SubtitleGroup. A plain single-audio title keeps its audio muxed into each definition, as before.
"""

from __future__ import annotations

from dataclasses import dataclass

AUDIO_GROUP = "audio"  # GROUP-ID of the one audio group (README "Choices": why one group)
SUBTITLES_GROUP = "subs"
AUDIO_DIR = "audio"  # out/<content-id>/audio/<slug>/
SUBTITLES_DIR = "subtitles"  # out/<content-id>/subtitles/<slug>/


@dataclass(frozen=True)
class AudioRendition:
    """One audio stream, encoded once for every definition to share."""

    slug: str  # its folder under audio/: the language tag ("en"), "en-2" for a second English, "und" without one
    input: str  # the file it comes from: the source, or an --audio file
    stream: int  # N of FFmpeg's <input>:a:N
    language: str | None  # RFC 5646 tag, or None (no LANGUAGE attribute)
    name: str  # NAME, unique within the group
    default: bool = False  # DEFAULT=YES: one per group
    characteristics: str | None = None  # e.g. public.accessibility.describes-video for audio description
    kbps: int = 128  # AAC rate
    commentary: bool = False  # the source flags it a commentary: AUTOSELECT=NO (pipeline.finish)

    @property
    def folder(self) -> str:
        return f"{AUDIO_DIR}/{self.slug}"

    @property
    def job_name(self) -> str:
        """The name its job carries in the job store (definitions are LD, SD…; this is audio/<slug>)."""
        return self.folder


@dataclass(frozen=True)
class SubtitleRendition:
    """One subtitle track, as WebVTT text checked at planning (cue times in the source's time)."""

    slug: str
    language: str | None
    name: str
    webvtt: str  # the whole track as WebVTT (hlskit.hls.webvtt.write_webvtt), segmented after the encode
    default: bool = False
    forced: bool = False  # FORCED=YES (RFC 8216 §4.3.4.1)
    characteristics: str | None = None  # e.g. transcribes-spoken-dialog,describes-music-and-sound (SDH)

    @property
    def folder(self) -> str:
        return f"{SUBTITLES_DIR}/{self.slug}"


def slugs(tags: list[str | None]) -> list[str]:
    """Folder names for renditions in these languages: the tag, "-2", "-3"… for repeats, "und" for none."""
    seen: dict[str, int] = {}
    out = []
    for tag in tags:
        base = (tag or "und").lower()
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return out
