"""What MPS can make of a package's formats and codecs, decided before anything is created.

MPS writes HLS as ``Container.Format`` "m3u8", which is MPEG-TS segments (it writes fMP4 only for
MPEG-DASH); its ``Video.Codec`` takes "H.264" or "H.265"; ``Container.Format`` "mp4" makes a
progressive MP4 file. HEVC in HLS must be carried in fMP4 (Apple HLS authoring spec 1.5), so on
MPS HEVC definitions can only be MP4 downloads (``--mp4``); AV1 it does not encode at all. Each
option MPS cannot express is refused in one sentence naming the fix.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..domain.errors import InputError
from ..domain.formats import CODECS, choose_format, codec_rungs, parse_codecs
from ..domain.ladder import Rung
from ..domain.plan import PackagePlan

# MPS Video.Codec values for our codec names (MPS parameter details, "Video").
VIDEO_CODEC = {"h264": "H.264", "hevc": "H.265"}
HLS_CODEC = "h264"  # the one codec for HLS in TS: Apple HLS authoring spec 1.5 carries HEVC in fMP4 only

FMP4_REFUSED = "MPS writes HLS as TS segments only: use --format ts, or the local engine for fMP4."
AV1_REFUSED = (
    "MPS does not encode AV1 (its Video.Codec takes H.264 or H.265): drop av1 from --codec, or use the local engine."
)
HEVC_HLS_REFUSED = (
    "HEVC in HLS needs fMP4 segments (Apple HLS authoring spec 1.5) and MPS writes TS only: "
    "add --mp4 to get the HEVC definitions as H.265 MP4 downloads, or use the local engine for HEVC HLS."
)
NO_H264_REFUSED = (
    "the mts engine makes HLS in H.264 only (HEVC only as MP4 downloads), so this --codec leaves no HLS "
    "definition: add h264 to --codec."
)


def check_mts_options(format: str | None, codecs: Sequence[str], mp4: bool) -> None:
    """Refuse, before anything is created, what MPS cannot make: fMP4, AV1, HEVC in HLS.

    ``format`` is ``--format`` ("ts", "fmp4" or None for the default), ``codecs`` the parsed
    ``--codec`` names, ``mp4`` whether ``--mp4`` asks for MP4 downloads.
    """
    if format is not None and format.strip().lower() == "fmp4":
        raise InputError(FMP4_REFUSED)
    choose_format(format, (HLS_CODEC,))  # an unknown --format value, in the planner's own sentence
    codecs = parse_codecs(tuple(codecs))  # an unknown codec likewise; "h.265" → "hevc"
    if "av1" in codecs:
        raise InputError(AV1_REFUSED)
    if "hevc" in codecs and not mp4:
        raise InputError(HEVC_HLS_REFUSED)
    if HLS_CODEC not in codecs:
        raise InputError(NO_H264_REFUSED)


def mts_rungs(rungs: list[Rung], codecs: Sequence[str], mp4: bool) -> tuple[list[Rung], list[Rung]]:
    """(HLS rungs, MP4 download rungs) for MPS, from the ladder's H.264 rungs.

    HLS gets the H.264 rungs only; with ``--mp4`` every definition of every codec asked becomes
    an MP4 download (``HD``, ``HD-hevc``, …), named as :func:`hlskit.domain.formats.codec_rungs`
    names them. The planner makes ``plan.jobs`` from the first list and ``plan.mp4_jobs`` from
    the second; the segment format is "ts".
    """
    hls = codec_rungs(rungs, (HLS_CODEC,))
    return hls, codec_rungs(rungs, tuple(codecs)) if mp4 else []


def download_rung(plan: PackagePlan, name: str) -> Rung:
    """The rung of the MP4 download ``name``: a rung of the plan, or an HEVC rung the HLS ladder
    lacks (on MPS HEVC is download-only), rebuilt from the H.264 rung of its definition the way
    the planner builds it (:func:`hlskit.domain.formats.codec_rungs`)."""
    for rung in plan.rungs:
        if rung.name == name:
            return rung
    definition, _, codec = name.rpartition("-")
    base = next((r for r in plan.rungs if r.codec == HLS_CODEC and r.definition.name == definition), None)
    if base is None or codec not in CODECS:
        raise InputError(f"MP4 download {name} names no definition of this package's ladder: plan the package again.")
    return codec_rungs([base], (codec,))[0]


def check_mts_plan(plan: PackagePlan) -> None:
    """:func:`check_mts_options` on a plan as made (the engine's own guard before any request)."""
    hls = {r.codec for r in plan.rungs}
    if hls - {HLS_CODEC}:  # a plan that puts HEVC (or AV1) into HLS, and so chose fMP4 for it
        raise InputError(AV1_REFUSED if "av1" in hls else HEVC_HLS_REFUSED)
    codecs = hls | {download_rung(plan, name).codec for name in plan.mp4_jobs}
    check_mts_options(plan.format, sorted(codecs, key=CODECS.index), bool(plan.mp4_jobs))
