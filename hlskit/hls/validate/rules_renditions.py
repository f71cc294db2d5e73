"""The EXT-X-MEDIA rules of the catalogue (hlskit.hls.validate.rules): (id, severity, spec text).

Kept apart only for length; :data:`hlskit.hls.validate.rules.RULES` holds them with the others and
is the one place findings look them up. Checked in hlskit.hls.validate.renditions.
"""

from __future__ import annotations

RENDITION_RULES: list[tuple[str, str, str]] = [
    (
        "G1",
        "MUST",
        "RFC 8216 §4.3.4.1: EXT-X-MEDIA has TYPE (AUDIO, VIDEO, SUBTITLES or CLOSED-CAPTIONS), "
        "GROUP-ID and NAME; URI is REQUIRED for SUBTITLES and MUST NOT be present for "
        "CLOSED-CAPTIONS; INSTREAM-ID is REQUIRED for CLOSED-CAPTIONS and MUST NOT be specified otherwise.",
    ),
    (
        "G3",
        "MUST",
        "RFC 8216 §4.3.4.2: the AUDIO, VIDEO, SUBTITLES and CLOSED-CAPTIONS attributes of "
        "EXT-X-STREAM-INF MUST match the GROUP-ID of an EXT-X-MEDIA tag whose TYPE is that kind "
        "(CLOSED-CAPTIONS may be NONE).",
    ),
    (
        "G4",
        "MUST",
        "RFC 8216 §4.3.4.1.1: a Group of Renditions MUST NOT have more than one member with a "
        "DEFAULT attribute of YES.",
    ),
    (
        "G5",
        "MUST",
        "RFC 8216 §4.3.4.1: if the AUTOSELECT attribute is present, its value MUST be YES if the "
        "value of the DEFAULT attribute is YES.",
    ),
    (
        "G6",
        "MUST",
        "RFC 8216 §4.3.4.1: LANGUAGE and ASSOC-LANGUAGE are quoted-strings containing one of the "
        "language tags of RFC 5646 (well-formed: language[-script][-region][-variant]...).",
    ),
    (
        "G7",
        "MUST",
        "RFC 8216 §4.3.4.1.1: all EXT-X-MEDIA tags in the same Group MUST have different NAME attributes.",
    ),
    (
        "G8",
        "MUST",
        "RFC 8216 §4.3.4.1: the FORCED attribute MUST NOT be present unless the TYPE is SUBTITLES.",
    ),
    (
        "G9",
        "MUST",
        "RFC 8216 §3.5: subtitle segments are WebVTT files (W3C WebVTT: UTF-8 text starting with "
        "the WEBVTT signature), and an X-TIMESTAMP-MAP header has the form "
        "X-TIMESTAMP-MAP=LOCAL:<cue time>,MPEGTS:<90 kHz timestamp>.",
    ),
    (
        "G10",
        "SHOULD",
        "RFC 8216 §3.5: an X-TIMESTAMP-MAP SHOULD be added to each WebVTT header to synchronize "
        "cues with the audio and video; without one, cue time 0 maps to MPEG-2 timestamp 0, which "
        "does not match TS or fMP4 media that starts later.",
    ),
    (
        "G11",
        "MUST",
        "RFC 8216 §4.3.4.1.1 and §6.2.4: every rendition is an alternative of the same content, so "
        "each rendition covers the video's duration (to within one target duration).",
    ),
    (
        "G12",
        "MUST",
        "RFC 8216 §4.3.4.2 and Apple HLS authoring spec 9.1: CODECS lists every media format in any "
        "of the renditions of the variant stream, so it names the audio codec of its AUDIO group.",
    ),
    (
        "G13",
        "SHOULD",
        "RFC 8216 §4.3.4.1.1: each EXT-X-MEDIA tag with AUTOSELECT=YES SHOULD have a combination of "
        "LANGUAGE, ASSOC-LANGUAGE, FORCED and CHARACTERISTICS distinct from the other AUTOSELECT=YES "
        "members of its Group.",
    ),
]
