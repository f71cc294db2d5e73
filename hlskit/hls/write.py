"""The one place that renders playlist text: VOD media playlists (RFC 8216 §4.3.3), I-frame
playlists (§4.3.3.6) and master playlists (§4.3.4).

Inputs are plain values; nothing here reads or writes files. EXT-X-KEY is written before the
first segment each key covers and again only when the key changes (§4.3.2.4: a key applies to
every segment until the next EXT-X-KEY), EXTINF with six decimals (§4.3.2.1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .master import VariantInfo

CONTENT_TYPE = "application/vnd.apple.mpegurl"  # RFC 8216 §4: the playlist media type


@dataclass(frozen=True)
class KeyTag:
    """One EXT-X-KEY (RFC 8216 §4.3.2.4). The default, METHOD=NONE, means clear segments."""

    method: str = "NONE"
    uri: str | None = None
    iv: bytes | None = None

    def line(self) -> str:
        if self.method == "NONE":
            return "#EXT-X-KEY:METHOD=NONE"
        attrs = [f"METHOD={self.method}", f'URI="{self.uri}"']
        if self.iv is not None:
            attrs.append(f"IV=0x{self.iv.hex()}")
        return "#EXT-X-KEY:" + ",".join(attrs)


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
        "#EXTM3U",
        f"#EXT-X-VERSION:{version}",
        f"#EXT-X-TARGETDURATION:{target_duration}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
    ]
    if iframes_only:
        lines.append("#EXT-X-I-FRAMES-ONLY")
    current = CLEAR
    if init is not None:
        if init.key != current:
            lines.append(init.key.line())
            current = init.key
        attrs = f'URI="{init.uri}"'
        if init.byterange is not None:
            attrs += f',BYTERANGE="{init.byterange[0]}@{init.byterange[1]}"'
        lines.append(f"#EXT-X-MAP:{attrs}")
    for e in entries:
        if e.key != current:
            lines.append(e.key.line())
            current = e.key
        lines.append(f"#EXTINF:{e.duration:.6f},")
        if e.byterange is not None:
            lines.append(f"#EXT-X-BYTERANGE:{e.byterange[0]}@{e.byterange[1]}")
        lines.append(e.uri)
    lines.append("#EXT-X-ENDLIST")
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
    return "#EXT-X-STREAM-INF:" + ",".join(attrs)


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
    return "#EXT-X-I-FRAME-STREAM-INF:" + ",".join(attrs) + f',URI="{v.iframe_uri}"'


def master_playlist(variants: list[VariantInfo], session_key: tuple[str, str] | None) -> str:
    """The master playlist, variants in the order given. Nothing in it needs more than protocol
    version 1 (the SESSION-KEY carries no IV; players take IVs from the media playlists), so
    there is no EXT-X-VERSION (RFC 8216 §7)."""
    lines = ["#EXTM3U", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if session_key:
        lines.append(f'#EXT-X-SESSION-KEY:METHOD={session_key[0]},URI="{session_key[1]}"')
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
    if any(line.startswith("#EXT-X-PLAYLIST-TYPE") for line in lines) or "#EXT-X-ENDLIST" not in lines:
        return None
    header = (
        "#EXTM3U",
        "#EXT-X-VERSION",
        "#EXT-X-TARGETDURATION",
        "#EXT-X-MEDIA-SEQUENCE",
        "#EXT-X-DISCONTINUITY-SEQUENCE",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        "#EXT-X-START",
    )
    at = 0
    while at < len(lines) and (not lines[at].strip() or lines[at].startswith(header)):
        at += 1
    return "\n".join(lines[:at] + ["#EXT-X-PLAYLIST-TYPE:VOD"] + lines[at:]) + "\n"
