"""Where playlists and segments are read from (a Storage or HTTP), and reading plain bytes out of
AES-128 segments without fetching more than needed.

AES-128-CBC decrypts any 16-byte block from the block before it, so the head of a segment needs
only the head (with the segment IV), the padding needs only the last two blocks, and a byte range
needs the range widened to 16-byte boundaries plus the block before it as the IV (CBC as in
RFC 8216 §4.3.2.4, the IV rules of §5.2).

:data:`KeyResolver` is the one type for key sources across hlskit: key URI -> the bytes the key
source gave (16 for AES-128), None when the source does not know the key; it raises with a
sentence saying why when the key could not be had.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ..domain.errors import InputError
from ..storage import LocalStorage, Storage
from .fetch import (
    MIB,
    PLAYLIST_CAP,
    SEGMENT_CAP,
    Budget,
    FetchError,
    FetchTimeout,
    TooLarge,
    http_fetch,
    http_size,
    local_read,
    local_size,
)
from .playlist import Segment

KeyResolver = Callable[[str], "bytes | None"]
BLOCK = 16
WORKERS = 8
T = TypeVar("T")
R = TypeVar("R")


def in_parallel(fn: Callable[[T], R], items: Iterable[T], *, threads: bool = True) -> list[R]:
    """fn over items, in order, on a few threads: per-segment stats and ranged reads against OSS
    or HTTP are one round trip each, so overlapping them is what keeps 7,200 segments in seconds.
    On a local disk threads only add GIL contention (measured: 0.84 s serial vs 1.35 s threaded)."""
    if not threads:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(fn, items))


class Source:
    """Read access by resolved URI: '/'-separated paths in a Storage, or http(s) URLs.

    Every read is bounded (hlskit.hls.fetch): a deadline per fetch and for the whole ``budget``,
    a size cap per body, and local paths must be regular files."""

    def __init__(
        self, storage: Storage | None = None, *, headers: dict[str, str] | None = None, budget: Budget | None = None
    ):
        self.storage = storage or LocalStorage(".")
        self.headers = headers or {}
        self.budget: Budget = budget or Budget()
        self.content_types: dict[str, str] = {}
        # A URL that timed out once is not waited for again (as a player gives up on it): the
        # second read of a dripping segment fails at once instead of costing another deadline.
        self.timed_out: dict[str, FetchTimeout] = {}

    @property
    def remote(self) -> bool:
        """True unless every read is a local file (OSS storage, or URLs met while reading)."""
        return not isinstance(self.storage, LocalStorage) or bool(self.content_types)

    @staticmethod
    def is_url(ref: str) -> bool:
        return bool(re.match(r"^https?://", ref))

    def _local(self, ref: str) -> str | None:
        """The file system path of ``ref`` when the storage is a local folder."""
        if isinstance(self.storage, LocalStorage):
            return ref if ref.startswith("/") else os.path.join(self.storage.root, ref)
        return None

    def _note_type(self, ref: str, content_type: str) -> None:
        self.content_types.setdefault(ref, content_type)

    def _http(self, ref: str, fetch: Callable[..., R], *args: Any, **kw: Any) -> R:
        if ref in self.timed_out:
            raise self.timed_out[ref]
        try:
            return fetch(ref, self.budget, *args, **kw)
        except FetchTimeout as exc:
            self.timed_out[ref] = exc
            raise

    def text(self, ref: str) -> str:
        """A playlist's text (at most PLAYLIST_CAP bytes; larger ones are refused, not read)."""
        if self.is_url(ref):
            resp = self._http(ref, http_fetch, headers=self.headers, cap=PLAYLIST_CAP)
            self._note_type(ref, resp.content_type)
            data = resp.body
        elif (path := self._local(ref)) is not None:
            self.budget.deadline()
            data = local_read(path, cap=PLAYLIST_CAP)
        else:
            self.budget.deadline()
            if self.storage.size(ref) > PLAYLIST_CAP:
                raise TooLarge(f"the playlist is over the {PLAYLIST_CAP // MIB} MiB cap")
            data = self.storage.read_bytes(ref)
        return data.decode("utf-8", errors="replace")

    def read(self, ref: str, start: int = 0, length: int | None = None) -> bytes:
        """Bytes [start, start+length) (to the end when length is None, at most SEGMENT_CAP)."""
        if start < 0 or (length is not None and length < 0):
            raise FetchError(f"a negative byte range ({start}, {length}) cannot be read")
        if self.is_url(ref):
            resp = self._http(ref, http_fetch, headers=self.headers, start=start, length=length)
            self._note_type(ref, resp.content_type)
            return resp.body
        self.budget.deadline()  # local reads too: a run over local files ends within its budget
        if (path := self._local(ref)) is not None:
            return local_read(path, start, length)
        if length is None and self.storage.size(ref) - start > SEGMENT_CAP:
            raise TooLarge(f"the object is over the {SEGMENT_CAP // MIB} MiB cap for one read")
        return self.storage.read_bytes(ref, start or None, length)

    def size(self, ref: str) -> int:
        if self.is_url(ref):
            size, content_type = self._http(ref, http_size, self.headers)
            self._note_type(ref, content_type)
            return size
        self.budget.deadline()
        if (path := self._local(ref)) is not None:
            return local_size(path)
        return self.storage.size(ref)


def decrypt_blocks(cipher: bytes, key: bytes, iv: bytes) -> bytes:
    """AES-128-CBC without removing padding: for a prefix or an inner run of whole blocks."""
    usable = len(cipher) - len(cipher) % BLOCK
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return dec.update(cipher[:usable]) + dec.finalize()


def plain_head(source: Source, seg: Segment, key: bytes | None, length: int) -> bytes:
    """The first ``length`` plain bytes (or fewer at the end) of a segment.

    A media segment that is a byte range is encrypted on its own, starting from the segment IV
    (RFC 8216 §4.3.2.4: the Media Segment is what is encrypted; FFmpeg's single_file output does
    this), so its head decrypts from its own first block."""
    start = seg.byterange.offset if seg.byterange else 0
    if seg.byterange:
        length = min(length, seg.byterange.length)
    if key is None:
        return source.read(seg.uri, start, length)
    return decrypt_blocks(source.read(seg.uri, start, length + (-length % BLOCK)), key, seg.iv)[:length]


def plain_range(
    source: Source, seg: Segment, key: bytes | None, offset: int, length: int, size: int | None = None
) -> bytes:
    """Plain bytes [offset, offset+length) of an encrypted resource, as a player does it:
    widen to 16-byte boundaries, fetch the block before as the IV (the segment IV for block 0)."""
    if key is None:
        return source.read(seg.uri, offset, length)
    first = offset - offset % BLOCK
    last = offset + length + (-(offset + length) % BLOCK)
    if size is not None:
        last = min(last, size)
    if first == 0:
        iv, data = seg.iv, source.read(seg.uri, 0, last)
    else:
        data = source.read(seg.uri, first - BLOCK, last - first + BLOCK)
        iv, data = data[:BLOCK], data[BLOCK:]
    plain = decrypt_blocks(data, key, iv)
    return plain[offset - first : offset - first + length]


def padding_of(source: Source, seg: Segment, key: bytes, size: int) -> int | None:
    """The PKCS#7 pad length of an encrypted segment from its last two blocks, or None if invalid."""
    if size < BLOCK or size % BLOCK:
        return None
    if size == BLOCK:
        iv, last = seg.iv, source.read(seg.uri, 0, BLOCK)
    else:
        tail = source.read(seg.uri, size - 2 * BLOCK, 2 * BLOCK)
        iv, last = tail[:BLOCK], tail[BLOCK:]
    plain = decrypt_blocks(last, key, iv)
    pad = plain[-1] if plain else 0
    if 1 <= pad <= BLOCK and plain[-pad:] == bytes([pad]) * pad:
        return pad
    return None


class Keys:
    """Resolves key URIs once each; remembers keys that could not be had and why."""

    def __init__(self, resolver: KeyResolver | None):
        self.resolver = resolver
        self.cache: dict[str, bytes] = {}
        self.errors: dict[str, str] = {}

    def get(self, uri: str | None) -> bytes | None:
        if uri is None or self.resolver is None:
            return None
        if uri in self.cache:
            return self.cache[uri]
        if uri in self.errors:
            return None
        try:
            key = self.resolver(uri)
        except Exception as exc:  # noqa: BLE001 - any resolver failure is reported, not raised
            self.errors[uri] = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            return None
        if key is None:
            self.errors[uri] = "the key source does not know this key (or it was revoked)"
            return None
        self.cache[uri] = bytes(key)
        return self.cache[uri]

    def usable(self, uri: str | None) -> bytes | None:
        """The key when it is exactly 16 bytes (anything else cannot decrypt AES-128)."""
        key = self.get(uri)
        return key if key is not None and len(key) == BLOCK else None


def require(source: Source, ref: str) -> str:
    """The playlist text, or InputError naming what could not be read."""
    try:
        return source.text(ref)
    except OSError as exc:
        raise InputError(f"cannot read {ref} ({exc.strerror or exc}): check the path or URL.") from None
    except Exception as exc:  # requests' connection errors, HTTP errors (raised as FileNotFoundError above)
        raise InputError(
            f"cannot read {ref} ({type(exc).__name__}): check the URL and that the server is up."
        ) from None
