"""Quality of each definition against the source: VMAF, PSNR and SSIM with FFmpeg's libvmaf.

Each definition is decoded from its media playlist (decrypted here with the key when the segments
are encrypted, so no key server needs to run) and compared with the source the usual way: the
definition is scaled back up to the source's display size with bicubic interpolation (as Netflix's
VMAF guidance and libvmaf's documentation describe), the reference is read on the encode's clock
and gets the same frame rate cap the encoder used, and both then start at timestamp 0. libvmaf's
default model (vmaf_v0.6.1) scores 0-100; ``subsample`` scores every Nth frame for speed.
"""

from __future__ import annotations

import json
import posixpath
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..domain.errors import InputError, JobError
from ..domain.ladder import SOURCE
from ..domain.manifest import Manifest
from ..domain.media import MediaInfo
from ..engines.encode import output_rate, snap_first_frame
from ..engines.seekable import has_index
from ..hls.crypto import decrypt_segment
from ..hls.model import MasterPlaylist, MediaPlaylist
from ..hls.playlist import parse
from ..hls.source import KeyResolver, Source

MODEL = "vmaf_v0.6.1"  # libvmaf's default model: 1080p viewing on a TV-sized screen


@dataclass(frozen=True)
class DefinitionQuality:
    definition: str
    width: int | None
    height: int | None
    bandwidth: int | None  # declared BANDWIDTH of the variant, bits/s
    frames: int  # frames scored
    vmaf: float
    vmaf_min: float
    vmaf_harmonic: float
    psnr_y: float
    ssim: float


@dataclass
class QualityReport:
    source: str
    model: str
    subsample: int
    definitions: list[DefinitionQuality] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Variant:
    """One definition to score: its name, media playlist reference and declared figures."""

    definition: str
    playlist: str
    bandwidth: int | None = None
    resolution: tuple[int, int] | None = None


def variants_of(source: Source, ref: str) -> list[Variant]:
    """The variants of a master playlist, or the one media playlist ``ref`` is."""
    playlist = parse(source.text(ref), ref)
    if isinstance(playlist, MediaPlaylist):
        return [Variant(posixpath.basename(posixpath.dirname(ref)) or "media", ref)]
    assert isinstance(playlist, MasterPlaylist)
    out = []
    for n, v in enumerate(playlist.variants):
        name = posixpath.basename(posixpath.dirname(v.raw_uri)) or f"variant-{n + 1}"
        res = v.attrs.get("RESOLUTION", "")
        size = tuple(int(x) for x in res.lower().split("x")) if "x" in res.lower() else None
        out.append(Variant(name, v.uri, v.int("BANDWIDTH"), size))  # type: ignore[arg-type]
    return out


def decrypted_copy(source: Source, ref: str, keys: KeyResolver | None, into: Path) -> Path:
    """The definition's segments, decrypted and concatenated into one file FFmpeg reads whole: TS
    segments concatenate; fMP4 ones follow their init section (EXT-X-MAP, RFC 8216 §4.3.2.5) as one
    fragmented MP4. Returns the file (``into``, with the suffix of its format)."""
    playlist = parse(source.text(ref), ref)
    if not isinstance(playlist, MediaPlaylist) or not playlist.segments:
        raise InputError(f"{ref} is not a media playlist with segments: pass a package folder or its master.m3u8.")

    def plain(uri: str, byterange, key_tag, iv: bytes) -> bytes:
        data = source.read(uri, byterange.offset, byterange.length) if byterange else source.read(uri)
        if key_tag is None or not key_tag.encrypted:
            return data
        key = keys(key_tag.uri) if keys and key_tag.uri else None
        if not key:
            raise InputError(
                f"the key {key_tag.uri} of {ref} could not be had: "
                "score a package whose keys are in this key store, or pass --key-token."
            )
        return decrypt_segment(data, key, iv)

    into = into.with_suffix(".mp4" if playlist.segments[0].map else ".ts")
    current_map = None
    with into.open("wb") as out:
        for seg in playlist.segments:
            if seg.map is not None and seg.map != current_map:
                current_map = seg.map
                iv = seg.map.key.iv if seg.map.key and seg.map.key.iv else seg.iv  # §4.3.2.5: it has one
                out.write(plain(seg.map.uri, seg.map.byterange, seg.map.key, iv))
            out.write(plain(seg.uri, seg.byterange, seg.key, seg.iv))
    return into


def score(
    ffmpeg: str,
    distorted: Path,
    reference: str,
    media: MediaInfo,
    *,
    subsample: int = 1,
    clip: tuple[float, float | None] | None = None,
    threads: int = 0,
    copied: bool = False,
) -> dict:
    """libvmaf's pooled metrics for ``distorted`` against ``reference`` at the source's display size.
    ``copied``: ``distorted`` is the source's own video (transmuxed), its frames at their own times."""
    w, h = media.video.display_width, media.video.display_height
    rate = output_rate(media.video.frame_rate)
    fps = f"{rate.numerator}/{rate.denominator}"
    with tempfile.TemporaryDirectory(prefix="hlskit-vmaf-") as tmp:
        log = Path(tmp) / "vmaf.json"
        args = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-i", str(distorted)]
        # The reference on the encode's clock, its first slots filled as the encode's were: a first
        # frame after time 0 (a clip starting between frames, a video starting after its audio) falls
        # in a later slot, which FFmpeg's constant-rate output fills with it (start_time=0 does the
        # same), and the reference's audio is read as the encode read it, since FFmpeg counts a TS
        # read without its audio from the video's first frame. Compared from each one's first frame
        # instead, every frame met its neighbour: VMAF 31 for 94, 11 for 97 on a video 1.5 s late.
        # The package's frames go through the same fps filter: its timestamps, rounded to 90 kHz (TS)
        # or its track's timescale, fell just before the reference's exact 1001/24000 slots every
        # 4th frame at 23.976 fps, and libvmaf paired those with the frame before (VMAF 76.5 for 92).
        # A first picture less than a frame late is moved to the start, as the encode moved it.
        grid = f"fps={fps}" if copied else f"{snap_first_frame(rate)},fps={fps}:start_time=0"
        trim = ""
        if clip and has_index(media):
            args += ["-ss", f"{clip[0]:.3f}"] + (["-t", f"{clip[1]:.3f}"] if clip[1] else [])
        elif clip:  # -ss would land on the next keyframe (engines.seekable): decode from the start, exactly
            trim = f"trim=start={clip[0]:.3f}" + (f":duration={clip[1]:.3f}" if clip[1] else "")
            trim += f",setpts=PTS-{clip[0]:.3f}/TB,"  # on the clip's clock, as -ss puts the encode
        graph = (
            f"[0:v]fps={fps},scale={w}:{h}:flags=bicubic,setsar=1,setpts=PTS-STARTPTS,format=yuv420p[d];"
            f"[1:{media.video.index}]{trim}{grid},scale={w}:{h}:flags=bicubic,"
            "setsar=1,setpts=PTS-STARTPTS,format=yuv420p[r];"
            f"[d][r]libvmaf=model=version={MODEL}:n_subsample={subsample}:n_threads={threads}:"
            f"feature=name=psnr|name=float_ssim:log_fmt=json:log_path={log}:shortest=1[q]"
        )
        args += ["-i", reference, "-lavfi", graph, "-map", "[q]", "-map", "1:a?", "-f", "null", "-"]
        done = subprocess.run(args, capture_output=True, text=True)
        if done.returncode != 0 or not log.is_file():
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise JobError(
                f"FFmpeg could not score {distorted.name} against {reference} ({last}): "
                "check that the source is the one this package was made from."
            )
        data = json.loads(log.read_text())
    pooled = data["pooled_metrics"]
    return {
        "frames": len(data.get("frames", [])),
        "vmaf": pooled["vmaf"],
        "psnr_y": pooled["psnr_y"],
        "ssim": pooled["float_ssim"],
    }


def measure_quality(
    location: str,
    reference: str,
    media: MediaInfo,
    *,
    ffmpeg: str,
    keys: KeyResolver | None,
    subsample: int = 1,
    clip: tuple[float, float | None] | None = None,
    progress: Callable[[str, float], None] | None = None,
    source: Source | None = None,
) -> QualityReport:
    """Score every definition of the master (or the one media playlist) at ``location``."""
    if subsample < 1:
        raise InputError(f"--subsample must be 1 or more frames, got {subsample}.")
    source = source or Source()
    report = QualityReport(reference, MODEL, subsample)
    with tempfile.TemporaryDirectory(prefix="hlskit-quality-") as tmp:
        for v in variants_of(source, location):
            if progress:
                progress(v.definition, 0.0)
            plain = decrypted_copy(source, v.playlist, keys, Path(tmp) / f"{v.definition}.ts")
            copied = v.definition == SOURCE
            m = score(ffmpeg, plain, reference, media, subsample=subsample, clip=clip, copied=copied)
            plain.unlink()
            width, height = v.resolution if v.resolution else (None, None)
            report.definitions.append(
                DefinitionQuality(
                    v.definition,
                    width,
                    height,
                    v.bandwidth,
                    m["frames"],
                    round(m["vmaf"]["mean"], 3),
                    round(m["vmaf"]["min"], 3),
                    round(m["vmaf"]["harmonic_mean"], 3),
                    round(m["psnr_y"]["mean"], 3),
                    round(m["ssim"]["mean"], 5),
                )
            )
            if progress:
                progress(v.definition, 100.0)
    return report


def record_quality(manifest: Manifest, report: QualityReport) -> Manifest:
    """The manifest with the scores: a "quality" entry, and VMAF, PSNR-Y and SSIM on each definition scored."""
    by_name = {q.definition: q for q in report.definitions}
    for d in manifest.definitions:
        if d.name in by_name:
            q = by_name[d.name]
            d.vmaf, d.psnr_y, d.ssim = q.vmaf, q.psnr_y, q.ssim
    manifest.quality = report.to_dict()
    return manifest
