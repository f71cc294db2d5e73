"""What validation reads, and how: the playlist location, keys as a player fetches them, segment
sizes and heads through :class:`~hlskit.hls.source.Source`; and the context checks report into.

Segments are read sparingly: sizes by stat/HEAD; of each segment only the head (PAT, PMT, the
first frame) and, when encrypted, the last two AES blocks; the first segment whole.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...domain.errors import HlskitError, InputError
from ...storage import LocalStorage, Storage
from .. import ts
from ..playlist import MediaPlaylist, Segment
from ..source import KeyResolver, Keys, Source, plain_head
from .report import Report, finding

HEAD_READS = (8 * 1024, 64 * 1024, 1024 * 1024)
EXAMPLES = 3


@dataclass
class Context:
    """Where validation reads from (``source``, ``keys``) and where its findings go (``report``)."""

    source: Source
    keys: Keys
    report: Report

    def add(self, rule: str, message: str, where: str) -> None:
        self.report.findings.append(finding(rule, message, where))

    def add_many(self, rule: str, what: str, items: list[str], where: str) -> None:
        """One finding for a fault repeated over segments: count and the first examples."""
        if items:
            shown = "; ".join(items[:EXAMPLES]) + (f"; ... ({len(items)} in all)" if len(items) > EXAMPLES else "")
            self.add(rule, f"{what}: {shown}", where)

    def note(self, text: str) -> None:
        self.report.notes.append(text)


def open_location(location: str, storage: Storage | None = None) -> tuple[Source, str]:
    """A Source and the ref of the playlist: ``location`` inside ``storage`` when given, else an
    http(s) URL or a local path. oss:// locations need the caller's storage."""
    if storage is not None:
        return Source(storage), location
    if Source.is_url(location):
        return Source(), location
    if location.startswith("oss://"):
        raise InputError(f"{location} is in OSS: open its bucket as a Storage and pass it with the object key.")
    return Source(LocalStorage(".")), location  # Path(".") / "/abs/path" is "/abs/path"


def http_key_resolver(token: str | None = None, *, timeout: float = 10.0) -> KeyResolver:
    """Fetch the key URI as a player does, sending ``Authorization: Bearer <token>`` when given."""
    import requests

    session = requests.Session()
    if token:
        session.headers["Authorization"] = f"Bearer {token}"

    def resolve(uri: str) -> bytes:
        if not uri.startswith(("http://", "https://")):
            raise HlskitError(f"key URI {uri} is not http(s)")
        try:
            resp = session.get(uri, timeout=timeout)
        except requests.RequestException as exc:
            raise HlskitError(f"key URI {uri} could not be fetched ({type(exc).__name__})") from None
        if resp.status_code != 200:
            hint = " (pass a playback token with --key-token)" if resp.status_code in (401, 403) and not token else ""
            raise HlskitError(f"key URI {uri} answered HTTP {resp.status_code}{hint}")
        return resp.content

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


def segment_sizes(ctx: Context, pl: MediaPlaylist, ref: str) -> list[int | None]:
    """Size of each segment (its byte range, else stat/HEAD); None, and an E2 finding, when missing."""
    sizes: list[int | None] = []
    missing = []
    for s in pl.segments:
        if s.byterange:
            sizes.append(s.byterange.length)
            continue
        try:
            sizes.append(ctx.source.size(s.uri))
        except Exception:  # noqa: BLE001 - any failure to fetch is the finding
            sizes.append(None)
            missing.append(s.raw_uri)
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
