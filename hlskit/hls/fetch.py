"""Bounded reads: every fetch has a deadline, every body a size cap, and only regular files are opened.

Reading a stream someone else serves must end: a server that drips one byte every few seconds,
accepts and never answers, or sends an endless body, and a segment path such as /dev/zero or a
FIFO, would otherwise hold the reader forever or fill its memory. So:

- :class:`Budget` gives each fetch a deadline (``fetch_seconds`` from its start, never past the
  end of the whole run, ``run_seconds``). A watchdog shuts the socket down at the deadline, so it
  holds for the whole request (connect, headers, body), not per read as socket timeouts do.
- Bodies are read in chunks up to a cap (:data:`PLAYLIST_CAP` for playlists); a body that is
  larger fails with :class:`TooLarge` instead of being read. Sizes of bodies without
  Content-Length are counted, not kept.
- Local paths are opened non-blocking (a FIFO cannot hang the open) and refused unless fstat says
  they are regular files (:class:`NotRegular`).

All failures are OSError subclasses with a readable ``strerror``, so callers that report missing
media as findings handle them the same way.
"""

from __future__ import annotations

import functools
import http.client
import os
import socket
import ssl
import stat
import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import certifi

FETCH_SECONDS = 20.0
RUN_SECONDS = 120.0
PLAYLIST_CAP = 16 * 1024 * 1024
SEGMENT_CAP = 64 * 1024 * 1024  # one whole segment in memory at most (the first one, for CODECS)
COUNT_CAP = 4 * 1024 * 1024 * 1024  # sizes counted from bodies without Content-Length
CHUNK = 64 * 1024
REDIRECTS = 5
MIB = 1024 * 1024


class FetchError(OSError):
    """A read that failed; ``strerror`` says why in words."""

    def __init__(self, why: str):
        super().__init__(why)
        self.strerror = why


class OutOfTime(FetchError):
    """The run's time budget is used up: nothing more is read."""


class FetchTimeout(FetchError):
    """One fetch did not complete within its deadline."""


class TooLarge(FetchError):
    """A body larger than the cap for what is being read."""


class NotRegular(FetchError):
    """A local path that is a device, FIFO, socket or folder."""


class HttpStatus(FileNotFoundError):
    """An HTTP error status (a FileNotFoundError, as a missing file is)."""

    def __init__(self, status: int, url: str):
        super().__init__(f"HTTP {status}")
        self.strerror = f"HTTP {status}"
        self.status = status
        self.url = url


class Budget:
    """Deadlines for one run of reads: ``fetch_seconds`` per fetch, ``run_seconds`` in all (None: no limit)."""

    def __init__(self, fetch_seconds: float | None = FETCH_SECONDS, run_seconds: float | None = None):
        self.fetch_seconds = fetch_seconds
        self.run_seconds = run_seconds
        self.started = time.monotonic()
        self.fetches = 0
        self.out_of_time = False

    @property
    def expired(self) -> bool:
        return self.run_seconds is not None and time.monotonic() - self.started >= self.run_seconds

    def spent(self) -> bool:
        """True (and ``out_of_time`` set) once the run's budget is used up: loops that do work
        between reads (parsing segments) stop there, so the budget bounds CPU time too."""
        if self.expired:
            self.out_of_time = True
        return self.out_of_time

    def deadline(self) -> float | None:
        """The deadline of a fetch starting now; OutOfTime when the run's budget is used up."""
        if self.expired:
            self.out_of_time = True
            raise OutOfTime(f"the run's time budget of {self.run_seconds:g} s is used up")
        self.fetches += 1
        now = time.monotonic()
        ends = [now + s for s in (self.fetch_seconds,) if s is not None]
        if self.run_seconds is not None:
            ends.append(self.started + self.run_seconds)
        return min(ends) if ends else None


def _why_late(budget: Budget) -> FetchError:
    if budget.expired:
        budget.out_of_time = True
        return OutOfTime(f"the run's time budget of {budget.run_seconds:g} s is used up")
    return FetchTimeout(f"no complete answer within {budget.fetch_seconds:g} s")


# --- local files -----------------------------------------------------------------------------------


def _not_regular(mode: int) -> NotRegular:
    kind = "a folder" if stat.S_ISDIR(mode) else "a device, FIFO or socket"
    return NotRegular(f"it is {kind}, not a regular file")


def _open_regular(path: str) -> int:
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise _not_regular(st.st_mode)
    return fd


def local_size(path: str) -> int:
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(st.st_mode)
    return st.st_size


def local_read(path: str, start: int = 0, length: int | None = None, *, cap: int = SEGMENT_CAP) -> bytes:
    """Bytes [start, start+length) of a regular file (to its end when length is None), at most ``cap``."""
    fd = _open_regular(path)
    try:
        size = os.fstat(fd).st_size
        want = max(0, size - start) if length is None else max(0, min(length, size - start))
        if want > cap:
            raise TooLarge(f"{want} bytes is over the {cap // MIB} MiB cap for this read")
        out = bytearray()
        while len(out) < want:
            chunk = os.pread(fd, min(CHUNK * 16, want - len(out)), start + len(out))
            if not chunk:
                break
            out += chunk
        return bytes(out)
    finally:
        os.close(fd)


# --- HTTP ------------------------------------------------------------------------------------------


@dataclass
class Response:
    url: str  # after redirects
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    counted: int  # body bytes seen (kept or not)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


class _Watchdog:
    """Shuts a connection's socket down at the deadline: any blocked connect/recv/send then ends."""

    def __init__(self, conn: http.client.HTTPConnection, deadline: float | None):
        self.conn, self.fired, self.timer = conn, False, None
        if deadline is not None:
            self.timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
            self.timer.daemon = True
            self.timer.start()

    def _fire(self) -> None:
        self.fired = True
        sock = self.conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()


@functools.cache
def _tls() -> ssl.SSLContext:
    """The TLS context of every https fetch, made on the first one (loading the CA bundle takes 15 ms)."""
    return ssl.create_default_context(cafile=certifi.where())


def _resolve(host: str, port: int, deadline: float | None) -> tuple:
    """getaddrinfo on a helper thread, so a resolver that hangs cannot outlast the deadline."""
    result: list = []

    def lookup() -> None:
        try:
            result.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][4])
        except OSError as exc:
            result.append(exc)

    worker = threading.Thread(target=lookup, daemon=True)
    worker.start()
    worker.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
    if not result:
        raise TimeoutError("name lookup timed out")
    if isinstance(result[0], OSError):
        raise result[0]
    return result[0]


class _Http(http.client.HTTPConnection):
    """Connects to an address resolved beforehand (see :func:`_resolve`)."""

    def __init__(self, host: str, port: int, timeout: float | None, address: tuple):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection(self.address[:2], self.timeout)


class _Https(_Http):
    default_port = 443

    def connect(self) -> None:
        sock = socket.create_connection(self.address[:2], self.timeout)
        self.sock = _tls().wrap_socket(sock, server_hostname=self.host)


def _connection(url: str, deadline: float | None) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"{url} is not an http(s) URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FetchError("the URL has an invalid port") from None
    timeout = None if deadline is None else max(0.001, deadline - time.monotonic())
    address = _resolve(parts.hostname, port, deadline)
    conn = (_Https if parts.scheme == "https" else _Http)(parts.hostname, port, timeout, address)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return conn, path


def _late(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _read_body(
    resp: http.client.HTTPResponse, skip: int, keep: int | None, count_cap: int, deadline: float | None
) -> tuple[bytes, int]:
    """Discard ``skip`` bytes, keep up to ``keep`` (None: all, up to the cap); returns (kept, seen).
    Stops at the deadline too: the watchdog wakes a blocked read, but a body that keeps flowing
    is only stopped by looking at the clock (Linux keeps delivering data after SHUT_RD)."""
    out = bytearray()
    seen = 0
    while not _late(deadline):
        if keep is not None and seen >= skip + keep:
            break
        chunk = resp.read(CHUNK)
        if not chunk:
            break
        lo = max(0, skip - seen)
        seen += len(chunk)
        if keep is None or len(out) < keep:
            part = chunk[lo:]
            out += part if keep is None else part[: keep - len(out)]
        if keep is None and len(out) > count_cap:
            raise TooLarge(f"the body is over the {count_cap // MIB} MiB cap for this read")
    return bytes(out), seen


def http_fetch(
    url: str,
    budget: Budget,
    *,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    start: int = 0,
    length: int | None = None,
    cap: int = SEGMENT_CAP,
    keep: bool = True,
) -> Response:
    """One bounded request (following up to 5 redirects): GET bytes [start, start+length) (the
    whole body up to ``cap`` when length is None), or with ``keep=False`` only count the body.
    HTTP error statuses raise :class:`HttpStatus`; lateness, :class:`FetchTimeout` or OutOfTime."""
    deadline = budget.deadline()
    send = dict(headers or {})
    send.setdefault("User-Agent", "hlskit-validate")
    send["Accept-Encoding"] = "identity"
    if length is not None and method == "GET":
        send["Range"] = f"bytes={start}-{start + max(length, 1) - 1}"
    elif start and method == "GET":
        send["Range"] = f"bytes={start}-"
    host = urlsplit(url).hostname
    for _ in range(REDIRECTS + 1):
        try:
            conn, path = _connection(url, deadline)
        except (OSError, http.client.HTTPException) as exc:
            if deadline is not None and time.monotonic() >= deadline:
                raise _why_late(budget) from None
            raise exc if isinstance(exc, FetchError) else FetchError(_describe(exc)) from None
        dog = _Watchdog(conn, deadline)
        try:
            conn.request(method, path, headers=send)
            resp = conn.getresponse()
            if resp.status in (301, 302, 303, 307, 308) and resp.getheader("Location"):
                url = urljoin(url, resp.getheader("Location"))
                if urlsplit(url).hostname != host:
                    send.pop("Authorization", None)  # as browsers and requests do across hosts
                continue
            if resp.status >= 400:
                raise HttpStatus(resp.status, url)
            if method == "HEAD":
                return Response(url, resp.status, resp.headers, b"", 0)
            ranged = resp.status == 206
            skip = 0 if ranged else start
            if not keep:
                seen = _count(resp, COUNT_CAP, deadline)
                body = b""
            else:
                body, seen = _read_body(resp, skip, length, cap, deadline)
            if dog.fired or _late(deadline):  # cut short: what arrived is not the resource
                raise _why_late(budget)
            if resp.length and (not keep or length is None):
                raise FetchError(f"the body ended {resp.length} bytes before its Content-Length")
            return Response(url, resp.status, resp.headers, body, seen)
        except (OSError, http.client.HTTPException) as exc:
            if dog.fired or (deadline is not None and time.monotonic() >= deadline):
                raise _why_late(budget) from None
            if isinstance(exc, (FetchError, HttpStatus)):
                raise
            raise FetchError(_describe(exc)) from None
        finally:
            dog.cancel()
            conn.close()
    raise FetchError(f"more than {REDIRECTS} redirects")


def _count(resp: http.client.HTTPResponse, cap: int, deadline: float | None) -> int:
    seen = 0
    while not _late(deadline):
        chunk = resp.read(CHUNK)
        if not chunk:
            return seen
        seen += len(chunk)
        if seen > cap:
            raise TooLarge(f"the body is over the {cap // MIB} MiB cap for a segment")
    return seen


def _describe(exc: BaseException) -> str:
    """A short reason in words for a network failure (never the request's headers or query)."""
    if isinstance(exc, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or 'handshake'})"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "the server did not answer in time"
    if isinstance(exc, http.client.HTTPException):
        return f"the server's answer is not valid HTTP ({type(exc).__name__})"
    return getattr(exc, "strerror", None) or type(exc).__name__


def http_size(url: str, budget: Budget, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """(size, content type) of a URL: Content-Length of a HEAD, else the body counted (not kept)."""
    head = http_fetch(url, budget, headers=headers, method="HEAD")
    length = head.headers.get("Content-Length")
    if length is not None and length.strip().isdigit():
        return int(length), head.content_type
    got = http_fetch(url, budget, headers=headers, keep=False)
    return got.counted, got.content_type
