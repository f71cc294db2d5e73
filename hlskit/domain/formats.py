"""Segment formats and video codecs: which combinations a package may use, and what each costs.

``ts`` is MPEG-2 TS, what MPS writes for HLS and what every HLS client reads. ``fmp4`` is
fragmented MP4 (CMAF-compatible, RFC 8216 §3.3): an init section per definition (EXT-X-MAP)
and ``.m4s`` segments, with less container overhead than TS. HEVC and AV1 are carried in fMP4
only: Apple's HLS authoring spec (1.5) requires fMP4 for HEVC, and AV1 has no TS mapping that
HLS players read.
"""

from __future__ import annotations

from dataclasses import replace

from .errors import InputError
from .ladder import Rung

FORMATS = ("ts", "fmp4")
CODECS = ("h264", "hevc", "av1")
FMP4_ONLY = ("hevc", "av1")

# A newer codec reaches H.264's picture at fewer bits. These factors are the usual planning
# figures (HEVC about 35% and AV1 about 45% below H.264 at equal quality); bench/package.py
# measures the bytes each codec really spends on the sample.
RATE_FACTOR = {"h264": 1.0, "hevc": 0.65, "av1": 0.55}


def parse_codecs(option: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """``"h264,hevc"`` (or a sequence) → ("h264", "hevc"): known names, no repeats, H.264 first."""
    names = option.split(",") if isinstance(option, str) else list(option)
    picked: list[str] = []
    for name in (n.strip().lower() for n in names if n.strip()):
        name = {"h.264": "h264", "avc": "h264", "h.265": "hevc", "h265": "hevc"}.get(name, name)
        if name not in CODECS:
            raise InputError(f"unknown codec {name!r} in --codec: use h264, hevc or av1 (several separated by commas).")
        if name not in picked:
            picked.append(name)
    if not picked:
        raise InputError("--codec is empty: use h264, hevc or av1 (several separated by commas).")
    return tuple(sorted(picked, key=CODECS.index))


def choose_format(option: str | None, codecs: tuple[str, ...]) -> str:
    """The segment format: as asked, else TS for H.264 alone (what every client and MPS read) and
    fMP4 as soon as a codec needs it."""
    if option is None or option == "auto":
        return "fmp4" if any(c in FMP4_ONLY for c in codecs) else "ts"
    fmt = option.strip().lower()
    if fmt not in FORMATS:
        raise InputError(f"--format must be ts or fmp4, got {option!r}: pick one of them.")
    needs = [c for c in codecs if c in FMP4_ONLY]
    if fmt == "ts" and needs:
        raise InputError(
            f"{needs[0].upper()} definitions are carried in fMP4 only (Apple HLS authoring spec 1.5): "
            "use --format fmp4, or drop it from --codec."
        )
    return fmt


def codec_rungs(rungs: list[Rung], codecs: tuple[str, ...]) -> list[Rung]:
    """One rung per definition per codec, H.264's first; a newer codec's rung spends fewer bits
    (:data:`RATE_FACTOR`) and is named ``<definition>-<codec>`` (``HD-hevc``)."""
    out: list[Rung] = []
    for codec in codecs:
        for rung in (r for r in rungs if not r.transmux):
            if codec == "h264":
                out.append(replace(rung, codec=codec))
                continue
            d = rung.definition
            kbps = max(10, round(d.video_kbps * RATE_FACTOR[codec]))
            # A per-title CRF is x264's scale (x265 and SVT-AV1 have their own): those rungs aim at a rate.
            out.append(replace(rung, definition=replace(d, video_kbps=kbps), codec=codec, crf=None))
    return out + [r for r in rungs if r.transmux]  # a copied source is itself, in its own codec
