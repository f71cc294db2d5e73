"""Keep playback tokens out of what is printed: URL query tokens and Bearer credentials are masked.

A validated URL often carries its grant (``?token=`` for hlskit's key service, ``MtsHlsUriToken=``
for MPS's HLS key URIs, signed-URL parameters of OSS and CDNs); the report names URLs in every
line, so every string that leaves the validator goes through :func:`mask`.
"""

from __future__ import annotations

import math
import re
from typing import Any

SECRET_PARAMS = (
    "token",
    "mtshlsuritoken",
    "access_token",
    "auth_key",
    "signature",
    "security-token",
    "x-oss-security-token",
    "x-oss-signature",
    "x-amz-signature",
    "x-amz-security-token",
)
_QUERY = re.compile(r"(?i)([?&;](?:" + "|".join(re.escape(p) for p in SECRET_PARAMS) + r")=)[^&#\s\"'<>)]*")
_BEARER = re.compile(r"(?i)(\bbearer\s+)[^\s\"',;)]+")
MASK = "…"


def mask(text: str) -> str:
    """``text`` with every token value replaced by an ellipsis (``token=…``, ``Bearer …``)."""
    return _BEARER.sub(lambda m: m.group(1) + MASK, _QUERY.sub(lambda m: m.group(1) + MASK, text))


def mask_all(value: Any) -> Any:
    """Masks every string in a JSON-like value; non-finite floats become None (JSON has no NaN)."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {mask_all(k): mask_all(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [mask_all(v) for v in value]
    return value
