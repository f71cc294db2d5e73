"""HLS: stitch master playlists from measured figures, and validate any HLS stream (issue 3)."""
from .master import MasterInfo, VariantInfo, stitch_package, stitch_playlists
from .validate import Finding, Report, validate

__all__ = ["MasterInfo", "VariantInfo", "stitch_package", "stitch_playlists", "Finding", "Report", "validate"]
