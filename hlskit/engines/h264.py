"""H.264 level choice: the lowest level whose limits fit the picture, frame rate and bit rate.

Limits are from ITU-T H.264 Table A-1 (MaxFS in macroblocks, MaxMBPS in macroblocks/s, MaxBR for
High profile = 1.25 x the Main-profile figure, in kbit/s). Apple asks for no higher level than
needed (HLS authoring spec 1.11).
"""

from __future__ import annotations

import math

#  level, MaxFS, MaxMBPS, MaxBR(High, kbit/s)
_LEVELS = (
    ("2.1", 792, 19800, 5000),
    ("2.2", 1620, 20250, 5000),
    ("3.0", 1620, 40500, 12500),
    ("3.1", 3600, 108000, 17500),
    ("3.2", 5120, 216000, 25000),
    ("4.0", 8192, 245760, 25000),
    ("4.1", 8192, 245760, 62500),
    ("4.2", 8704, 522240, 62500),
    ("5.0", 22080, 589824, 168750),
    ("5.1", 36864, 983040, 300000),
    ("5.2", 36864, 2073600, 300000),
)


def level_for(width: int, height: int, fps: float, maxrate_kbps: int) -> str:
    mbs = math.ceil(width / 16) * math.ceil(height / 16)
    for level, max_fs, max_mbps, max_br in _LEVELS:
        # MaxFS also bounds each side: sqrt(8 * MaxFS) macroblocks
        side = math.sqrt(8 * max_fs)
        if (
            mbs <= max_fs
            and mbs * fps <= max_mbps
            and maxrate_kbps <= max_br
            and math.ceil(width / 16) <= side
            and math.ceil(height / 16) <= side
        ):
            return level
    return "5.2"
