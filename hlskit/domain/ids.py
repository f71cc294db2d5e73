"""Identifiers: the one rule for a content id, for a key id, and for the characters of a URL.

A content id names a package everywhere: its folder under the output, key URIs, playback tokens,
the key route, the media route and the player route. One rule, used by all of them, so a package
that can be made can also be played. ``\\Z`` (not ``$``) anchors the end: ``$`` also matches
before a trailing newline.
"""

from __future__ import annotations

import re

from .errors import InputError

CONTENT_ID_RULE = "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
_CONTENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
# Key ids are made by hlskit (16 hex digits) or brought from another key store.
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")


_URI_TEXT = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+\Z")  # RFC 3986 §2: what a URI holds


def is_uri_text(text: str) -> bool:
    """Whether ``text`` is made of URI characters only: no space, double quote or control character,
    which would break the quoted URI of a playlist tag (RFC 8216 §4.2) or an HTTP request line."""
    return bool(_URI_TEXT.match(text))


def is_content_id(text: str) -> bool:
    return isinstance(text, str) and _CONTENT_ID.match(text) is not None


def is_key_id(text: str) -> bool:
    return isinstance(text, str) and _KEY_ID.match(text) is not None


def check_content_id(text: str) -> str:
    """``text`` when it is a valid content id, else InputError naming the rule."""
    if not is_content_id(text):
        raise InputError(f"content id {text!r} is not valid: use {CONTENT_ID_RULE}.", code="InvalidParameter.ContentId")
    return text
