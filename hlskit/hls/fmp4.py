"""Just enough ISO BMFF (ISO/IEC 14496-12) to read fMP4 HLS: init sections and media segments.

One name for the three modules that do it: :mod:`hlskit.hls.bmff` (boxes and their sizes),
:mod:`hlskit.hls.fmp4_init` (the initialization section: ftyp + moov with mvex, RFC 8216 §3.3)
and :mod:`hlskit.hls.fmp4_segment` (the movie fragments of a media segment). All are pure
functions on bytes; what no player can read raises :class:`Invalid` (a ValueError) whose ``kind``
says which part of the format is broken.
"""

from __future__ import annotations

from .bmff import LEADING, Box, Fields, Invalid, Truncated, boxes, child, children, is_fmp4
from .fmp4_init import AUDIO_ENTRIES, VIDEO_ENTRIES, Init, Track, read_init
from .fmp4_segment import MAX_SAMPLES, NON_SYNC, Fragments, Run, Sample, Span, is_key, nal_types, read_segment

__all__ = [
    "AUDIO_ENTRIES",
    "LEADING",
    "MAX_SAMPLES",
    "NON_SYNC",
    "VIDEO_ENTRIES",
    "Box",
    "Fields",
    "Fragments",
    "Init",
    "Invalid",
    "Run",
    "Sample",
    "Span",
    "Track",
    "Truncated",
    "boxes",
    "child",
    "children",
    "is_fmp4",
    "is_key",
    "nal_types",
    "read_init",
    "read_segment",
]
