"""Stitch finished definitions into master.m3u8 from measured figures (issue 3).

Per definition: sizes of every segment (Storage.size, no reads), BANDWIDTH = ceil(peak) with the
RFC window and AVERAGE-BANDWIDTH = ceil(average) (see measure.py), CODECS / RESOLUTION /
FRAME-RATE read from the first segment (decrypted), and an I-frame playlist from the head of each
segment (see iframes.py). Everything is computed before anything is written, so a failure leaves
the package as it was; each file is then written atomically (Storage.write_text).
"""
from __future__ import annotations

import json
import posixpath
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from ..domain.errors import InputError
from .crypto import decrypt_segment
from ..domain.manifest import MANIFEST, write_manifest
from ..storage import LocalStorage, Storage
from . import iframes as iframes_mod
from .codecs import MediaFacts, read_media_facts
from .measure import Measure, measure
from .playlist import MediaPlaylist, parse
from .source import Keys, KeyResolver, Source, in_parallel, require

MASTER = "master.m3u8"
START_BPS = 2_000_000      # Apple 1.32: the ~2 Mb/s rung is the default (first) variant
START_DEFINITION = "HD"

Progress = Callable[[str, float], None]   # (definition, percent), as hlskit.progress shows it


@dataclass
class VariantInfo:
    definition: str
    uri: str                    # relative to the master
    bandwidth: int
    average_bandwidth: int
    codecs: str
    resolution: str | None
    frame_rate: float | None
    segments: int
    duration: float
    bytes: int
    target_duration: int
    peak_wide: int              # draft/mediastreamvalidator window, for information
    key_uris: list[str] = field(default_factory=list)
    iframe_uri: str | None = None
    iframe_bandwidth: int | None = None
    iframe_average_bandwidth: int | None = None
    iframe_count: int = 0

    def stream_inf(self) -> str:
        attrs = [f"BANDWIDTH={self.bandwidth}", f"AVERAGE-BANDWIDTH={self.average_bandwidth}",
                 f'CODECS="{self.codecs}"']
        if self.resolution:
            attrs.append(f"RESOLUTION={self.resolution}")
        if self.frame_rate:
            attrs.append(f"FRAME-RATE={self.frame_rate:.3f}")
        return "#EXT-X-STREAM-INF:" + ",".join(attrs)

    def iframe_stream_inf(self) -> str:
        video_codec = self.codecs.split(",")[0]
        attrs = [f"BANDWIDTH={self.iframe_bandwidth}", f"AVERAGE-BANDWIDTH={self.iframe_average_bandwidth}",
                 f'CODECS="{video_codec}"']
        if self.resolution:
            attrs.append(f"RESOLUTION={self.resolution}")
        return "#EXT-X-I-FRAME-STREAM-INF:" + ",".join(attrs) + f',URI="{self.iframe_uri}"'

    def to_manifest(self) -> dict:
        return {
            "definition": self.definition, "uri": self.uri, "bandwidth": self.bandwidth,
            "average_bandwidth": self.average_bandwidth, "codecs": self.codecs,
            "resolution": self.resolution,
            "frame_rate": round(self.frame_rate, 3) if self.frame_rate else None,
            "segments": self.segments, "duration": round(self.duration, 6), "bytes": self.bytes,
            "iframe": {"uri": self.iframe_uri, "bandwidth": self.iframe_bandwidth,
                       "average_bandwidth": self.iframe_average_bandwidth} if self.iframe_uri else None,
        }


@dataclass
class MasterInfo:
    path: str                   # where master.m3u8 was written (storage path or file)
    variants: list[VariantInfo]  # in master order: start variant first
    session_key: str | None
    text: str

    def to_dict(self) -> dict:
        return {"path": self.path, "session_key": self.session_key,
                "variants": [asdict(v) for v in self.variants]}


@dataclass
class _Stitched:
    info: VariantInfo
    iframes_ref: str | None
    iframes_text: str | None
    key_method: str | None


def _iframes_name(playlist_ref: str) -> str:
    stem = posixpath.splitext(posixpath.basename(playlist_ref))[0]
    return "iframes.m3u8" if stem == "index" else f"{stem}-iframes.m3u8"


def _read_first_segment(source: Source, pl: MediaPlaylist, keys: Keys, name: str) -> tuple[MediaFacts, bytes]:
    seg = pl.segments[0]
    fix = "check the segment, or re-encode this definition with H.264 video and AAC audio in TS"
    try:
        data = source.read(seg.uri)
    except OSError as exc:
        raise InputError(f"CODECS of {name} cannot be read: its first segment {seg.uri} is missing ({exc.strerror or exc}): re-run the definition.") from None
    if seg.encrypted:
        key = keys.get(seg.key.uri)
        if key is None:
            why = keys.errors.get(seg.key.uri, "no key resolver was given")
            raise InputError(f"CODECS of {name} cannot be read: the key {seg.key.uri} for its first segment is unavailable ({why}): "
                             "stitch where the key store is, or pass the package's key resolver.")
        try:
            data = decrypt_segment(data, key, seg.iv)
        except ValueError:
            raise InputError(f"CODECS of {name} cannot be read: its first segment does not decrypt with the key from {seg.key.uri} "
                             "(wrong key or IV): repackage this definition.") from None
    try:
        return read_media_facts(data), data
    except ValueError as exc:
        raise InputError(f"CODECS of {name} cannot be read from {seg.uri} ({exc}): {fix}.") from None


def stitch_variant(source: Source, playlist_ref: str, name: str, master_dir: str, keys: Keys,
                   progress: Progress | None = None) -> _Stitched:
    """Measure one definition and build its I-frame playlist (nothing is written here)."""
    pl = parse(require(source, playlist_ref), playlist_ref)
    if not isinstance(pl, MediaPlaylist) or not pl.segments:
        raise InputError(f"{playlist_ref} ({name}) is not a media playlist with segments: pass the definition's index.m3u8.")
    if not pl.endlist:
        raise InputError(f"{playlist_ref} ({name}) has no EXT-X-ENDLIST, so the definition is not finished: wait for its job to end.")
    if not pl.target_duration:
        raise InputError(f"{playlist_ref} ({name}) has no EXT-X-TARGETDURATION: fix the media playlist.")
    def size(seg):
        if seg.byterange:
            return seg.byterange.length
        try:
            return source.size(seg.uri)
        except OSError:
            raise InputError(f"segment {seg.uri} of {name} is missing: re-run the definition.") from None

    sizes = in_parallel(size, pl.segments, threads=source.remote)
    figures: Measure = measure(sizes, [s.duration_us for s in pl.segments], pl.target_duration)
    facts, first = _read_first_segment(source, pl, keys, name)
    video = facts.video
    info = VariantInfo(
        definition=name, uri=posixpath.relpath(playlist_ref, master_dir or "."),
        bandwidth=figures.peak, average_bandwidth=figures.average, codecs=facts.codecs,
        resolution=video.resolution if video else None, frame_rate=video.frame_rate if video else None,
        segments=figures.segments, duration=figures.duration, bytes=figures.bytes,
        target_duration=pl.target_duration, peak_wide=figures.peak_wide,
        key_uris=[k.uri for k in pl.keys],
    )
    methods = {k.method for k in pl.keys}
    if video is None:
        return _Stitched(info, None, None, next(iter(methods), None))
    for k in pl.keys:
        keys.get(k.uri)  # resolve each key once, before the threads need it

    def iframe(item):
        i, seg = item
        key = keys.get(seg.key.uri) if seg.encrypted else None
        if seg.encrypted and key is None:
            return None  # unreadable: validate reports it; the I-frame playlist skips it
        if progress and i % 100 == 0:
            progress(name, 100 * i / len(pl.segments))
        return iframes_mod.first_iframe(source, seg, key, head=first if i == 0 and not seg.byterange else None)

    found = [f for f in in_parallel(iframe, enumerate(pl.segments), threads=source.remote) if f]
    if not found:
        return _Stitched(info, None, None, next(iter(methods), None))
    built = iframes_mod.build(found, pl.segments, sum(s.duration_us for s in pl.segments))
    iframes_ref = posixpath.join(posixpath.dirname(playlist_ref), _iframes_name(playlist_ref))
    info.iframe_uri = posixpath.relpath(iframes_ref, master_dir or ".")
    info.iframe_bandwidth = built.figures.peak
    info.iframe_average_bandwidth = built.figures.average
    info.iframe_count = built.count
    return _Stitched(info, iframes_ref, built.text, next(iter(methods), None))


def order_variants(variants: list[VariantInfo]) -> list[VariantInfo]:
    """Start variant first (HD when present, else the average nearest 2 Mb/s), then ascending BANDWIDTH."""
    if not variants:
        return []
    start = next((v for v in variants if v.definition == START_DEFINITION), None)
    if start is None:
        start = min(variants, key=lambda v: (abs(v.average_bandwidth - START_BPS), v.bandwidth))
    rest = sorted((v for v in variants if v is not start), key=lambda v: (v.bandwidth, v.definition))
    return [start] + rest


def master_text(variants: list[VariantInfo], session_key: tuple[str, str] | None) -> str:
    """The master playlist. Nothing in it needs more than version 1 (the SESSION-KEY carries no IV;
    players take IVs from the media playlists), so there is no EXT-X-VERSION, as in hls-rules §8."""
    lines = ["#EXTM3U", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if session_key:
        lines.append(f'#EXT-X-SESSION-KEY:METHOD={session_key[0]},URI="{session_key[1]}"')
    for v in variants:
        lines += [v.stream_inf(), v.uri]
    lines += [v.iframe_stream_inf() for v in variants if v.iframe_uri]
    return "\n".join(lines) + "\n"


def _stitch(source: Source, storage: Storage, items: list[tuple[str, str]], master_ref: str,
            keys: Keys, progress: Progress | None) -> tuple[MasterInfo, list[_Stitched]]:
    if not items:
        raise InputError(f"no finished definition to stitch for {master_ref}: wait for a job to succeed or check the folder.")
    master_dir = posixpath.dirname(master_ref)
    done = []
    for n, (name, ref) in enumerate(items):
        done.append(stitch_variant(source, ref, name, master_dir, keys, progress))
    variants = order_variants([d.info for d in done])
    uris = {tuple(d.info.key_uris) for d in done}
    session = None
    if len(uris) == 1 and len(next(iter(uris))) == 1:
        session = (done[0].key_method or "AES-128", next(iter(uris))[0])
    text = master_text(variants, session)
    for d in done:
        if d.iframes_ref:
            storage.write_text(d.iframes_ref, d.iframes_text, "application/vnd.apple.mpegurl")
    storage.write_text(master_ref, text, "application/vnd.apple.mpegurl")
    if progress:
        for name, _ in items:
            progress(name, 100.0)
    return MasterInfo(master_ref, variants, session[1] if session else None, text), done


def _finished_definitions(storage: Storage, prefix: str, manifest: dict | None) -> list[tuple[str, str]]:
    if manifest is not None:
        return [(d["name"], posixpath.join(prefix, d["playlist"])) for d in manifest.get("definitions", [])
                if d.get("state") == "TranscodeSuccess" and d.get("playlist")]
    found = []
    for path in storage.list(prefix or "."):
        rel = posixpath.relpath(path, prefix or ".")
        parts = rel.split("/")
        if len(parts) == 2 and parts[1] == "index.m3u8":
            found.append((parts[0], posixpath.join(prefix, rel)))
    return sorted(found)


def stitch_package(package_dir: str | Path, *, storage: Storage | None = None,
                   key_resolver: KeyResolver | None = None, progress: Progress | None = None) -> MasterInfo:
    """Write <DEF>/iframes.m3u8 and master.m3u8 for a package and record them in hlskit.json.

    With ``storage`` given, ``package_dir`` is the package's path inside it (e.g. an OSS prefix);
    otherwise it is a local folder. ``key_resolver(key_uri) -> 16 bytes`` decrypts first segments;
    by default keys come from the local key store.
    """
    if storage is None:
        if not Path(package_dir).is_dir():
            raise InputError(f"package folder {package_dir} does not exist: pass the out/<content-id> folder.")
        storage, prefix = LocalStorage(package_dir), ""
    else:
        prefix = str(package_dir).strip("/")
    if key_resolver is None:
        from ..config import load_settings
        from ..keys.resolve import local_key_resolver
        key_resolver = local_key_resolver(load_settings())
    manifest_ref = posixpath.join(prefix, MANIFEST)
    manifest = None
    if storage.exists(manifest_ref):
        try:
            manifest = json.loads(storage.read_text(manifest_ref))
        except ValueError:
            raise InputError(f"{manifest_ref} is not valid JSON: restore it or delete it to stitch from the folders.") from None
    items = _finished_definitions(storage, prefix, manifest)
    info, _ = _stitch(Source(storage), storage, items, posixpath.join(prefix, MASTER), Keys(key_resolver), progress)
    if manifest is not None:
        manifest["master"] = {
            "uri": MASTER, "stitched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "session_key": info.session_key, "variants": [v.to_manifest() for v in info.variants],
        }
        write_manifest(storage, prefix, manifest)
    return info


def stitch_playlists(playlists: list[str], output: str, *, key_resolver: KeyResolver | None = None,
                     progress: Progress | None = None) -> MasterInfo:
    """Stitch media playlists from anywhere on disk into ``output``; variant URIs are relative to it."""
    names: list[str] = []
    items = []
    for p in playlists:
        path = Path(p)
        if not path.is_file():
            raise InputError(f"playlist {p} does not exist: pass paths of media playlists (index.m3u8).")
        name = path.parent.name or path.stem
        if name in names:
            name = f"{name}-{path.stem}"
        names.append(name)
        items.append((name, path.resolve().as_posix()))
    storage = LocalStorage(".")
    info, _ = _stitch(Source(storage), storage, items, Path(output).resolve().as_posix(),
                      Keys(key_resolver), progress)
    return info
