"""HLS rules: parse and write playlists, stitch master playlists from measured figures, and
validate any HLS stream."""

from ..domain.names import MASTER
from .master import MasterInfo, VariantInfo
from .source import KeyResolver
from .stitch import definitions_in, stitch, stitch_playlists, write_iframes, write_master
from .validate import Finding, Report, format_report, validate

__all__ = [
    "MASTER",
    "MasterInfo",
    "VariantInfo",
    "KeyResolver",
    "definitions_in",
    "stitch",
    "stitch_playlists",
    "write_iframes",
    "write_master",
    "Finding",
    "Report",
    "format_report",
    "validate",
]
