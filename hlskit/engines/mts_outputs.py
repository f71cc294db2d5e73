"""The SubmitJobs request of a plan: the ``Input``, one ``Outputs`` entry per job, the output bucket.

Field names are MPS's (SubmitJobs, and the parameter details of Output, Container, Video,
MuxConfig, Encryption, WaterMarks and Clip). Every definition is one HLS output (``Container``
"m3u8", TS segments, HLS-AES-128); with ``--mp4`` every download is one more output of its own
(``Container`` "mp4": MPS makes one output per job). Building touches no network: the engine
uploads local sources and watermark images first and passes their ``oss://`` URIs in.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ..aliyun.rpc import b64url
from ..domain.errors import InputError
from ..domain.ladder import Rung
from ..domain.names import DOWNLOADS, MP4_SUFFIX
from ..domain.options import watermark_text
from ..domain.plan import PackagePlan, Watermark
from ..domain.runs import Job, user_data
from ..storage.oss import split_oss_uri
from .mts_formats import VIDEO_CODEC, check_mts_plan, download_rung

MAX_USER_DATA = 1024  # bytes: MPS Output.UserData
MAX_SEGMENT = 10  # seconds: MuxConfig.Segment.Duration is [1, 10] in MPS's current API models
MIN_SIDE, MAX_SIDE = 128, 4096  # pixels: Video.Width and Video.Height
MIN_OFFSET = 8  # pixels: a watermark's Dx/Dy and a text mark's Left/Top are [8, 4096] as integers
FONT_SIZES = (4, 120)  # TextWaterMark.FontSize
# MPS Video.Bufsize is in Kb, within [1000, 128000].
MIN_BUFSIZE, MAX_BUFSIZE = 1000, 128000
# MPS static M3U8 presets S00000001-1000x0 (COPY, LD … 4K); their MP4 twins are S00000001-2000x0.
_M3U8_PRESET = re.compile(r"^S00000001-1(000[0-7]0)$")


@dataclass
class Submission:
    """What SubmitJobs is made of: the Input, the output entries and the jobs they belong to."""

    input: dict[str, str]
    output_bucket: str
    outputs: list[dict[str, Any]]
    jobs: list[Job]


def check_submission(plan: PackagePlan) -> None:
    """Every refusal that needs no network, before a source is uploaded or a request is sent."""
    check_mts_plan(plan)
    if plan.segment_duration > MAX_SEGMENT:
        raise InputError(
            f"MPS cuts segments of 1 to {MAX_SEGMENT} s (MuxConfig.Segment.Duration), not {plan.segment_duration}: "
            f"pass --segment-duration {MAX_SEGMENT} or less, or use the local engine."
        )
    for rung in [*plan.rungs, *(download_rung(plan, name) for name in plan.mp4_jobs)]:
        if not rung.definition.template_id:
            raise InputError(
                f"definition {rung.definition.name} has no MPS template id: add template_id to its rung in the ladder file."
            )
        if not rung.transmux and not all(MIN_SIDE <= side <= MAX_SIDE for side in (rung.width, rung.height)):
            raise InputError(
                f"definition {rung.name} is {rung.width}x{rung.height}, outside MPS's {MIN_SIDE} to {MAX_SIDE} pixels "
                "a side (Video.Width, Video.Height): leave it out of the ladder, or use the local engine."
            )


def mp4_template(template_id: str) -> str:
    """The MP4 template of a ladder rung: the static MP4 preset twin of a static M3U8 preset
    (S00000001-1000x0 → S00000001-2000x0; M3U8-COPY → MP4-COPY), else the rung's own template,
    whose container the output's ``Container`` overrides."""
    m = _M3U8_PRESET.match(template_id)
    return f"S00000001-2{m.group(1)}" if m else template_id


def oss_file(uri: str, location: str) -> dict[str, str]:
    """MPS's {Bucket, Location, Object} for an oss:// URI; the object key URL-encoded, as MPS asks."""
    bucket, key = split_oss_uri(uri)
    return {"Bucket": bucket, "Location": location, "Object": quote(key)}


def build_submission(
    plan: PackagePlan, source: str, marks: list[Watermark], location: str, crf: int | None = None
) -> Submission:
    """The Input and one Output per job: the definitions' HLS, then the MP4 downloads.

    ``source`` and image ``marks`` are oss:// URIs already; ``crf`` is the run's capped-CRF value
    (None: a target bit rate), which a rung's own CRF overrides. Sets each job's output and UserData.
    """
    check_submission(plan)
    out_bucket, out_prefix = split_oss_uri(plan.staging)
    outputs, jobs = [], []
    for rung in plan.rungs:
        job = plan.jobs[rung.name]
        job.output = f"oss://{out_bucket}/{out_prefix}/{rung.name}/index.m3u8"
        job.user_data = _user_data(plan, definition=rung.name)
        outputs.append(hls_output(plan, rung, job, marks, location, crf))
        jobs.append(job)
    for name, job in plan.mp4_jobs.items():
        rung = download_rung(plan, name)
        job.output = f"oss://{out_bucket}/{out_prefix}/{DOWNLOADS}/{name}{MP4_SUFFIX}"
        job.user_data = _user_data(plan, definition=name, container="mp4")
        outputs.append(mp4_output(plan, rung, job, marks, location, crf))
        jobs.append(job)
    return Submission(oss_file(source, location), out_bucket, outputs, jobs)


def _user_data(plan: PackagePlan, **values: str) -> str:
    text = user_data(**{**plan.user_data, "contentId": plan.content_id, **values})
    if len(text.encode()) > MAX_USER_DATA:
        raise InputError("the job's UserData exceeds MPS's 1024 bytes: shorten the user data.")
    return text


def hls_output(
    plan: PackagePlan, rung: Rung, job: Job, marks: list[Watermark], location: str, crf: int | None = None
) -> dict[str, Any]:
    """One definition as HLS: Container "m3u8" (TS segments), MuxConfig.Segment, HLS-AES-128. A
    transmuxed definition (SOURCE) is the M3U8-COPY preset with no Video overrides: MPS copies the
    source's streams; Encryption is documented for every m3u8 output (docs/alibaba-cloud.md)."""
    _, key = split_oss_uri(job.output)
    entry: dict[str, Any] = {
        "OutputObject": quote(key),
        "TemplateId": rung.definition.template_id,
        "Container": {"Format": "m3u8"},
        "MuxConfig": {"Segment": {"Duration": str(plan.segment_duration)}},
        "UserData": job.user_data,
    }
    if not rung.transmux:
        entry["Video"] = video(plan, rung, crf)
        # Never above the source's own rate or size, as the local planner caps it too (MPS TransConfig).
        entry["TransConfig"] = {"IsCheckReso": "true", "IsCheckVideoBitrate": "true"}
    if plan.schedule.encrypt:
        entry["Encryption"] = encryption(plan)
    _add_common(entry, plan, rung, marks, location)
    return entry


def mp4_output(
    plan: PackagePlan, rung: Rung, job: Job, marks: list[Watermark], location: str, crf: int | None = None
) -> dict[str, Any]:
    """One MP4 download: Container "mp4", the rung's MP4 template and the same Video overrides
    (Video.Codec "H.265" for an HEVC rung); a copied SOURCE is MP4-COPY with none (a copy template
    re-encodes nothing). No Encryption: MPS encrypts m3u8 outputs only
    (DataEncryption.ContainerFormatNotSupported), so the file is clear, as local downloads are."""
    _, key = split_oss_uri(job.output)
    entry: dict[str, Any] = {
        "OutputObject": quote(key),
        "TemplateId": mp4_template(rung.definition.template_id),
        "Container": {"Format": "mp4"},
        "UserData": job.user_data,
    }
    if not rung.transmux:
        entry["Video"] = video(plan, rung, crf)
    _add_common(entry, plan, rung, marks, location)
    return entry


def _add_common(entry: dict[str, Any], plan: PackagePlan, rung: Rung, marks: list[Watermark], location: str) -> None:
    if marks:
        entry["WaterMarks"] = [watermark(w, rung, location) for w in marks]
    if plan.clip is not None:
        span = {"Seek": f"{plan.clip.seek:.3f}"}
        if plan.clip.duration is not None:
            span["Duration"] = f"{plan.clip.duration:.3f}"
        entry["Clip"] = {"TimeSpan": span}


def video(plan: PackagePlan, rung: Rung, crf: int | None = None) -> dict[str, str]:
    """MPS Video overrides: codec, our ladder's size, a GOP of one segment, and the rate.

    The ladder decides the size (never upscale, even sizes) and the rate: Video.Bitrate (kb/s)
    overrides the template's, so a per-title ladder lowers it. With a CRF (the rung's own, else
    the run's capped-CRF value) Video.Crf sets constant quality, MPS then ignores Bitrate, and
    Video.Maxrate/Bufsize cap it at 1.5x/2x the rung's rate, as the local engine's VBV does.
    A fixed GOP of one segment keeps segment boundaries aligned across definitions.
    """
    kbps = rung.definition.video_kbps
    out = {
        "Codec": VIDEO_CODEC[rung.codec],
        "Width": str(rung.width),
        "Height": str(rung.height),
        "Gop": f"{plan.segment_duration}s",
    }
    quality = rung.crf if rung.crf is not None else crf
    if quality is None:
        out["Bitrate"] = str(kbps)
    else:
        bufsize = min(MAX_BUFSIZE, max(MIN_BUFSIZE, kbps * 2))
        out.update(Crf=str(quality), Maxrate=str(int(kbps * 1.5)), Bufsize=str(bufsize))
    return out


def encryption(plan: PackagePlan) -> dict[str, str]:
    """MPS Encryption: HLS-AES-128 with our data key (Base64 or KMS), URL-safe Base64 as MPS demands."""
    key = plan.key(0)
    enc = {"Type": "hls-aes-128", "KeyUri": b64url(key.uri(plan.key_url))}
    if key.kms_blob:
        enc.update(KeyType="KMS", Key=key.kms_blob)
    else:
        enc.update(KeyType="Base64", Key=b64url(key.key))
    if plan.schedule.clear_lead:
        enc["SkipCnt"] = str(plan.schedule.clear_lead)
    return enc


def watermark(w: Watermark, rung: Rung, location: str) -> dict[str, Any]:
    """MPS WaterMarks entry; Dx/Dy/Width stay fractions (< 1) so every definition scales alike."""
    entry: dict[str, Any] = {"ReferPos": w.refer_pos, "Dx": _offset(w.dx), "Dy": _offset(w.dy)}
    if w.kind == "image":
        entry.update(Type="Image", InputFile=oss_file(w.image, location), Width=_num(w.width))
        return entry
    size = w.width * rung.height if w.width < 1 else w.width
    left = w.dx * rung.width if w.dx < 1 else w.dx
    top = w.dy * rung.height if w.dy < 1 else w.dy
    entry.update(
        Type="Text",
        TextWaterMark={
            # standard Base64, as MPS's example "5rWL6K+V5paH5a2X5rC05Y2w" is (Encryption's fields are URL-safe)
            "Content": base64.b64encode(watermark_text(w, rung.name).encode()).decode(),
            "FontName": "SimSun",
            "FontSize": min(FONT_SIZES[1], max(FONT_SIZES[0], round(size))),
            "FontColor": "White",
            "FontAlpha": "1.0",
            "Left": str(max(MIN_OFFSET, round(left))),
            "Top": str(max(MIN_OFFSET, round(top))),
        },
    )
    return entry


def _offset(x: float) -> str:
    """Dx/Dy: a fraction of the picture, or pixels from MIN_OFFSET on (0 included: MPS's range starts there)."""
    return _num(x) if 0 < x < 1 else str(max(MIN_OFFSET, round(x)))


def _num(x: float) -> str:
    """MPS's int-or-ratio fields: pixels as integers, fractions with ≤ 4 decimals."""
    if x >= 1 or x == 0:
        return str(int(round(x)))
    return f"{x:.4f}".rstrip("0").rstrip(".")
