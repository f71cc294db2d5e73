"""What validation reads, and how: the playlist location, keys as a player fetches them, segment
sizes and heads through :class:`~hlskit.hls.source.Source`; and the context checks report into.

Segments are read sparingly: sizes by stat/HEAD; of each segment only the head (PAT, PMT, the
first frame; fMP4: the boxes up to the first video sample) and, when encrypted, the last two AES
blocks; the first segment whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...domain.errors import HlskitError, InputError
from ...storage import LocalStorage, Storage
from .. import fmp4, ts
from ..codecs import MediaFacts, read_media_facts
from ..fetch import Budget, HttpStatus, http_fetch
from ..model import ByteRange, Key
from ..playlist import MediaPlaylist, Segment
from ..source import KeyResolver, Keys, Source, plain_head
from .report import Report, VariantReport, finding

HEAD_READS = (8 * 1024, 64 * 1024, 1024 * 1024)
EXAMPLES = 3


@dataclass
class Context:
    """Where validation reads from (``source``, ``keys``) and where its findings go (``report``)."""

    source: Source
    keys: Keys
    report: Report
    # fMP4 init sections read so far, by (URI, byte range, key) of their EXT-X-MAP (validate.cmaf)
    inits: dict[tuple[str, ByteRange | None, Key | None], tuple[bytes, fmp4.Init] | None] = field(default_factory=dict)

    def add(self, rule: str, message: str, where: str) -> None:
        self.report.findings.append(finding(rule, message, where))

    def add_many(self, rule: str, what: str, items: list[str], where: str) -> None:
        """One finding for a fault repeated over segments: count and the first examples."""
        if items:
            shown = "; ".join(items[:EXAMPLES]) + (f"; ... ({len(items)} in all)" if len(items) > EXAMPLES else "")
            self.add(rule, f"{what}: {shown}", where)

    def note(self, text: str) -> None:
        self.report.notes.append(text)


def open_location(location: str, storage: Storage | None = None, budget: Budget | None = None) -> tuple[Source, str]:
    """A Source and the ref of the playlist: ``location`` inside ``storage`` when given, else an
    http(s) URL or a local path. oss:// locations need the caller's storage."""
    if storage is not None:
        return Source(storage, budget=budget), location
    if Source.is_url(location):
        return Source(budget=budget), location
    if location.startswith("oss://"):
        raise InputError(f"{location} is in OSS: open its bucket as a Storage and pass it with the object key.")
    return Source(LocalStorage("."), budget=budget), location  # Path(".") / "/abs/path" is "/abs/path"


KEY_CAP = 1024  # a key is 16 bytes; anything much longer is not a key and is not read further


def http_key_resolver(token: str | None = None, *, budget: Budget | None = None) -> KeyResolver:
    """Fetch the key URI as a player does, sending ``Authorization: Bearer <token>`` when given.
    Bounded like every other read (``budget``); the token never appears in what it raises."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    budget = budget or Budget()

    def resolve(uri: str) -> bytes:
        if not Source.is_url(uri):
            raise HlskitError(f"key URI {uri} is not http(s)")
        try:
            resp = http_fetch(uri, budget, headers=headers, cap=KEY_CAP)
        except HttpStatus as exc:
            hint = " (pass a playback token with --key-token)" if exc.status in (401, 403) and not token else ""
            raise HlskitError(f"key URI {uri} answered HTTP {exc.status}{hint}") from None
        except OSError as exc:
            raise HlskitError(f"key URI {uri} could not be fetched ({exc.strerror or type(exc).__name__})") from None
        return resp.body

    return resolve


def file_key_resolver(source: Source) -> KeyResolver:
    """Key URIs that are file paths (FFmpeg's ``-hls_key_info_file`` writes URI="enc.key" beside
    the playlist), read from the playlist's own storage: at most KEY_CAP bytes of a regular file.
    Only for playlists read from local or object storage, never for playlists fetched over HTTP."""

    def resolve(uri: str) -> bytes | None:
        if Source.is_url(uri) or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", uri):
            return None
        try:
            return source.read(uri, 0, KEY_CAP + 1)
        except OSError as exc:
            raise HlskitError(f"key file {uri} cannot be read ({exc.strerror or type(exc).__name__})") from None

    return resolve


def chain(*resolvers: KeyResolver | None) -> KeyResolver:
    """The first resolver that gives bytes wins; the last failure is what the caller sees."""
    active = [r for r in resolvers if r is not None]

    def resolve(uri: str) -> bytes | None:
        error: Exception | None = None
        for r in active:
            try:
                key = r(uri)
            except Exception as exc:  # noqa: BLE001 - try the next source
                error = exc
                continue
            if key is not None:
                return key
        if error is not None:
            raise error
        return None

    return resolve


def why(exc: BaseException) -> str:
    """Why a read failed, in a few words (no traceback, no request headers)."""
    return getattr(exc, "message", None) or getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def segment_sizes(ctx: Context, pl: MediaPlaylist, ref: str) -> list[int | None]:
    """Size of each segment (its byte range, else stat/HEAD); None, and an E2 finding, when missing.

    A byte range counts only when its resource can be had and the range lies inside it: the
    resource's size is looked up once per URI (RFC 8216 §4.3.2.2)."""
    sizes: list[int | None] = []
    missing = []
    resources: dict[str, int | str] = {}  # uri -> size, or why it cannot be had
    for s in pl.segments:
        if s.uri not in resources or not s.byterange:
            try:
                resources[s.uri] = ctx.source.size(s.uri)
            except Exception as exc:  # noqa: BLE001 - any failure to fetch is the finding
                resources[s.uri] = why(exc)
        got = resources[s.uri]
        if isinstance(got, str):
            sizes.append(None)
            missing.append(f"{s.raw_uri} ({got})")
        elif s.byterange and s.byterange.offset + s.byterange.length > got:
            sizes.append(None)
            missing.append(f"{s.raw_uri} @{s.byterange.offset}+{s.byterange.length} (past the end of its {got} bytes)")
        else:
            sizes.append(s.byterange.length if s.byterange else got)
        if not s.byterange:
            resources.pop(s.uri, None)  # whole segments are looked up once each anyway
    ctx.add_many("E2", "segments cannot be fetched", missing, ref)
    return sizes


def whole_segment(source: Source, seg: Segment) -> bytes:
    """The segment's bytes (its byte range when it has one), as stored."""
    if seg.byterange:
        return source.read(seg.uri, seg.byterange.offset, seg.byterange.length)
    return source.read(seg.uri)


def segment_head(source: Source, seg: Segment, key: bytes | None) -> tuple[bytes, ts.Program | None, ts.Pes | None]:
    """Plain head of a segment, grown until the first video PES shows its first slice."""
    data, program, pes = b"", None, None
    for length in HEAD_READS:
        data = plain_head(source, seg, key, length)
        program = ts.find_program(data)
        if program and program.video_pid is not None:
            starts = ts.pes_starts(data, program.video_pid)
            if starts:
                pes = ts.read_pes(data, program.video_pid, starts[0])
                if pes.complete or any(t in (1, 5) for t in ts.nal_types(pes.payload)):
                    break
        elif program and program.video_pid is None:
            break
        if len(data) < length:
            break
    return data, program, pes


def media_facts(ctx: Context, rep: VariantReport, data: bytes, init: bytes | None, ref: str) -> MediaFacts | None:
    """CODECS, RESOLUTION and FRAME-RATE from the first segment (after its init section, fMP4) into
    ``rep``; a 6.1 finding and None when they cannot be read."""
    try:
        facts = read_media_facts(data, init)
    except Exception as exc:  # noqa: BLE001 - hostile bytes may break the TS/SPS or box reader in any way
        what = "the init section and first segment" if init is not None else "the first segment"
        ctx.add("6.1", f"CODECS cannot be derived from {what} ({why(exc)})", ref)
        return None
    rep.codecs = facts.codecs
    if facts.video:
        rep.resolution, rep.frame_rate = facts.video.resolution, facts.video.frame_rate
    return facts
