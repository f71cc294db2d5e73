"""The one place that renders playlist text: VOD media playlists (RFC 8216 §4.3.3), I-frame
playlists (§4.3.3.6) and master playlists (§4.3.4).

Inputs are plain values; nothing here reads or writes files. EXT-X-KEY is written before the
first segment each key covers and again only when the key changes (§4.3.2.4: a key applies to
every segment until the next EXT-X-KEY), EXTINF with six decimals (§4.3.2.1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from . import tags
from .master import RenditionInfo, VariantInfo, quoted_string

CONTENT_TYPE = "application/vnd.apple.mpegurl"  # RFC 8216 §4: the playlist media type


@dataclass(frozen=True)
class KeyTag:
    """One EXT-X-KEY (RFC 8216 §4.3.2.4). The default, METHOD=NONE, means clear segments."""

    method: str = "NONE"
    uri: str | None = None
    iv: bytes | None = None

    def line(self) -> str:
        if self.method == "NONE":
            return f"{tags.KEY}:METHOD=NONE"
        attrs = [f"METHOD={self.method}", f'URI="{self.uri}"']
        if self.iv is not None:
            attrs.append(f"IV=0x{self.iv.hex()}")
        return f"{tags.KEY}:" + ",".join(attrs)


CLEAR = KeyTag()


@dataclass(frozen=True)
class Entry:
    """One media segment (or, in an I-frame playlist, one I-frame range) as the playlist lists it."""

    uri: str
    duration: float  # seconds
    key: KeyTag = CLEAR
    byterange: tuple[int, int] | None = None  # (length, offset): EXT-X-BYTERANGE <n>@<o>, §4.3.2.2


def media_playlist(
    entries: Iterable[Entry],
    *,
    target_duration: int,
    version: int = 3,
    iframes_only: bool = False,
    init: Entry | None = None,
) -> str:
    """A finished VOD media playlist: EXT-X-PLAYLIST-TYPE:VOD, media sequence 0, EXT-X-ENDLIST.

    Segments before the first EXT-X-KEY are clear, so a leading METHOD=NONE is never written.
    ``init`` (fMP4): the initialization section, one EXT-X-MAP before the first segment
    (RFC 8216 §4.3.2.5; its ``duration`` is ignored). An encrypted one has its EXT-X-KEY, with
    the IV that §4.3.2.5 requires, written before the MAP, since a KEY applies to the MAPs after it.
    """
    lines = [
        tags.EXTM3U,
        f"{tags.VERSION}:{version}",
        f"{tags.TARGETDURATION}:{target_duration}",
        f"{tags.MEDIA_SEQUENCE}:0",
        f"{tags.PLAYLIST_TYPE}:VOD",
    ]
    if iframes_only:
        lines.append(tags.I_FRAMES_ONLY)
    current = CLEAR
    if init is not None:
        if init.key != current:
            lines.append(init.key.line())
            current = init.key
        attrs = f'URI="{init.uri}"'
        if init.byterange is not None:
            attrs += f',BYTERANGE="{init.byterange[0]}@{init.byterange[1]}"'
        lines.append(f"{tags.MAP}:{attrs}")
    for e in entries:
        if e.key != current:
            lines.append(e.key.line())
            current = e.key
        lines.append(f"{tags.EXTINF}:{e.duration:.6f},")
        if e.byterange is not None:
            lines.append(f"{tags.BYTERANGE}:{e.byterange[0]}@{e.byterange[1]}")
        lines.append(e.uri)
    lines.append(tags.ENDLIST)
    return "\n".join(lines) + "\n"


def stream_inf(v: VariantInfo, video_range: bool = False, no_captions: bool = False) -> str:
    """EXT-X-STREAM-INF (RFC 8216 §4.3.4.2) with what Apple's authoring spec asks of every video
    variant: AVERAGE-BANDWIDTH (9.14), CODECS (9.1), RESOLUTION (9.2), FRAME-RATE (9.15), with
    ``video_range`` (the master holds HDR video) VIDEO-RANGE (9.16), and with ``no_captions``
    CLOSED-CAPTIONS=NONE (§4.3.4.2: then on every EXT-X-STREAM-INF of the master)."""
    attrs = [f"BANDWIDTH={v.bandwidth}", f"AVERAGE-BANDWIDTH={v.average_bandwidth}", f'CODECS="{v.codecs}"']
    if v.resolution:
        attrs.append(f"RESOLUTION={v.resolution}")
    if v.frame_rate:
        attrs.append(f"FRAME-RATE={v.frame_rate:.3f}")
    if video_range and v.resolution:  # absent means SDR (draft-pantos-hls-rfc8216bis §4.4.6.2)
        attrs.append(f"VIDEO-RANGE={v.video_range or 'SDR'}")
    if no_captions:
        attrs.append("CLOSED-CAPTIONS=NONE")
    if v.audio_group:  # the GROUP-ID of its EXT-X-MEDIA renditions (RFC 8216 §4.3.4.2)
        attrs.append(f"AUDIO={quoted_string(v.audio_group, 'GROUP-ID')}")
    if v.subtitles_group:
        attrs.append(f"SUBTITLES={quoted_string(v.subtitles_group, 'GROUP-ID')}")
    return f"{tags.STREAM_INF}:" + ",".join(attrs)


def iframe_stream_inf(v: VariantInfo, video_range: bool = False) -> str:
    """EXT-X-I-FRAME-STREAM-INF (RFC 8216 §4.3.4.3): the video codec only, no FRAME-RATE."""
    video_codec = v.codecs.split(",")[0]
    attrs = [
        f"BANDWIDTH={v.iframe_bandwidth}",
        f"AVERAGE-BANDWIDTH={v.iframe_average_bandwidth}",
        f'CODECS="{video_codec}"',
    ]
    if v.resolution:
        attrs.append(f"RESOLUTION={v.resolution}")
    if video_range:
        attrs.append(f"VIDEO-RANGE={v.video_range or 'SDR'}")
    return f"{tags.I_FRAME_STREAM_INF}:" + ",".join(attrs) + f',URI="{v.iframe_uri}"'


def media_tag(r: RenditionInfo) -> str:
    """EXT-X-MEDIA (RFC 8216 §4.3.4.1). DEFAULT and AUTOSELECT are always written; FORCED only on
    SUBTITLES, where it may appear; LANGUAGE only when there is one (``und`` is None upstream)."""
    if r.type not in ("AUDIO", "VIDEO", "SUBTITLES"):
        raise ValueError(f"EXT-X-MEDIA TYPE {r.type!r} is not written by hlskit")
    attrs = [f"TYPE={r.type}", f"GROUP-ID={quoted_string(r.group, 'GROUP-ID')}"]
    if r.language:
        attrs.append(f"LANGUAGE={quoted_string(r.language, 'LANGUAGE')}")
    if r.assoc_language:
        attrs.append(f"ASSOC-LANGUAGE={quoted_string(r.assoc_language, 'ASSOC-LANGUAGE')}")
    attrs.append(f"NAME={quoted_string(r.name, 'NAME')}")
    attrs.append(f"DEFAULT={'YES' if r.default else 'NO'}")
    attrs.append(f"AUTOSELECT={'YES' if r.autoselect or r.default else 'NO'}")  # YES when DEFAULT is
    if r.type == "SUBTITLES" and r.forced:
        attrs.append("FORCED=YES")
    if r.characteristics:
        attrs.append(f"CHARACTERISTICS={quoted_string(r.characteristics, 'CHARACTERISTICS')}")
    if r.channels and r.type == "AUDIO":
        attrs.append(f"CHANNELS={quoted_string(r.channels, 'CHANNELS')}")
    attrs.append(f"URI={quoted_string(r.uri, 'URI')}")
    return f"{tags.MEDIA}:" + ",".join(attrs)


def _grouped(renditions: Iterable[RenditionInfo]) -> list[RenditionInfo]:
    """Audio groups first, then subtitles, each group together, in the order first given."""
    rank = {"AUDIO": 0, "VIDEO": 1, "SUBTITLES": 2}
    items = list(renditions)
    first: dict[tuple[str, str], int] = {}
    for i, r in enumerate(items):
        first.setdefault((r.type, r.group), i)
    return sorted(items, key=lambda r: (rank.get(r.type, 3), first[(r.type, r.group)]))


def master_playlist(
    variants: list[VariantInfo], session_key: tuple[str, str] | None, renditions: Iterable[RenditionInfo] = ()
) -> str:
    """The master playlist, renditions (EXT-X-MEDIA, grouped) before the variants, variants in
    the order given. Nothing in it needs more than protocol version 1 (the SESSION-KEY carries no
    IV; players take IVs from the media playlists; EXT-X-MEDIA is compatible with version 1,
    RFC 8216 §7), so there is no EXT-X-VERSION."""
    lines = [tags.EXTM3U, tags.INDEPENDENT_SEGMENTS]
    if session_key:
        lines.append(f'{tags.SESSION_KEY}:METHOD={session_key[0]},URI="{session_key[1]}"')
    lines += [media_tag(r) for r in _grouped(renditions)]
    # Apple HLS authoring spec 9.16: VIDEO-RANGE on every variant unless all the video is SDR.
    hdr = any(v.video_range in ("PQ", "HLG") for v in variants)
    # A master that does not say CLOSED-CAPTIONS=NONE makes Shaka Player fetch an fMP4 variant's
    # middle and last segments, looking for CEA-608/708, before it plays: ~9 s instead of ~3.5 s to
    # the first frame at 700 kb/s (bench/results/fast-start.md, docs/clients.md).
    no_captions = not any(v.closed_captions for v in variants)
    for v in variants:
        lines += [stream_inf(v, hdr, no_captions), v.uri]
    lines += [iframe_stream_inf(v, hdr) for v in variants if v.iframe_uri]
    return "\n".join(lines) + "\n"


def with_vod_type(text: str) -> str | None:
    """``text`` with ``#EXT-X-PLAYLIST-TYPE:VOD`` added after its header tags, or None when not needed.

    MPS writes finished (ENDLIST) media playlists without EXT-X-PLAYLIST-TYPE; Apple's HLS authoring
    spec (8.6) requires it for VOD. Only a playlist that ends with EXT-X-ENDLIST and has no
    PLAYLIST-TYPE is changed; the tag goes before the first media segment tag (RFC 8216 §4.3.3).
    """
    lines = text.splitlines()
    if any(line.startswith(tags.PLAYLIST_TYPE) for line in lines) or tags.ENDLIST not in lines:
        return None
    at = 0
    while at < len(lines) and (not lines[at].strip() or lines[at].startswith(tags.HEADER_TAGS)):
        at += 1
    return "\n".join(lines[:at] + [f"{tags.PLAYLIST_TYPE}:VOD"] + lines[at:]) + "\n"
