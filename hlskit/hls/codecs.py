"""RFC 6381 CODECS strings, display size and frame rate read from the media itself (RFC 8216 §4.3.4.2).

MPEG-2 TS: ``avc1.PPCCLL`` comes from the SPS bytes (profile_idc, constraint flags, level_idc),
``mp4a.40.N`` from the ADTS header's object type. fMP4: from the init section's configuration
records (avcC, hvcC, av1C, esds; hlskit.hls.records), the frame rate from the first segment's
sample durations. Nothing is guessed from settings: when a string cannot be read,
:func:`read_media_facts` raises ValueError with the reason and the caller says what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import fmp4, ts
from .records import Bits as _Bits

_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


@dataclass(frozen=True)
class VideoFacts:
    codec: str  # avc1.PPCCLL
    profile_idc: int
    level_idc: int
    width: int  # display size: coded size minus the SPS cropping
    height: int
    frame_rate: float | None
    transfer: int | None = None  # ITU-T H.273 transfer characteristics, when the media says

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def video_range(self) -> str | None:
        """VIDEO-RANGE (draft-pantos-hls-rfc8216bis §4.4.6.2): PQ for transfer 16, HLG for 18,
        else SDR; None when the media does not say."""
        return None if self.transfer is None else {16: "PQ", 18: "HLG"}.get(self.transfer, "SDR")


@dataclass(frozen=True)
class AudioFacts:
    codec: str  # mp4a.40.<AOT>
    object_type: int
    sample_rate: int
    channels: int


@dataclass(frozen=True)
class MediaFacts:
    video: VideoFacts | None
    audio: AudioFacts | None

    @property
    def codecs(self) -> str:
        return ",".join(f.codec for f in (self.video, self.audio) if f)


def _rbsp(nal: bytes) -> bytes:
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


def avc_codec(sps: bytes) -> str:
    """``avc1.PPCCLL`` from the 3 bytes after the SPS NAL header (RFC 6381 §3.3)."""
    return f"avc1.{sps[1]:02x}{sps[2]:02x}{sps[3]:02x}"


def parse_sps(nal: bytes) -> VideoFacts:
    """Profile, level, display size and VUI frame rate of an H.264 SPS NAL unit (ITU-T H.264 7.3.2.1)."""
    b = _Bits(_rbsp(nal[1:]))
    profile, _, level = b.u(8), b.u(8), b.u(8)  # the constraint byte is read by codec_string()
    b.ue()  # seq_parameter_set_id
    chroma = 1
    separate = 0
    if profile in _HIGH_PROFILES:
        chroma = b.ue()
        if chroma == 3:
            separate = b.u(1)
        b.ue(), b.ue(), b.u(1)  # bit depths, qpprime_y_zero_transform_bypass
        if b.u(1):  # seq_scaling_matrix_present_flag
            for i in range(12 if chroma == 3 else 8):
                if b.u(1):
                    last = nxt = 8
                    for _ in range(16 if i < 6 else 64):
                        if nxt:
                            nxt = (last + b.se() + 256) % 256
                        last = nxt or last
    b.ue()  # log2_max_frame_num_minus4
    poc_type = b.ue()
    if poc_type == 0:
        b.ue()
    elif poc_type == 1:
        b.u(1), b.se(), b.se()
        for _ in range(b.ue()):
            b.se()
    b.ue(), b.u(1)  # max_num_ref_frames, gaps_in_frame_num_allowed
    width_mbs, height_units = b.ue() + 1, b.ue() + 1
    frame_mbs_only = b.u(1)
    if not frame_mbs_only:
        b.u(1)
    b.u(1)  # direct_8x8_inference
    crop = (b.ue(), b.ue(), b.ue(), b.ue()) if b.u(1) else (0, 0, 0, 0)
    chroma_type = 0 if separate else chroma
    sub_w, sub_h = {1: (2, 2), 2: (2, 1), 3: (1, 1)}.get(chroma_type, (1, 1))
    unit_x = 1 if chroma_type == 0 else sub_w
    unit_y = (1 if chroma_type == 0 else sub_h) * (2 - frame_mbs_only)
    width = width_mbs * 16 - unit_x * (crop[0] + crop[1])
    height = (2 - frame_mbs_only) * height_units * 16 - unit_y * (crop[2] + crop[3])
    return VideoFacts(avc_codec(nal), profile, level, width, height, _vui_frame_rate(b))


def _vui_frame_rate(b: _Bits) -> float | None:
    try:
        if not b.u(1):  # vui_parameters_present_flag
            return None
        if b.u(1) and b.u(8) == 255:  # aspect_ratio_info → Extended_SAR
            b.u(32)
        if b.u(1):
            b.u(1)
        if b.u(1):  # video_signal_type_present_flag
            b.u(4)
            if b.u(1):
                b.u(24)
        if b.u(1):
            b.ue(), b.ue()
        if not b.u(1):  # timing_info_present_flag
            return None
        units, scale = b.u(32), b.u(32)
    except (IndexError, ValueError):
        return None
    # One frame is two field ticks (H.264 E.2.1, with the usual frame-coded streams).
    return scale / (2 * units) if units else None


def parse_adts(es: bytes) -> AudioFacts:
    """AAC object type, sample rate and channels from the first ADTS header."""
    i = 0
    while i + 7 <= len(es):
        if es[i] == 0xFF and es[i + 1] & 0xF6 == 0xF0:
            aot = (es[i + 2] >> 6) + 1
            rate_index = (es[i + 2] >> 2) & 0xF
            channels = ((es[i + 2] & 1) << 2) | (es[i + 3] >> 6)
            rates = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)
            return AudioFacts(f"mp4a.40.{aot}", aot, rates[rate_index] if rate_index < 13 else 0, channels)
        i += 1
    raise ValueError("no ADTS header in the first AAC packet")


def frame_rate_from_pts(ptses: list[int]) -> float | None:
    """Frames per second from the spread of presentation times (B-frames reorder, so sort)."""
    if len(ptses) < 2:
        return None
    ptses = sorted(ptses)
    span = ptses[-1] - ptses[0]
    return (len(ptses) - 1) * 90000 / span if span > 0 else None


def read_media_facts(data: bytes, init: bytes | None = None) -> MediaFacts:
    """CODECS, display size and frame rate from the plain bytes of a segment.

    TS: ``data`` must hold at least PAT, PMT, the first video access unit and the first audio
    packet; the first segment read whole gives a frame rate from PTS too when the SPS has no
    timing info. fMP4: ``init`` is the plain initialization section (EXT-X-MAP) and ``data`` the
    first segment, read whole or at least through its first moof.
    """
    if init is not None:
        return fmp4_facts(fmp4.read_init(init), data)
    if not ts.synced(data[: ts.PACKET * 4]):
        raise ValueError("the segment is not MPEG-2 TS (no 0x47 sync bytes)")
    program = ts.find_program(data)
    if program is None:
        raise ValueError("no PAT/PMT in the segment")
    if program.unknown:
        raise ValueError(
            "stream type "
            + ", ".join(f"0x{t:02x}" for t in program.unknown)
            + " is not H.264 or AAC, so it cannot be named in CODECS"
        )
    video: VideoFacts | None = None
    audio: AudioFacts | None = None
    video_pid, audio_pid = program.video_pid, program.audio_pid
    if program.video_type is not None and video_pid is not None:
        if program.video_type != "h264":
            raise ValueError(f"video is {program.video_type}; hlskit reads H.264 only")
        sps = None
        for off in ts.pes_starts(data, video_pid):
            pes = ts.read_pes(data, video_pid, off)
            sps = next((n for n in ts.nal_units(pes.payload) if n[0] & 0x1F == ts.NAL_SPS), None)
            if sps is not None or off > 64 * 1024:
                break
        if sps is None or len(sps) < 4:
            raise ValueError("no H.264 SPS near the start of the segment")
        try:
            video = parse_sps(sps)
        except (IndexError, ValueError) as exc:
            raise ValueError(f"the H.264 SPS cannot be parsed ({exc})") from None
        # Presentation times are the truth; the SPS timing (an exact ratio) is kept when it agrees.
        measured = frame_rate_from_pts(ts.video_ptses(data, video_pid))
        if measured and not (video.frame_rate and abs(video.frame_rate - measured) < 0.005 * measured):
            video = VideoFacts(**{**video.__dict__, "frame_rate": measured})
    if program.audio_type is not None and audio_pid is not None:
        if program.audio_type != "aac":
            raise ValueError(f"audio is {program.audio_type}; hlskit reads AAC (ADTS) only")
        starts = ts.pes_starts(data, audio_pid)
        if not starts:
            raise ValueError("no audio packet in the segment")
        audio = parse_adts(ts.read_pes(data, audio_pid, starts[0]).payload)
    if video is None and audio is None:
        raise ValueError("the segment has neither H.264 video nor AAC audio")
    return MediaFacts(video, audio)


def fmp4_facts(init: fmp4.Init, data: bytes) -> MediaFacts:
    """MediaFacts of fMP4 media: CODECS from the init section's sample entries (video first),
    RESOLUTION from the video sample entry (the coded size after cropping, as from an SPS), and
    the frame rate from the first segment's video sample durations and the track timescale."""
    video = audio = None
    named = [t for t in init.tracks if t.handler in ("vide", "soun")]
    unnamed = [t.fourcc for t in named if t.codec is None]
    if unnamed:
        raise ValueError(
            f"sample entry {', '.join(unnamed)} is not H.264, HEVC, AV1 or AAC, so it cannot be named in CODECS"
        )
    v = init.video
    if v is not None and v.codec is not None:  # a codec: the sample entries were all named above
        frame_rate = None
        try:
            run = fmp4.read_segment(data, init, None).runs.get(v.track_id)
        except ValueError:
            run = None
        if run and run.duration and v.timescale:
            steps = set(run.durations[:-1]) or set(run.durations)  # the last may be cut short
            if len(steps) == 1 and 0 not in steps:  # constant: the exact ratio
                frame_rate = v.timescale / steps.pop()
            else:
                frame_rate = len(run.durations) * v.timescale / run.duration
        video = VideoFacts(v.codec, v.profile, v.level, v.width, v.height, frame_rate, v.transfer)
    a = init.audio
    if a is not None and a.codec is not None and a.audio is not None:
        audio = AudioFacts(a.codec, a.audio.object_type, a.audio.sample_rate, a.audio.channels)
    if video is None and audio is None:
        raise ValueError("the init section has neither a video nor an audio track")
    return MediaFacts(video, audio)
