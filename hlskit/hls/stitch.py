"""Stitch finished definitions into a master playlist from measured figures.

Per definition: sizes of every segment (Storage.size, no reads), BANDWIDTH = ceil(peak) with the
RFC 8216 §4.3.4.2 window and AVERAGE-BANDWIDTH = ceil(average) (see measure.py), CODECS /
RESOLUTION / FRAME-RATE read from the first segment (decrypted; for fMP4 with the init section of
its EXT-X-MAP, decrypted with the key that applies to the MAP), and an I-frame playlist from the
head of each segment (see iframes.py).

:func:`stitch` computes everything and writes nothing; the pipeline writes the I-frame
playlists, then master.m3u8 last (:mod:`hlskit.pipeline.master`), so the master's appearance is
what makes a package visible. It knows nothing of package manifests: the caller picks the
definitions and records
:meth:`MasterInfo.record` where it wants.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..domain.errors import InputError
from ..domain.names import MASTER, MEDIA_PLAYLIST, iframes_name
from ..storage import LocalStorage, Storage
from . import fmp4
from . import iframes as iframes_mod
from .codecs import MediaFacts, read_media_facts
from .crypto import decrypt_segment
from .fragments import read_init
from .groups import AUDIO, RenditionSource, audio_info, measure_subtitles, with_groups
from .master import START_DEFINITION, MasterInfo, VariantInfo, order_variants, session_key
from .measure import Measure, measure
from .playlist import MediaPlaylist, Segment, parse
from .source import KeyResolver, Keys, Source, in_parallel, plain_head, require
from .write import master_playlist

Progress = Callable[[str, float], None]  # (definition, percent)


@dataclass
class _Stitched:
    info: VariantInfo
    iframes: tuple[str, str] | None  # (ref, text) of its I-frame playlist
    key_method: str | None


# CEA-608/708 captions ride in H.264/HEVC SEI under this ATSC A/53 Part 4 user identifier; FFmpeg's
# x264 encoder passes a source's captions on (its a53cc option, on by default). First segment only.
CAPTIONS = b"GA94"
FIRST_WHOLE = 8 * 1024 * 1024  # larger first segments: their head (SPS, ADTS, frame rate) is enough


def _key_for(keys: Keys, key_uri: str | None, name: str, what: str) -> bytes:
    if key_uri is None:
        raise InputError(
            f"CODECS of {name} cannot be read: its {what} is encrypted but its EXT-X-KEY has no URI, which "
            "RFC 8216 §4.3.2.4 requires unless METHOD is NONE: repackage this definition."
        )
    if keys.resolver is None:
        raise InputError(
            f"CODECS of {name} cannot be read: its {what} is encrypted (key {key_uri}) "
            "and no key source was given: pass the package's key resolver."
        )
    key = keys.get(key_uri)
    if key is None:
        why = keys.errors.get(key_uri, "the key source does not know it")
        raise InputError(
            f"CODECS of {name} cannot be read: the key {key_uri} for its {what} is unavailable ({why}): "
            "stitch where the key store is, or pass the package's key resolver."
        )
    return key


# Top-level ISO BMFF boxes a CMAF header or segment starts with (ISO/IEC 23000-19 §7.3).
_FIRST_BOXES = frozenset({b"ftyp", b"styp", b"moov", b"moof", b"sidx", b"emsg", b"prft", b"free", b"skip"})


def _starts_like_media(plain: bytes) -> bool:
    """Whether decrypted bytes start as TS or ISO BMFF do. A wrong key still ends in valid PKCS#7
    padding about once in 256 tries, and its noise must not be reported as a damaged file."""
    ts = plain[:1] == b"\x47" and (len(plain) <= 188 or plain[188:189] == b"\x47")
    return ts or plain[4:8] in _FIRST_BOXES


def _undecryptable(name: str, what: str, key_uri: str | None) -> InputError:
    return InputError(
        f"CODECS of {name} cannot be read: its {what} does not decrypt with the key from {key_uri} "
        "(wrong key or IV): repackage this definition."
    )


def _read_init(source: Source, pl: MediaPlaylist, keys: Keys, name: str) -> tuple[bytes, fmp4.Init] | None:
    """The plain init section of the first segment's EXT-X-MAP and its tracks (fMP4), else None."""
    m = pl.segments[0].map
    if m is None:
        return None
    if len({s.map for s in pl.segments}) > 1:
        raise InputError(
            f"{name} has more than one EXT-X-MAP: hlskit stitches one initialization section per definition; "
            "repackage it with one."
        )
    cipher = m.cipher
    if cipher is not None and cipher.iv is None:
        raise InputError(
            f"the initialization section of {name} is encrypted but its EXT-X-KEY has no IV (RFC 8216 §4.3.2.5): "
            "repackage this definition with an explicit IV."
        )
    key = _key_for(keys, cipher.uri, name, "initialization section") if cipher is not None else None
    try:
        plain = read_init(source, m, key)
    except OSError as exc:
        raise InputError(
            f"CODECS of {name} cannot be read: its initialization section {m.uri} is missing "
            f"({exc.strerror or exc}): re-run the definition."
        ) from None
    except ValueError:
        raise _undecryptable(name, "initialization section", cipher.uri if cipher else None) from None
    try:
        return plain, fmp4.read_init(plain)
    except ValueError as exc:
        if cipher is not None and not _starts_like_media(plain):
            raise _undecryptable(name, "initialization section", cipher.uri) from None
        raise InputError(
            f"CODECS of {name} cannot be read from its initialization section {m.uri} ({exc}): "
            "check the file, or re-run the definition."
        ) from None


def _read_first_segment(
    source: Source, pl: MediaPlaylist, keys: Keys, name: str, size: int, init: bytes | None = None
) -> tuple[MediaFacts, bytes]:
    seg = pl.segments[0]
    if init is None:
        fix = "check the segment, or re-encode this definition with H.264 video and AAC audio in TS"
    else:
        fix = "check the segment, or re-encode this definition with H.264, HEVC or AV1 video and AAC audio"
    cipher = seg.cipher
    key = _key_for(keys, cipher.uri, name, "first segment") if cipher is not None else None
    try:
        if size > FIRST_WHOLE:  # its head holds SPS, ADTS and frames enough for the frame rate
            data = plain_head(source, seg, key, FIRST_WHOLE)
        else:
            data = source.read(seg.uri, seg.byterange.offset, size) if seg.byterange else source.read(seg.uri)
            data = decrypt_segment(data, key, seg.iv) if key is not None else data
    except OSError as exc:
        raise InputError(
            f"CODECS of {name} cannot be read: its first segment {seg.uri} is missing ({exc.strerror or exc}): re-run the definition."
        ) from None
    except ValueError:
        raise _undecryptable(name, "first segment", cipher.uri if cipher else None) from None
    try:
        return read_media_facts(data, init), data
    except ValueError as exc:
        if cipher is not None and not _starts_like_media(data):
            raise _undecryptable(name, "first segment", cipher.uri) from None
        raise InputError(f"CODECS of {name} cannot be read from {seg.uri} ({exc}): {fix}.") from None


def stitch_variant(
    source: Source, playlist_ref: str, name: str, master_dir: str, keys: Keys, progress: Progress | None = None
) -> _Stitched:
    """Measure one definition and build its I-frame playlist (nothing is written here)."""
    text = require(source, playlist_ref)
    if not text.startswith("#EXTM3U"):  # RFC 8216 §4.3.1.1: a playlist's first line
        raise InputError(f"{playlist_ref} ({name}) is not a playlist (no #EXTM3U first line): pass a media playlist.")
    pl = parse(text, playlist_ref)
    if not isinstance(pl, MediaPlaylist) or not pl.segments:
        raise InputError(
            f"{playlist_ref} ({name}) is not a media playlist with segments: pass the definition's index.m3u8."
        )
    if not pl.endlist:
        raise InputError(
            f"{playlist_ref} ({name}) has no EXT-X-ENDLIST, so the definition is not finished: wait for its job to end."
        )
    if not pl.target_duration:
        raise InputError(f"{playlist_ref} ({name}) has no EXT-X-TARGETDURATION: fix the media playlist.")
    key_uris = [k.uri for k in pl.keys if k.uri is not None]
    if len(key_uris) < len(pl.keys):
        raise InputError(
            f"{playlist_ref} ({name}) has an EXT-X-KEY with no URI, which RFC 8216 §4.3.2.4 requires unless "
            "METHOD is NONE: repackage this definition."
        )

    def size(seg: Segment) -> int:
        if seg.byterange:
            return seg.byterange.length
        try:
            return source.size(seg.uri)
        except OSError:
            raise InputError(f"segment {seg.uri} of {name} is missing: re-run the definition.") from None

    sizes = in_parallel(size, pl.segments, threads=source.remote)
    figures: Measure = measure(sizes, [s.duration_us for s in pl.segments], pl.target_duration)
    init = _read_init(source, pl, keys, name)
    facts, first = _read_first_segment(source, pl, keys, name, sizes[0], init[0] if init else None)
    video = facts.video
    info = VariantInfo(
        definition=name,
        uri=posixpath.relpath(playlist_ref, master_dir or "."),
        bandwidth=figures.peak,
        average_bandwidth=figures.average,
        codecs=facts.codecs,
        resolution=video.resolution if video else None,
        frame_rate=video.frame_rate if video else None,
        video_range=video.video_range if video else None,
        closed_captions=CAPTIONS in first,
        segments=figures.segments,
        duration=figures.duration,
        bytes=figures.bytes,
        target_duration=pl.target_duration,
        peak_wide=figures.peak_wide,
        key_uris=key_uris,
    )
    method = next(iter({k.method for k in pl.keys}), None)
    if video is None:
        return _Stitched(info, None, method)
    for k in pl.keys:
        keys.get(k.uri)  # resolve each key once, before the threads need it

    def iframe(item: tuple[int, Segment]) -> iframes_mod.IFrame | None:
        i, seg = item
        cipher = seg.cipher
        key = keys.get(cipher.uri) if cipher is not None else None
        if cipher is not None and key is None:
            return None  # unreadable: validate reports it; the I-frame playlist skips it
        if progress and i % 100 == 0:
            progress(name, 100 * i / len(pl.segments))
        head = first if i == 0 and not seg.byterange and sizes[0] <= FIRST_WHOLE else None
        if init is None:
            return iframes_mod.first_iframe(source, seg, key, head=head, size=sizes[i])
        try:
            return iframes_mod.first_iframe(source, seg, key, head=head, size=sizes[i], init=init[1])
        except (OSError, ValueError):
            return None  # unreadable or not fMP4: validate reports it; the I-frame playlist skips it

    found = [f for f in in_parallel(iframe, enumerate(pl.segments), threads=source.remote) if f]
    if not found:
        return _Stitched(info, None, method)
    built = iframes_mod.build(found, pl.segments, sum(s.duration_us for s in pl.segments), pl.segments[0].map)
    iframes_ref = posixpath.join(posixpath.dirname(playlist_ref), iframes_name(posixpath.basename(playlist_ref)))
    info.iframe_uri = posixpath.relpath(iframes_ref, master_dir or ".")
    info.iframe_bandwidth = built.figures.peak
    info.iframe_average_bandwidth = built.figures.average
    info.iframe_count = built.count
    return _Stitched(info, (iframes_ref, built.text), method)


def _stitch_at(
    source: Source,
    items: list[tuple[str, str]],
    master_ref: str,
    keys: Keys,
    progress: Progress | None,
    start: str = START_DEFINITION,
    renditions: Sequence[RenditionSource] = (),
) -> MasterInfo:
    if not items:
        raise InputError(
            f"no finished definition to stitch for {master_ref}: wait for a job to succeed or check the folder."
        )
    master_dir = posixpath.dirname(master_ref)
    done = [stitch_variant(source, ref, name, master_dir, keys, progress) for name, ref in items]
    measured = []
    for spec in renditions:
        if spec.type == AUDIO:
            audio = stitch_variant(source, spec.playlist, spec.name, master_dir, keys, progress)
            measured.append(audio_info(spec, master_dir, audio.info))
        else:
            measured.append(measure_subtitles(source, spec, master_dir))
    variants = order_variants(with_groups([d.info for d in done], measured), start)
    session = session_key([d.info for d in done], done[0].key_method)
    if progress:
        for name, _ in items:
            progress(name, 100.0)
    return MasterInfo(
        master_ref,
        variants,
        session[1] if session else None,
        master_playlist(variants, session, measured),
        dict(d.iframes for d in done if d.iframes),
        measured,
    )


def stitch(
    storage: Storage,
    prefix: str,
    items: list[tuple[str, str]],
    key_resolver: KeyResolver | None,
    progress: Progress | None = None,
    start: str = START_DEFINITION,
    renditions: Sequence[RenditionSource] = (),
) -> MasterInfo:
    """Measure ``items`` ((definition name, media playlist path in ``storage``)) and ``renditions``
    (audio and subtitle renditions, also paths in ``storage``) and return the master for
    ``<prefix>/master.m3u8`` with its I-frame playlists. Writes nothing (:mod:`hlskit.pipeline.master`
    does). ``start``: the first variant, a definition name or ``"lowest"`` (:func:`order_variants`).

    ``key_resolver(key_uri)`` gives the keys that decrypt first segments (CODECS, RESOLUTION and
    FRAME-RATE are read from the media); without one, an encrypted definition cannot be stitched.
    """
    prefix = prefix.rstrip("/")
    master_ref = posixpath.join(prefix, MASTER)
    return _stitch_at(Source(storage), items, master_ref, Keys(key_resolver), progress, start, renditions)


def definitions_in(storage: Storage, prefix: str) -> list[tuple[str, str]]:
    """(name, path) of every ``<prefix>/<DEF>/index.m3u8``, sorted: the definitions of a package
    folder when no manifest says which are finished."""
    prefix = prefix.rstrip("/")
    found = []
    for path in storage.list(prefix or "."):
        rel = posixpath.relpath(path, prefix or ".")
        parts = rel.split("/")
        if len(parts) == 2 and parts[1] == MEDIA_PLAYLIST:
            found.append((parts[0], posixpath.join(prefix, rel)))
    return sorted(found)


def stitch_files(
    playlists: list[str], output: str, key_resolver: KeyResolver | None = None, progress: Progress | None = None
) -> MasterInfo:
    """Stitch media playlists from anywhere on disk into the master that ``output`` would hold
    (I-frame playlists beside each media playlist); variant URIs are relative to ``output``."""
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
    return _stitch_at(Source(LocalStorage(".")), items, Path(output).resolve().as_posix(), Keys(key_resolver), progress)
