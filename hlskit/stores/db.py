"""Where the job store and the key store keep their rows: one ``store_url``, SQLite or PostgreSQL.

- ``sqlite:///relative/file.db`` or ``sqlite:////absolute/file.db`` (SQLAlchemy's spelling): an
  embedded SQLite file in WAL mode. Without a ``store_url`` the stores keep their own files,
  ``<home>/jobs.db`` and ``<home>/keys.db``, as before.
- ``postgresql://user:password@host:port/dbname``: PostgreSQL through psycopg 3 and one
  psycopg_pool connection pool per process and URL, shared by every store that uses it, so several
  key servers behind a load balancer see the same keys, runs and revocations.

Schemas evolve by numbered migrations recorded in a ``schema_version`` table (one row per store:
"jobs", "keys"); :meth:`Database.migrate` applies the missing ones on start, inside one write
transaction, so two processes starting together apply each migration once. SQLite stores made
before this table existed start at version 0: their migrations use ``CREATE ... IF NOT EXISTS``
and add only the columns a table lacks.

The password of a PostgreSQL URL is masked (``***``) wherever the URL is shown: errors, logs, reprs.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ..domain.errors import ConfigError

SQLITE, POSTGRES = "sqlite", "postgresql"
# A key server should answer 503 soon rather than hold a player's request while the database is
# away; the CLI gets the same bound. Seconds.
CONNECT_TIMEOUT = 2
POOL_TIMEOUT = 3
POOL_MAX = 10  # per process: a gunicorn gthread worker's threads, or one CLI command
# SQLite's words for a disk that is full, read-only or failing, where the file itself may be sound
_CANNOT_WRITE = re.compile(r"disk I/O error|readonly database|database or disk is full|unable to open database")
LOCKED_RETRY_SECONDS = 30  # how long opening a SQLite store waits out another process switching it to WAL


class StoreUnavailable(ConfigError):
    """The database of the job store or key store cannot be reached right now (exit code 2)."""


def mask_url(url: str) -> str:
    """The URL with its password (in the authority or a ``password=`` parameter) replaced by ***.

    It masks from the first ":" of the authority to its LAST "@": a superset of what libpq reads
    as the password (up to the first "@") and of what a URL parser reads (up to the last), so an
    unencoded "@", "/" or "?" in a password never shows, whichever reading is right."""
    text = str(url)
    scheme, sep, rest = text.partition("://")
    if sep and scheme.lower() != "sqlite" and "@" in rest:
        colon, at = rest.find(":"), rest.rfind("@")
        if -1 < colon < at:
            text = f"{scheme}://{rest[:colon]}:***{rest[at:]}"
    return re.sub(r"(?i)(password=)[^&\s]*", r"\1***", text)


def _libpq_userinfo(rest: str) -> tuple[str | None, str]:
    """(user[:password], the rest) of a URL after "postgresql://", split as libpq splits it: at the
    first "@", if one comes before the first "/" (libpq's conninfo_uri_parse_options)."""
    ends = [i for i in (rest.find("@"), rest.find("/")) if i >= 0]
    if ends and rest[min(ends)] == "@":
        return rest[: min(ends)], rest[min(ends) + 1 :]
    return None, rest


def url_password(url: str) -> list[str]:
    """The password of a PostgreSQL URL as written and percent-decoded (to strip from messages)."""
    userinfo, _ = _libpq_userinfo(str(url).partition("://")[2])
    password = userinfo.partition(":")[2] if userinfo else ""
    return [p for p in dict.fromkeys((password, unquote(password))) if p]


def _check_postgres_url(text: str) -> None:
    """One sentence, never any part of the password, for what libpq would misread or refuse."""
    userinfo, hostpart = _libpq_userinfo(text.partition("://")[2])
    if "@" in hostpart:
        raise ConfigError(
            "store_url has an '@' that is not percent-encoded besides the one before the host, so PostgreSQL "
            "would read part of the password as the host: percent-encode the user name, password and database "
            'name (@ as %40, / as %2F, % as %25; e.g. python3 -c "import urllib.parse; '
            "print(urllib.parse.quote(input(), safe=''))\")."
        )
    if userinfo and re.search(r"%(?![0-9A-Fa-f]{2})|%00", userinfo):
        raise ConfigError(
            "store_url's user name or password has a '%' that starts no valid escape: write % itself as %25."
        )
    netloc = hostpart.split("/", 1)[0].split("?", 1)[0]
    try:
        _ = urlsplit(f"postgresql://{hostpart}").port  # parses the host (brackets, IPv6) and the port
    except ValueError:
        if "[" in netloc or "]" in netloc:
            raise ConfigError(
                "store_url's host is not a valid IPv6 address in brackets: write it as [::1] or "
                "[2001:db8::5], then :port (e.g. postgresql://user:password@[::1]:5432/dbname)."
            ) from None
        raise ConfigError(
            "store_url's port is not a number from 0 to 65535: fix it (e.g. postgresql://user:password@host:5432/dbname)."
        ) from None


@dataclass(frozen=True)
class StoreLocation:
    """A parsed ``store_url``; its repr never shows the password."""

    dialect: str
    url: str = field(repr=False)
    path: Path | None = None  # SQLite only

    @property
    def display(self) -> str:
        return mask_url(self.url)

    @property
    def sqlite_file(self) -> Path:
        """The SQLite file; asking a PostgreSQL location for one is a programming error."""
        if self.path is None:
            raise ValueError(f"the store {self.display} is not an SQLite file")
        return self.path

    def __repr__(self) -> str:
        return f"StoreLocation({self.display!r})"


def parse_store_url(url: str | Path) -> StoreLocation:
    """A ``sqlite:///…`` or ``postgresql://…`` URL, or a plain path to an SQLite file."""
    text = str(url)
    if isinstance(url, Path) or "://" not in text:
        return StoreLocation(SQLITE, f"sqlite:///{text}", Path(text))
    scheme = text.split("://", 1)[0].lower()
    if scheme == "sqlite":
        rest = text[len("sqlite:///") :] if text.lower().startswith("sqlite:///") else ""
        if not rest:
            raise ConfigError(
                f"store_url {text} names no file: use sqlite:////absolute/path.db or sqlite:///relative.db."
            )
        return StoreLocation(SQLITE, text, Path(rest))
    if scheme in ("postgresql", "postgres"):
        _check_postgres_url(text)
        parts = urlsplit(text.split("://", 1)[0] + "://" + _libpq_userinfo(text.split("://", 1)[1])[1])
        if not parts.hostname and "host=" not in (parts.query or ""):
            raise ConfigError(
                f"store_url {mask_url(text)} names no host: use postgresql://user:password@host:5432/dbname."
            )
        return StoreLocation(POSTGRES, text)
    raise ConfigError(
        f"store_url {mask_url(text)} is neither sqlite:///… nor postgresql://…: fix the store_url setting."
    )


class Conn:
    """One connection (autocommit, or inside Database.write's transaction). SQL is written with ``?``
    placeholders for both dialects, so it must not hold a literal "?" of its own."""

    def __init__(self, raw: Any, dialect: str):
        self.raw = raw
        self.dialect = dialect

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == POSTGRES else sql

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self.raw.execute(self._sql(sql), args)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if self.dialect == POSTGRES:
            self.raw.cursor().executemany(self._sql(sql), rows)
        else:
            self.raw.executemany(sql, rows)

    def columns(self, table: str) -> set[str]:
        if self.dialect == SQLITE:
            return {row[1] for row in self.raw.execute(f"PRAGMA table_info({table})")}
        rows = self.raw.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name=%s AND table_schema=current_schema()",
            (table,),
        )
        return {row[0] for row in rows}


Migration = Callable[[Conn], None]

_POOLS: dict[tuple[int, str], Any] = {}
_POOLS_LOCK = threading.Lock()


@atexit.register
def _close_pools() -> None:
    """Close this process's pools at exit; never a parent's, whose connections are not ours to end."""
    for (pid, _), pool in list(_POOLS.items()):
        if pid == os.getpid():
            pool.close()


def _pool(url: str) -> Any:
    """The process's pool for one PostgreSQL URL (psycopg is imported only when one is used)."""
    import psycopg
    from psycopg_pool import ConnectionPool

    # Keyed by process too: a pool made before a fork (gunicorn --preload) has no worker threads
    # in the child, and its sockets belong to the parent; the child makes its own.
    ident = (os.getpid(), url)
    with _POOLS_LOCK:
        pool = _POOLS.get(ident)
        if pool is None:
            # One direct connection first: a database that is down or refuses us fails at once
            # with its own reason, instead of after the pool's timeout.
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT).close()
            # The pool logs every failed reconnection attempt; the key service logs one line instead.
            pool_logger = logging.getLogger("psycopg.pool")
            if pool_logger.level == logging.NOTSET:
                pool_logger.setLevel(logging.CRITICAL)
            pool = ConnectionPool(
                url,
                min_size=1,
                max_size=POOL_MAX,
                timeout=POOL_TIMEOUT,
                kwargs={"connect_timeout": CONNECT_TIMEOUT, "autocommit": True},
                # A connection idle in the pool may have died with a database restart: checking
                # it on checkout costs a round trip but spares a request the broken connection.
                check=ConnectionPool.check_connection,
                name="hlskit",
                open=False,
            )
            pool.open(wait=False)
            _POOLS[ident] = pool
        return pool


class Database:
    """The store behind one ``store_url`` (or SQLite file): connections, transactions, migrations."""

    def __init__(self, location: StoreLocation | str | Path):
        self.location = location if isinstance(location, StoreLocation) else parse_store_url(location)
        self.dialect = self.location.dialect
        if self.dialect == SQLITE:
            self.location.sqlite_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # the home: owner only
            # owner only too (SQLite gives its -wal and -shm files the database's mode): wrapped keys,
            # notify URLs with their credentials. O_EXCL: an existing store is left alone
            try:
                os.close(os.open(self.location.sqlite_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            except OSError:
                pass  # it exists, or opening it says why, in the store's own words

    def __repr__(self) -> str:
        return f"Database({self.location.display!r})"

    @property
    def display(self) -> str:
        return self.location.display

    def reason(self, exc: BaseException) -> str:
        """The first line of a driver error, with the URL and the password masked."""
        reason = mask_url(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        reason = re.sub(r'(?i)(in URI: )"[^"]*"', r"\1(store_url)", reason)  # libpq quotes the whole URL
        for secret in url_password(self.location.url) if self.dialect == POSTGRES else []:
            reason = reason.replace(secret, "***")
        return reason

    def unavailable(self, exc: BaseException) -> StoreUnavailable:
        reason = self.reason(exc)
        return StoreUnavailable(
            f"the store {self.display} is unreachable ({reason.rstrip('.')}): start the database or fix store_url.",
            code="Store.Unavailable",
        )

    @contextmanager
    def _sqlite(self, write: bool) -> Iterator[Conn]:
        # mode=rw: a store deleted under a running server is not made again, empty and world-readable
        # (the constructor made the file, 0600); its keys are gone and the answer says so
        uri = self.location.sqlite_file.absolute().as_uri() + "?mode=rw"
        try:
            raw = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
        except sqlite3.OperationalError as exc:
            raise self.unavailable(exc) from None
        try:
            if write:
                raw.execute("BEGIN IMMEDIATE")
            try:
                yield Conn(raw, SQLITE)
            except BaseException:
                if write:
                    raw.execute("ROLLBACK")
                raise
            if write:
                raw.execute("COMMIT")
        finally:
            raw.close()

    @contextmanager
    def _postgres(self, lock: str | None) -> Iterator[Conn]:
        import psycopg

        try:
            pool = _pool(self.location.url)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise self.unavailable(exc) from None
        except psycopg.ProgrammingError as exc:  # libpq refused the URL or one of its parameters
            raise ConfigError(
                f"the store {self.display} cannot be used ({self.reason(exc).rstrip('.')}): fix store_url."
            ) from None
        try:
            with pool.connection() as raw:
                conn = Conn(raw, POSTGRES)
                if lock is None:
                    yield conn  # autocommit: each statement is its own transaction, no BEGIN/COMMIT trips
                    return
                with raw.transaction():  # commits when the block ends, rolls back on an exception
                    # Serialises writers of one name (e.g. a content id) until this transaction
                    # ends (PostgreSQL manual, 9.27.10 Advisory Lock Functions).
                    raw.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (lock,))
                    yield conn
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise self.unavailable(exc) from None

    @contextmanager
    def read(self) -> Iterator[Conn]:
        """A connection for reads and single-statement writes (each statement commits on its own). A
        store damaged or replaced after it was opened is StoreUnavailable (a server answers 503), not a
        driver error."""
        with self._postgres(None) if self.dialect == POSTGRES else self._sqlite(False) as conn:
            try:
                yield conn
            except sqlite3.IntegrityError:
                raise
            except sqlite3.DatabaseError as exc:
                raise StoreUnavailable(
                    f"the store {self.display} cannot be read ({self.reason(exc).rstrip('.')}): restore it from a "
                    "backup, or move it aside (hlskit starts a new one, without its keys).",
                    code="Store.Unavailable",
                ) from None

    def write(self, lock: str = "") -> AbstractContextManager[Conn]:
        """One write transaction: SQLite takes the database's write lock at BEGIN (BEGIN IMMEDIATE);
        PostgreSQL an advisory lock on ``lock``, so read-check-write sequences do not interleave."""
        return self._postgres(lock) if self.dialect == POSTGRES else self._sqlite(True)

    def ping(self) -> None:
        with self.read() as db:
            # SQLite's SELECT 1 reads no page: a file overwritten with garbage still answered it
            db.execute("SELECT count(*) FROM sqlite_master" if self.dialect == SQLITE else "SELECT 1").fetchone()

    def migrate(self, component: str, migrations: list[Migration]) -> int:
        """Apply the migrations of ``component`` this database has not had yet; its version after."""
        # Processes that start together (workers, a CLI beside a server) race to switch a new SQLite
        # file to WAL; SQLite answers "database is locked" there without waiting its busy timeout.
        deadline = time.monotonic() + LOCKED_RETRY_SECONDS
        while True:
            try:
                return self._migrate(component, migrations)
            except sqlite3.DatabaseError as exc:
                where = self.location.sqlite_file.parent if self.dialect == SQLITE else None
                if isinstance(exc, sqlite3.OperationalError) and where is not None and _CANNOT_WRITE.search(str(exc)):
                    # the file is sound, its disk or folder is not: moving it aside would lose every key
                    raise ConfigError(
                        f"the {component} store {self.display} cannot be written ({exc}): free space on its disk "
                        f"or make {where} writable (the file itself is sound: do not move it aside)."
                    ) from None
                if not (isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)):
                    raise ConfigError(
                        f"the {component} store {self.display} cannot be opened ({exc}): move it aside "
                        "(hlskit starts a new one) or restore it from a backup."
                    ) from None
                if time.monotonic() > deadline:
                    raise ConfigError(
                        f"the {component} store {self.display} stayed locked for {LOCKED_RETRY_SECONDS} s: stop "
                        "the process that holds it, or move the file aside (hlskit starts a new one)."
                    ) from None
                time.sleep(0.05)

    def _migrate(self, component: str, migrations: list[Migration]) -> int:
        if self.dialect == SQLITE:
            with self._sqlite(False) as db:  # the driver's own errors: migrate() words them
                db.execute("PRAGMA journal_mode=WAL")  # outside a transaction, once per file
        with self.write(f"hlskit-migrate-{component}") as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
            )
            row = db.execute("SELECT version FROM schema_version WHERE component=?", (component,)).fetchone()
            version = row[0] if row else 0
            for step in migrations[version:]:
                step(db)
            if len(migrations) > version:
                db.execute("DELETE FROM schema_version WHERE component=?", (component,))
                db.execute(
                    "INSERT INTO schema_version (component, version) VALUES (?, ?)", (component, len(migrations))
                )
            return max(version, len(migrations))


def script(sql: str) -> Migration:
    """A migration made of SQL statements separated by semicolons."""

    def run(db: Conn) -> None:
        for statement in sql.split(";"):
            if statement.strip():
                db.execute(statement)

    return run
