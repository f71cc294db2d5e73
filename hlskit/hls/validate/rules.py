"""The one catalogue of validation rules: id -> severity and the public spec text it enforces.

Every finding (and every fault the playlist parser records) names a rule id from :data:`RULES`;
its severity and the text it enforces live here only. Ids are short and stable because reports,
the package manifest and scripts refer to them: ``AHS-<item>`` is an item of Apple's "HLS
authoring specification for Apple devices", ``3.1-<ATTR>`` and ``6.<n>`` are EXT-X-STREAM-INF
attribute and CODECS rules, the rest are letter+number ids grouped by topic (F format, V
version, T target duration, E EXTINF and segments, X EXT-X-MAP, FM fMP4 boxes, K/KF/IV/C keys and encryption, P
playlist type and end, ST/G/I/SK master tags, IF I-frame playlists, B bit rates).
"""

from __future__ import annotations

from dataclasses import dataclass

from .rules_renditions import RENDITION_RULES

MUST, SHOULD = "MUST", "SHOULD"


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str  # MUST | SHOULD
    spec: str  # what it enforces, and where that is written


_RULES = [
    # --- playlist file format ------------------------------------------------------------------
    Rule("F1", MUST, "RFC 8216 §4.1: a playlist is UTF-8 text and MUST NOT contain a byte order mark."),
    Rule(
        "F2",
        MUST,
        "RFC 8216 §4: a playlist served over HTTP is identified by its Content-Type, "
        "application/vnd.apple.mpegurl (or audio/mpegurl); Apple HLS authoring spec (serving): "
        "serve playlists as application/vnd.apple.mpegurl.",
    ),
    Rule(
        "F3",
        MUST,
        "RFC 8216 §3.2 and §3.3: each MPEG-2 TS media segment is a sequence of 188-byte TS packets "
        "(ISO/IEC 13818-1, sync byte 0x47); each fMP4 media segment is ISO BMFF boxes holding "
        "movie fragments (moof + mdat, ISO/IEC 14496-12 §8.8).",
    ),
    Rule(
        "F4",
        MUST,
        "RFC 8216 §4.2: an AttributeName contains only [A..Z], [0..9] and '-', and a given "
        "AttributeName MUST NOT appear more than once in an attribute list.",
    ),
    Rule(
        "F5",
        MUST,
        "RFC 8216 §4.2: attribute values have the type their attribute defines (quoted-string, "
        "enumerated-string never quoted, decimal-integer, decimal-floating-point, <n>[@<o>] byte range).",
    ),
    Rule(
        "F6",
        MUST,
        "RFC 8216 §4.3.3 and §4.3.4: media playlist tags MUST NOT appear in a master playlist and "
        "master playlist tags MUST NOT appear in a media playlist.",
    ),
    Rule(
        "F7",
        MUST,
        "RFC 8216 §4.3.1.2, §4.3.3, §4.3.5: EXT-X-VERSION, each media playlist tag and each "
        "media-or-master tag MUST NOT appear more than once in a playlist.",
    ),
    Rule("M1", MUST, "RFC 8216 §4.3.1.1: #EXTM3U MUST be the first line of every media and master playlist."),
    # --- protocol version ----------------------------------------------------------------------
    Rule(
        "V1",
        MUST,
        "RFC 8216 §4.3.1.2 and §7: a playlist that uses tags or attributes not compatible with "
        "protocol version 1 MUST carry an EXT-X-VERSION at least as high as they need.",
    ),
    Rule(
        "V2",
        SHOULD,
        "RFC 8216 §7: the version declared decides which clients may play the stream; declare "
        "the lowest version the playlist's features need.",
    ),
    # --- media playlists -----------------------------------------------------------------------
    Rule("T1", MUST, "RFC 8216 §4.3.3.1: EXT-X-TARGETDURATION (a decimal-integer) is REQUIRED in a media playlist."),
    Rule(
        "T2",
        MUST,
        "RFC 8216 §4.3.3.1: the EXTINF duration of each media segment, rounded to the nearest "
        "integer, MUST be less than or equal to the target duration.",
    ),
    Rule(
        "T4",
        MUST,
        "RFC 8216 §6.2.4: the variant streams of a presentation carry the same content, segmented "
        "alike; Apple's mediastreamvalidator rejects variants whose target durations differ.",
    ),
    Rule(
        "S1",
        MUST,
        "RFC 8216 §4.3.3.2: EXT-X-MEDIA-SEQUENCE (a decimal-integer) MUST appear before the first media segment.",
    ),
    Rule("E1", MUST, "RFC 8216 §4.3.2.1: #EXTINF:<duration>,[<title>] is REQUIRED for each media segment, once."),
    Rule(
        "E2",
        MUST,
        "RFC 8216 §3 and §4.3.2: a media playlist lists its media segments by URI, and each one "
        "must be retrievable for the presentation to play.",
    ),
    Rule(
        "E3",
        MUST,
        "RFC 8216 §4.3.2.1: EXTINF specifies the duration of the media segment; durations must be "
        "accurate enough that their sum does not drift from the media timestamps.",
    ),
    Rule(
        "E4",
        MUST,
        "RFC 8216 §3: each media segment continues the bitstream of the one before, timestamps "
        "uninterrupted; Apple HLS authoring spec 7.3: in fMP4 each fragment's tfdt "
        "(baseMediaDecodeTime) follows on from the end of the previous segment's samples.",
    ),
    Rule(
        "X1",
        MUST,
        "RFC 8216 §4.3.2.5 and §3.3: EXT-X-MAP has a URI naming the Media Initialization Section, "
        "which must be retrievable and, for fMP4, be an ISO BMFF ftyp + moov with mvex that "
        "describes the tracks of the segments.",
    ),
    Rule(
        "X2",
        MUST,
        "RFC 8216 §4.3.2.5: if the Media Initialization Section of an EXT-X-MAP is encrypted with "
        "METHOD=AES-128, the IV attribute of the EXT-X-KEY that applies to the EXT-X-MAP is REQUIRED.",
    ),
    # --- fMP4 boxes (init sections and media segments) ----------------------------------------
    Rule(
        "FM1",
        MUST,
        "RFC 8216 §3.3: an fMP4 segment or initialization section is ISO BMFF boxes; ISO/IEC 14496-12 "
        "§4.2: a box's size counts its header and contents (size 1: a 64-bit largesize follows) and every "
        "box lies within its container and within the file, so a truncated file or a wrong size hides what "
        "follows. Size 0 (to the end of the file) never ends where players append the init section and "
        "the segments into one stream (W3C ISO BMFF Byte Stream Format).",
    ),
    Rule(
        "FM2",
        MUST,
        "RFC 8216 §3.3: an fMP4 segment is a sequence of movie fragments, and the moov has a trak for "
        "every traf's track_ID; ISO/IEC 14496-12 §8.8.4-8.8.8 and ISO/IEC 23000-19 (CMAF) clause 7: "
        "each moof is followed by the mdat holding its samples, each traf has a tfhd and its samples "
        "in trun boxes whose size is what their sample_count and flags say.",
    ),
    Rule(
        "FM3",
        MUST,
        "RFC 8216 §3.3: every Track Fragment Box (traf) of an fMP4 segment contains a Track Fragment "
        "Base Media Decode Time Box (tfdt, ISO/IEC 14496-12 §8.8.12), as ISO/IEC 23000-19 (CMAF) "
        "requires; without it a player cannot place the samples on the timeline.",
    ),
    Rule(
        "FM4",
        MUST,
        "RFC 8216 §3.3 and ISO/IEC 14496-12 §8.8.8: a trun's data_offset and sample sizes locate its "
        "samples in the mdat box of its fragment (§8.1.1), so every sample starts and ends inside that "
        "mdat and no two track runs share bytes.",
    ),
    Rule(
        "FM5",
        MUST,
        "RFC 8216 §3.3: the initialization section describes the tracks of the segments; ISO/IEC "
        "14496-12 §8.4.2.3: the mdhd timescale is the number of time units in a second (never 0); "
        "§8.5.2: the stsd entry_count is the number of sample entries it holds, and each sample entry "
        "type names a registered codec (mp4ra.org); §8.8.3: the mvex has a trex for every track.",
    ),
    Rule(
        "FM6",
        MUST,
        "RFC 8216 §3.3 and RFC 6381: a decoder starts from the sample entry's configuration record, "
        "which must parse whole: avcC and hvcC (ISO/IEC 14496-15 §5.3.3.1, §8.3.3.1: parameter set "
        "arrays within the record, NAL units of their type, profile that of the SPS), av1C (AV1 ISOBMFF "
        "binding §2.3), esds (ISO/IEC 14496-1 §7.2.6.5, 14496-3 §1.6.2.1 AudioSpecificConfig).",
    ),
    Rule(
        "P2",
        MUST,
        "Apple HLS authoring spec 8.6: a VOD media playlist carries #EXT-X-PLAYLIST-TYPE:VOD (RFC 8216 "
        "§4.3.3.5 makes the tag optional; hlskit checks VOD packages to Apple's spec).",
    ),
    Rule(
        "P3",
        MUST,
        "RFC 8216 §4.3.3.4 and §6.3.4: EXT-X-ENDLIST says no more segments will be added; without "
        "it a client treats the playlist as live and keeps reloading it.",
    ),
    Rule(
        "P4",
        MUST,
        "RFC 8216 §6.2.4: each variant stream MUST present the same content, so every variant of "
        "a VOD presentation has the same EXT-X-PLAYLIST-TYPE.",
    ),
    Rule(
        "P6",
        MUST,
        "RFC 8216 §6.2.4: each variant stream MUST present the same content, so the variants cover "
        "the same duration (within one frame).",
    ),
    # --- keys and encryption -------------------------------------------------------------------
    Rule("K1", MUST, "RFC 8216 §4.3.2.4: METHOD is REQUIRED in EXT-X-KEY."),
    Rule("K2", MUST, "RFC 8216 §4.3.2.4: if the encryption method is NONE, other attributes MUST NOT be present."),
    Rule("K3", MUST, "RFC 8216 §4.3.2.4: URI is REQUIRED in EXT-X-KEY unless the METHOD is NONE."),
    Rule(
        "K4",
        MUST,
        "RFC 8216 §4.3.2.4: IV is a hexadecimal-sequence (0x followed by hex digits) that "
        "specifies a 128-bit unsigned integer.",
    ),
    Rule(
        "K5",
        SHOULD,
        "RFC 8216 §4.3.2.4: IV specifies a 128-bit integer; write all 32 hex digits so no client has to pad it.",
    ),
    Rule("KF1", MUST, "RFC 8216 §5.1: an AES-128 key file is the 16-octet key as a packed array in binary format."),
    Rule(
        "IV3",
        SHOULD,
        "RFC 8216 §5.2 and §4.3.2.4: without an IV attribute the media sequence number is the "
        "IV; an explicit IV in each EXT-X-KEY does not depend on segment numbering.",
    ),
    Rule(
        "C3",
        MUST,
        "RFC 8216 §4.3.2.4: AES-128 segments are encrypted with AES-128-CBC and PKCS7 padding, so "
        "their length is a whole number of 16-byte blocks.",
    ),
    Rule(
        "C4",
        MUST,
        "RFC 8216 §4.3.2.4 and §5.2: each AES-128 segment decrypts, with its key and IV, to valid "
        "PKCS7 padding and to the media format (MPEG-2 TS, or ISO BMFF boxes for fMP4 media "
        "segments and initialization sections, §4.3.2.5).",
    ),
    # --- master playlists ----------------------------------------------------------------------
    Rule(
        "ST1",
        MUST,
        "RFC 8216 §4.3.4.2: the URI line that follows EXT-X-STREAM-INF is REQUIRED and names a "
        "media playlist that must be readable; a master lists at least one variant.",
    ),
    Rule(
        "G2",
        MUST,
        "RFC 8216 §4.3.4.1: the URI of an EXT-X-MEDIA rendition identifies a media playlist that must be readable.",
    ),
    Rule(
        "I3",
        MUST,
        "Apple HLS authoring spec 9.12 and RFC 8216 §4.3.5.1: EXT-X-INDEPENDENT-SEGMENTS "
        "(every segment starts decodable) appears in the master or in every video media playlist.",
    ),
    Rule(
        "SK1",
        MUST,
        "RFC 8216 §4.3.4.5: the METHOD of EXT-X-SESSION-KEY MUST NOT be NONE, and METHOD, "
        "KEYFORMAT and KEYFORMATVERSIONS MUST match any EXT-X-KEY with the same URI.",
    ),
    Rule(
        "SK2",
        SHOULD,
        "RFC 8216 §4.3.4.5: EXT-X-SESSION-KEY lets a client preload keys without reading the "
        "media playlists first; use it when every variant shares the key.",
    ),
    Rule("3.1-BANDWIDTH", MUST, "RFC 8216 §4.3.4.2: every EXT-X-STREAM-INF tag MUST include the BANDWIDTH attribute."),
    Rule(
        "3.1-AVERAGE-BANDWIDTH",
        MUST,
        "RFC 8216 §4.3.4.2: AVERAGE-BANDWIDTH is the average segment bit rate "
        "and BANDWIDTH the peak, so the average cannot exceed BANDWIDTH.",
    ),
    Rule(
        "3.1-RESOLUTION",
        MUST,
        "RFC 8216 §4.3.4.2: RESOLUTION is the pixel resolution of the video in the "
        "variant (the display size after cropping).",
    ),
    Rule(
        "3.1-FRAME-RATE",
        MUST,
        "RFC 8216 §4.3.4.2: FRAME-RATE is the maximum frame rate of all the video in "
        "the variant, rounded to three decimal places.",
    ),
    Rule(
        "3.1-VIDEO-RANGE",
        MUST,
        "Apple HLS authoring spec 9.16: VIDEO-RANGE MUST be declared unless all the video is SDR; "
        "draft-pantos-hls-rfc8216bis §4.4.6.2: it is PQ for video with transfer characteristics 16 "
        "(SMPTE ST 2084), HLG for 18 (ARIB STD-B67), SDR otherwise, and absent means SDR.",
    ),
    Rule(
        "6.1",
        MUST,
        "RFC 8216 §4.3.4.2 and RFC 6381: CODECS names every media format in the variant, so the "
        "formats must be identifiable from the media (H.264 and AAC in MPEG-2 TS; H.264, HEVC, AV1 "
        "and AAC sample entries in fMP4 here).",
    ),
    Rule(
        "6.3",
        MUST,
        "RFC 8216 §4.3.4.2: each format in CODECS is a media sample type present in the variant, "
        "and every format present is listed.",
    ),
    Rule(
        "B2",
        SHOULD,
        "Apple HLS authoring spec 1.27: BANDWIDTH within 10% of the peak segment bit rate as "
        "Apple's mediastreamvalidator measures it (its window is wider than RFC 8216 §4.3.4.2's).",
    ),
    Rule(
        "B1",
        MUST,
        "RFC 8216 §4.3.4.2: BANDWIDTH is the peak segment bit rate of the variant stream: it MUST "
        "NOT be below the peak measured over any run of segments lasting 0.5 to 1.5 target durations.",
    ),
    Rule(
        "B4",
        SHOULD,
        "Apple HLS authoring spec 1.26 and 1.27: for VOD, the measured average and peak segment bit "
        "rates SHOULD be within 10% of AVERAGE-BANDWIDTH and BANDWIDTH (RFC 8216 §4.3.4.2 defines "
        "both; rendition audio counts toward the variant).",
    ),
    # --- I-frame playlists ---------------------------------------------------------------------
    Rule(
        "IF1",
        MUST,
        "RFC 8216 §4.3.4.3: EXT-X-I-FRAME-STREAM-INF has the REQUIRED BANDWIDTH and URI "
        "attributes, and the URI names a readable I-frame playlist.",
    ),
    Rule(
        "IF2",
        MUST,
        "RFC 8216 §4.3.3.6: an I-frame playlist carries EXT-X-I-FRAMES-ONLY and each of its "
        "segments (a byte range) is a single decodable I-frame.",
    ),
    Rule(
        "IF3",
        MUST,
        "Apple HLS authoring spec 9.1 and 9.2, RFC 8216 §4.3.4.3: EXT-X-I-FRAME-STREAM-INF "
        "includes CODECS and RESOLUTION.",
    ),
    Rule(
        "IF4",
        MUST,
        "Apple HLS authoring spec 6.9 and 1.27: the BANDWIDTH of an I-frame playlist is within 10% "
        "of its measured peak bit rate.",
    ),
    Rule(
        "IF5",
        SHOULD,
        "RFC 8216 §4.3.2.4 and §4.3.2.2: AES-128-CBC decrypts whole 16-byte blocks, so a byte range "
        "of an encrypted resource ends on a block boundary (or at the end of the resource) for "
        "every player to decode it without reading past the range.",
    ),
    # --- Apple HLS authoring specification items -----------------------------------------------
    Rule(
        "AHS-1.28",
        SHOULD,
        "Apple HLS authoring spec 1.28: for VOD, the peak bit rate SHOULD be no more than "
        "200% of the average bit rate.",
    ),
    Rule(
        "AHS-6.1",
        MUST,
        "Apple HLS authoring spec 6.1: I-frame playlists (EXT-X-I-FRAME-STREAM-INF) MUST be "
        "provided for trick play (scrubbing and scanning).",
    ),
    Rule("AHS-7.4", MUST, "Apple HLS authoring spec 7.4: each video segment MUST start with an IDR frame."),
    Rule(
        "AHS-8.22",
        SHOULD,
        "Apple HLS authoring spec 8.22: segment boundaries SHOULD be aligned across "
        "variants (same EXTINF list, same first timestamps) so switching lands on an IDR.",
    ),
    Rule("AHS-9.1", MUST, "Apple HLS authoring spec 9.1: every EXT-X-STREAM-INF tag MUST include CODECS."),
    Rule("AHS-9.2", MUST, "Apple HLS authoring spec 9.2: EXT-X-STREAM-INF of a video variant MUST include RESOLUTION."),
    Rule(
        "AHS-9.9",
        SHOULD,
        "Apple HLS authoring spec 9.9: provide several bit rates of video (a ladder of variants); "
        "advice, as a small source can fit one rung only.",
    ),
    Rule(
        "AHS-9.11",
        SHOULD,
        "Apple HLS authoring spec 9.11: EXT-X-INDEPENDENT-SEGMENTS SHOULD be in the master "
        "playlist when every video segment starts with a key frame.",
    ),
    Rule("AHS-9.14", MUST, "Apple HLS authoring spec 9.14: every EXT-X-STREAM-INF tag MUST include AVERAGE-BANDWIDTH."),
    Rule(
        "AHS-9.15", MUST, "Apple HLS authoring spec 9.15: EXT-X-STREAM-INF of a video variant MUST include FRAME-RATE."
    ),
]

_RULES += [Rule(*r) for r in RENDITION_RULES]  # EXT-X-MEDIA rules: their own module, this one is long

RULES: dict[str, Rule] = {r.id: r for r in _RULES}
assert len(RULES) == len(_RULES), "duplicate rule id"


def rule(rule_id: str) -> Rule:
    """The catalogue entry; KeyError for an id that is not in the catalogue."""
    return RULES[rule_id]
