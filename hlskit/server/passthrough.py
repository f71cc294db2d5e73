"""Token pass-through (like MPS's ``MtsHlsUriToken``): copy a playlist's token into the URIs
that need it, for players that cannot add headers (Safari's native HLS, VLC, ffplay, FFmpeg).

In a media playlist the key URIs (EXT-X-KEY, EXT-X-SESSION-KEY) get the token; in a master the
variant, rendition (EXT-X-MEDIA) and I-frame playlist URIs get it too, so the media playlists
they lead to are rewritten in turn. Segment URIs stay as they are: segments are public,
encrypted bytes, and leaving them alone keeps them cacheable.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..hls import tags

_URI_ATTR = re.compile(r'URI="([^"]*)"')
_TAGS_WITH_URI = tuple(f"{tag}:" for tag in (tags.KEY, tags.SESSION_KEY, tags.MEDIA, tags.I_FRAME_STREAM_INF))
_TOKEN_PARAMS = {"token", "MtsHlsUriToken"}


def with_token(uri: str, token: str, param: str = "token") -> str:
    """``uri`` with its token parameter set to ``token`` (other query parameters kept)."""
    parts = urlsplit(uri)
    if parts.scheme not in ("", "http", "https"):
        return uri  # data:, skd: and the like carry no HTTP query
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in _TOKEN_PARAMS]
    query.append((param, token))
    return urlunsplit(parts._replace(query=urlencode(query)))


def add_token(playlist: str, token: str, param: str = "token") -> str:
    """The playlist with ``token`` on its key URIs and (in a master) its playlist URIs."""
    out: list[str] = []
    variant_next = False
    for line in playlist.splitlines():
        stripped = line.strip()
        if stripped.startswith(_TAGS_WITH_URI):
            line = _URI_ATTR.sub(lambda m: f'URI="{with_token(m.group(1), token, param)}"', line, count=1)
        elif stripped.startswith(f"{tags.STREAM_INF}:"):
            variant_next = True
        elif variant_next and stripped and not stripped.startswith("#"):
            line = with_token(stripped, token, param)
            variant_next = False
        out.append(line)
    return "\n".join(out) + ("\n" if playlist.endswith("\n") else "")
