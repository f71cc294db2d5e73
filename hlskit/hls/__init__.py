"""HLS rules: parse and render playlists, stitch master playlists from measured figures, and
validate any HLS stream. Nothing here decides where files land: it reads through a Storage and
returns text."""

from .master import MasterInfo, VariantInfo
from .source import KeyResolver
from .stitch import definitions_in, stitch, stitch_files
from .validate import Finding, Report, format_report, validate

__all__ = [
    "MasterInfo",
    "VariantInfo",
    "KeyResolver",
    "definitions_in",
    "stitch",
    "stitch_files",
    "Finding",
    "Report",
    "format_report",
    "validate",
]
