"""The key store: data keys wrapped under the master key, each tied to the package run that made it.

A *data key* is 16 random bytes that encrypt whole TS segments (AES-128-CBC, PKCS#7), with an
explicit random IV per key. It is kept only *wrapped*: AES-256-GCM under a 32-byte master key
file (mode 0600), with "<content-id>/<key-id>" as associated data, so a wrapped key cannot be
moved to another content id or key id. The plain key exists in memory only, while segments are
encrypted or a key request is answered; it never lands beside segments, in logs or manifests.

Each key records the package run that created it, so a run that does not publish revokes exactly
its own keys, and a run that publishes revokes every other live key of its content id (the
package it replaced).

The rows live in an SQLite file (``<home>/keys.db``) or, for several key servers behind a load
balancer, in PostgreSQL (``store_url``, see :mod:`hlskit.stores.db`). Key caches learn of a
revocation from :meth:`KeyStore.revocation_version`: on SQLite a marker file beside the database
(one stat()), on PostgreSQL a counter that every revocation bumps in its own transaction.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..domain.configs import StoreConfig
from ..domain.errors import ConfigError, InputError
from ..domain.keys import KEY_BYTES, DataKey, KeyRecord
from ..hls.source import KeyResolver
from ..keys.kms import decrypt_hook
from ..keys.resolve import split_key_uri
from ..keys.secretfile import read_secret_file
from .db import POSTGRES, Conn, Database, StoreLocation, script

# --- master key ---------------------------------------------------------------------------


def load_master_key(path: Path) -> bytes:
    """Read the 32-byte master key, creating it (mode 0600) on first use."""
    data = read_secret_file(path, lambda: secrets.token_bytes(32), "master key")
    if len(data) != 32:
        raise ConfigError(f"master key file {path} must hold exactly 32 bytes: restore it from backup.")
    return data


def _aad(content_id: str, key_id: str) -> bytes:
    return f"{content_id}/{key_id}".encode()


# --- key store ----------------------------------------------------------------------------


def _create(db: Conn) -> None:
    """Version 1: the keys table (a no-op on a store made before versioned schemas)."""
    real = "DOUBLE PRECISION" if db.dialect == POSTGRES else "REAL"
    blob = "BYTEA" if db.dialect == POSTGRES else "BLOB"
    db.execute(
        f"""CREATE TABLE IF NOT EXISTS keys (
            content_id TEXT NOT NULL,
            key_id     TEXT NOT NULL,
            wrapped    {blob} NOT NULL,
            iv_hex     TEXT NOT NULL,
            wrapping   TEXT NOT NULL DEFAULT 'aes-256-gcm',
            created_at {real} NOT NULL,
            revoked_at {real},
            run_id     TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (content_id, key_id)
        )"""
    )


def _add_run_id(db: Conn) -> None:
    """Version 2: keys made before package runs existed belong to no run."""
    if "run_id" not in db.columns("keys"):
        db.execute("ALTER TABLE keys ADD COLUMN run_id TEXT NOT NULL DEFAULT ''")


MIGRATIONS = [
    _create,
    _add_run_id,
    # Version 3: the revocation counter key caches poll, and the index revoke_run uses.
    script(
        """
        CREATE TABLE IF NOT EXISTS key_revocations (id INTEGER PRIMARY KEY, version BIGINT NOT NULL);
        INSERT INTO key_revocations (id, version) SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM key_revocations);
        CREATE INDEX IF NOT EXISTS keys_run ON keys (run_id)
        """
    ),
]


class KeyStore:
    """Wrapped data keys in SQLite (WAL) or PostgreSQL, shared by the packager and the key service.

    ``db_path`` is an SQLite file or a store URL. ``kms_decrypt`` unwraps keys created in KMS mode
    (wrapping "kms"): it takes the stored ciphertext blob and returns the 16 plain bytes.
    """

    def __init__(
        self,
        db_path: Path | str | StoreLocation,
        master_key_file: Path,
        kms_decrypt: Callable[[bytes], bytes] | None = None,
    ):
        self.db = Database(db_path)
        self.db_path = self.db.location.path  # the SQLite file, None on PostgreSQL
        self.master_key_file = Path(master_key_file)
        self.kms_decrypt = kms_decrypt
        self._master: bytes | None = None
        self.db.migrate("keys", MIGRATIONS)

    def __repr__(self) -> str:
        return f"KeyStore({self.db.display!r})"

    @classmethod
    def open(cls, config: StoreConfig) -> KeyStore:
        kms_decrypt = decrypt_hook(config.kms) if config.kms else None
        return cls(config.keys, config.master_key_file, kms_decrypt=kms_decrypt)

    @property
    def master(self) -> bytes:
        if self._master is None:
            self._master = load_master_key(self.master_key_file)
        return self._master

    def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers."""
        self.db.ping()

    def create(self, content_id: str, run_id: str = "") -> DataKey:
        """A fresh data key with a fresh key id and IV, stored wrapped."""
        return self.add(content_id, secrets.token_bytes(KEY_BYTES), secrets.token_bytes(16), run_id)

    def add(
        self, content_id: str, key: bytes, iv: bytes | None, run_id: str = "", key_id: str | None = None
    ) -> DataKey:
        """A given key (``package --key-file``, ``keys import``) stored wrapped like a generated one;
        a random IV unless ``iv`` is given, a new key id unless ``key_id`` is given. InputError when
        that key id is already stored."""
        iv = secrets.token_bytes(16) if iv is None else iv
        if len(key) != KEY_BYTES or len(iv) != 16:
            raise InputError("a data key and its IV must be 16 bytes each: give 32 hex characters for each.")
        data = DataKey(content_id, key_id or secrets.token_hex(8), iv, key)
        if key_id is not None and self.wrapped(content_id, key_id) is not None:
            raise InputError(
                f"key {key_id} of {content_id} is already in this key store: "
                f"leave it out, or revoke it first with `hlskit keys revoke {content_id} --key-id {key_id}`."
            )
        nonce = secrets.token_bytes(12)
        wrapped = nonce + AESGCM(self.master).encrypt(nonce, data.key, _aad(content_id, data.key_id))
        self._insert(content_id, data.key_id, wrapped, iv.hex(), "aes-256-gcm", run_id)
        return data

    def add_all(self, keys: list[DataKey], before_commit: Callable[[], None] = lambda: None) -> None:
        """Given keys (``keys import``) stored wrapped in ONE transaction: all of them or none.
        InputError naming the first key whose id is already stored. ``before_commit`` runs last
        inside the transaction; an exception from it (an interrupt) rolls everything back."""
        rows = []
        aead = AESGCM(self.master)
        for k in keys:
            if len(k.key) != KEY_BYTES or len(k.iv) != 16:
                raise InputError("a data key and its IV must be 16 bytes each: give 32 hex characters for each.")
            nonce = secrets.token_bytes(12)
            wrapped = nonce + aead.encrypt(nonce, k.key, _aad(k.content_id, k.key_id))
            rows.append((k.content_id, k.key_id, wrapped, k.iv.hex(), "aes-256-gcm", time.time(), ""))
        wanted = {(k.content_id, k.key_id) for k in keys}
        content_ids = sorted({k.content_id for k in keys})
        with self.db.write("hlskit-keys-import") as db:
            for start in range(0, len(content_ids), 500):  # SQLite allows 999 parameters per statement
                chunk = content_ids[start : start + 500]
                stored = db.execute(
                    f"SELECT content_id, key_id FROM keys WHERE content_id IN ({','.join('?' * len(chunk))})", chunk
                ).fetchall()
                taken = sorted(wanted.intersection((c, k) for c, k in stored))
                if taken:
                    content_id, key_id = taken[0]
                    raise InputError(
                        f"key {key_id} of {content_id} is already in this key store: "
                        "remove its line, or import into another home."
                    )
            db.executemany(
                "INSERT INTO keys (content_id, key_id, wrapped, iv_hex, wrapping, created_at, run_id) "
                "VALUES (?,?,?,?,?,?,?)",
                rows,
            )
            before_commit()

    def live_keys(self, content_id: str, key_id: str | None = None) -> list[DataKey]:
        """The plain live keys of a content id (for ``hlskit keys export`` only: memory, never files)."""
        found = []
        for r in self.list(content_id):
            if r.revoked or (key_id is not None and r.key_id != key_id):
                continue
            key = self.get(r.content_id, r.key_id)
            if key is not None:
                found.append(DataKey(r.content_id, r.key_id, bytes.fromhex(r.iv_hex), key))
        return found

    def add_kms(self, content_id: str, key_id: str, ciphertext_blob: bytes, iv: bytes, run_id: str = "") -> None:
        """Record a key whose wrapped form is a KMS ciphertext (KeyType KMS)."""
        self._insert(content_id, key_id, ciphertext_blob, iv.hex(), "kms", run_id)

    def _insert(self, content_id: str, key_id: str, wrapped: bytes, iv_hex: str, wrapping: str, run_id: str) -> None:
        with self.db.read() as db:
            db.execute(
                "INSERT INTO keys (content_id, key_id, wrapped, iv_hex, wrapping, created_at, run_id) "
                "VALUES (?,?,?,?,?,?,?)",
                (content_id, key_id, wrapped, iv_hex, wrapping, time.time(), run_id),
            )

    def resolver(self) -> KeyResolver:
        """Key URI → live key from this store (no HTTP, no token); revoked or unknown keys give None."""

        def resolve(uri: str) -> bytes | None:
            ids = split_key_uri(uri)
            return self.get(*ids) if ids else None

        return resolve

    def get(self, content_id: str, key_id: str) -> bytes | None:
        """The plain 16 bytes of a live key, or None when it is unknown or revoked."""
        with self.db.read() as db:
            row = db.execute(
                "SELECT wrapped, wrapping, revoked_at FROM keys WHERE content_id=? AND key_id=?",
                (content_id, key_id),
            ).fetchone()
        if row is None or row[2] is not None:
            return None
        wrapped, wrapping = bytes(row[0]), row[1]
        if wrapping == "kms":
            if self.kms_decrypt is None:
                raise ConfigError(
                    "this key was wrapped by Alibaba KMS: configure mts_access_key_id/secret so the key service can call Decrypt."
                )
            return self.kms_decrypt(wrapped)
        return AESGCM(self.master).decrypt(wrapped[:12], wrapped[12:], _aad(content_id, key_id))

    def wrapped(self, content_id: str, key_id: str) -> tuple[bytes, str] | None:
        """The stored (wrapped) form of a key and its wrapping, e.g. a KMS CiphertextBlob for MPS."""
        with self.db.read() as db:
            row = db.execute(
                "SELECT wrapped, wrapping FROM keys WHERE content_id=? AND key_id=?", (content_id, key_id)
            ).fetchone()
        return (bytes(row[0]), row[1]) if row else None

    def is_live(self, content_id: str, key_id: str) -> bool:
        with self.db.read() as db:
            row = db.execute(
                "SELECT revoked_at FROM keys WHERE content_id=? AND key_id=?", (content_id, key_id)
            ).fetchone()
        return row is not None and row[0] is None

    def list(self, content_id: str | None = None) -> list[KeyRecord]:
        query = "SELECT content_id, key_id, iv_hex, wrapping, created_at, revoked_at FROM keys"
        args: tuple = ()
        if content_id:
            query += " WHERE content_id=?"
            args = (content_id,)
        with self.db.read() as db:
            rows = db.execute(query + " ORDER BY created_at, key_id", args).fetchall()
        return [KeyRecord(*r) for r in rows]

    # --- revocation -------------------------------------------------------------------------

    @property
    def revocation_check_interval(self) -> float:
        """How long a key cache may trust its last revocation check, in seconds: 0 (every
        request) where the check is one stat(), 0.25 where it is a query to a shared database."""
        return 0.25 if self.db.dialect == POSTGRES else 0.0

    @property
    def revocation_marker(self) -> Path | None:
        """SQLite: a file replaced after every revocation; caches compare its identity with one stat()."""
        return self.db_path.with_name(self.db_path.name + ".revoked") if self.db_path else None

    def revocation_version(self) -> tuple[int, int] | None:
        """Changes whenever a key is revoked (raises StoreUnavailable when PostgreSQL is away)."""
        if self.db.dialect == POSTGRES:
            with self.db.read() as db:
                row = db.execute("SELECT version FROM key_revocations WHERE id=1").fetchone()
            return (0, row[0] if row else 0)
        marker = self.revocation_marker
        if marker is None:
            return None
        try:
            st = os.stat(marker)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns

    def revoke_run(self, run_id: str) -> int:
        """Revoke every live key a package run created (the run did not publish)."""
        if not run_id:
            return 0
        with self.db.read() as db:
            rows = db.execute(
                "SELECT content_id, key_id FROM keys WHERE run_id=? AND revoked_at IS NULL", (run_id,)
            ).fetchall()
        return sum(self.revoke(content_id, key_id) for content_id, key_id in rows)

    def revoke(self, content_id: str, key_id: str | None = None, *, keep: AbstractSet[str] = frozenset()) -> int:
        """Revoke one key, or every live key of a content id except those in ``keep``."""
        with self.db.write(f"hlskit-keys-{content_id}") as db:
            live = [
                kid
                for (kid,) in db.execute(
                    "SELECT key_id FROM keys WHERE content_id=? AND revoked_at IS NULL", (content_id,)
                ).fetchall()
            ]
            doomed = [kid for kid in live if (kid == key_id if key_id else kid not in keep)]
            if doomed:
                db.executemany(
                    "UPDATE keys SET revoked_at=? WHERE content_id=? AND key_id=?",
                    [(time.time(), content_id, kid) for kid in doomed],
                )
                db.execute("UPDATE key_revocations SET version=version+1 WHERE id=1")
        if doomed and self.revocation_marker is not None:
            # After the commit: a cache that sees the new marker re-reads the store.
            tmp = self.revocation_marker.with_name(f".{self.revocation_marker.name}.{os.getpid()}")
            tmp.write_text(secrets.token_hex(8))
            os.replace(tmp, self.revocation_marker)
        return len(doomed)
