"""Per-subject data keys for crypto-shredding, kept beside the events they protect.

Each customer's PII in the event store is encrypted with a key of their own. Erasing
the customer deletes the key: the events stay immutable, but what they hold about the
customer can no longer be read by anyone. The keys themselves are stored sealed under a
master key when `CRM_KEYS_MASTER_KEY` is set (`keywrap.py`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, Protocol
from uuid import UUID

from psycopg.errors import DuplicateTable, UniqueViolation
from psycopg_pool import ConnectionPool
from pydantic import SecretStr

from shared.platform.eventstore import EventStoreSettings
from shared.platform.keywrap import KeySettings, KeyWrap

KEY_BYTES = 32
TABLE = "crm_subject_keys"
PAGE = 1000
"""Keys read per query when listing them all (`crm keys`)."""
CHECKPOINT_ATTEMPTS = 10
"""Tries at emptying SQLite's write-ahead log after a shred (about 2.7 s in all, while readers finish)."""

log = logging.getLogger("crm.keystore")


class KeyStore(Protocol):
    """Where the data keys live."""

    def key_for(self, subject: UUID) -> bytes:
        """The subject's key, created on first use."""

    def existing_key(self, subject: UUID) -> bytes | None:
        """The subject's key, or None if it never existed or was shredded."""

    def shred(self, subject: UUID) -> None:
        """Destroy the subject's key for good (idempotent)."""


class InMemoryKeyStore:
    """Keys in a dict: for unit tests and in-memory event stores."""

    def __init__(self) -> None:
        self._keys: dict[UUID, bytes] = {}
        self._lock = threading.Lock()

    def key_for(self, subject: UUID) -> bytes:
        with self._lock:
            return self._keys.setdefault(subject, os.urandom(KEY_BYTES))

    def existing_key(self, subject: UUID) -> bytes | None:
        return self._keys.get(subject)

    def shred(self, subject: UUID) -> None:
        with self._lock:
            self._keys.pop(subject, None)


class _SqlKeyStore(ABC):
    """What both SQL key stores do alike; each says how it runs one statement (`?` placeholders)."""

    wrap: KeyWrap
    insert_new: str
    """The statement adding a subject's key unless it has one (the dialects differ)."""

    @abstractmethod
    def _run(self, sql: str, params: tuple[object, ...]) -> tuple[list[tuple[Any, ...]], int]:
        """(rows, rows changed) of one statement in its own transaction."""

    def key_for(self, subject: UUID) -> bytes:
        self._run(self.insert_new, (str(subject), self.wrap.wrap(subject, os.urandom(KEY_BYTES))))
        key = self.existing_key(subject)
        assert key is not None
        return key

    def existing_key(self, subject: UUID) -> bytes | None:
        rows, _ = self._run(f"SELECT key FROM {TABLE} WHERE subject = ?", (str(subject),))  # noqa: S608
        if not rows:
            return None
        stored = bytes(rows[0][0])
        key, state = self.wrap.open(subject, stored)  # opened once: this read is on every event's path
        if state != "current" and self.wrap.sealing:  # unsealed, or under a previous master key: seal it now
            self._swap(subject, stored, self.wrap.wrap(subject, key))
        return key

    def rows(self) -> Iterator[tuple[UUID, bytes]]:
        """Every subject and its key as stored, in subject order, read a page at a time (no long read)."""
        after = ""
        while True:
            query = f"SELECT subject, key FROM {TABLE} WHERE subject > ? ORDER BY subject LIMIT ?"  # noqa: S608
            page, _ = self._run(query, (after, PAGE))
            yield from ((UUID(subject), bytes(stored)) for subject, stored in page)
            if len(page) < PAGE:
                return
            after = page[-1][0]

    def replace(self, subject: UUID, stored: bytes) -> str:
        """Seal `subject`'s key under the current master key: `resealed`, already `current`, or `changed`
        (another writer replaced or shredded it since `stored` was read; left as that writer left it)."""
        key, state = self.wrap.open(subject, stored)
        if state == "current" or not self.wrap.sealing:
            return "current"
        return "resealed" if self._swap(subject, stored, self.wrap.wrap(subject, key)) else "changed"

    def _swap(self, subject: UUID, stored: bytes, sealed: bytes) -> bool:
        """Store `sealed` in place of `stored` (compare and set); False if the row holds something else now."""
        update = f"UPDATE {TABLE} SET key = ? WHERE subject = ? AND key = ?"  # noqa: S608
        return self._run(update, (sealed, str(subject), stored))[1] == 1


class SQLiteKeyStore(_SqlKeyStore):
    """Keys in the service's SQLite file, sealed by `wrap`; `secure_delete` overwrites a shredded key on disk."""

    insert_new = f"INSERT OR IGNORE INTO {TABLE} VALUES (?, ?)"  # noqa: S608

    def __init__(self, path: str, wrap: KeyWrap | None = None) -> None:
        self.path = path
        self.wrap = wrap or KeyWrap()
        with self._connect() as db:
            db.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (subject TEXT PRIMARY KEY, key BLOB NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.execute("PRAGMA secure_delete = ON")
        return db

    def _run(self, sql: str, params: tuple[object, ...]) -> tuple[list[tuple[Any, ...]], int]:
        with self._connect() as db:
            cursor = db.execute(sql, params)
            return cursor.fetchall(), cursor.rowcount

    def shred(self, subject: UUID) -> None:
        with self._connect() as db:
            db.execute(f"DELETE FROM {TABLE} WHERE subject = ?", (str(subject),))  # noqa: S608
            self._empty_the_log(db)

    def _empty_the_log(self, db: sqlite3.Connection) -> None:
        """Checkpoint the write-ahead log and truncate it to nothing.

        `secure_delete` zeroes the deleted key in the page's new version, but in WAL mode
        the page's earlier versions, key included, stay in the `-wal` file until a
        checkpoint lets it be overwritten (measured: the key's 32 bytes were still there
        seconds after an erasure). A TRUNCATE checkpoint writes the zeroed page into the
        database file and empties the log; it waits for readers, so it is retried briefly.
        """
        for attempt in range(CHECKPOINT_ATTEMPTS):
            busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return
            time.sleep(0.05 * (attempt + 1))
        log.warning("%s: write-ahead log in use; a shredded key's old page stays in it until a checkpoint", self.path)


class PostgresKeyStore(_SqlKeyStore):
    """Keys in the service's PostgreSQL database.

    A deleted row stays on disk until VACUUM reclaims it; autovacuum does so soon after,
    and operators who need proof can run `VACUUM crm_subject_keys` after an erasure.
    """

    insert_new = f"INSERT INTO {TABLE} VALUES (?, ?) ON CONFLICT (subject) DO NOTHING"  # noqa: S608

    def __init__(self, store: EventStoreSettings, wrap: KeyWrap | None = None) -> None:
        self.wrap = wrap or KeyWrap()
        conninfo = (
            f"host={store.postgres_host} port={store.postgres_port} dbname={store.postgres_db} "
            f"user={store.postgres_user} password={store.postgres_password.get_secret_value()}"
        )
        self.pool = ConnectionPool(conninfo, min_size=1, max_size=4, kwargs={"autocommit": True}, open=True)
        with self.pool.connection() as db, contextlib.suppress(UniqueViolation, DuplicateTable):
            # IF NOT EXISTS still races when replicas start together; the loser's table exists.
            db.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (subject TEXT PRIMARY KEY, key BYTEA NOT NULL)")

    def _run(self, sql: str, params: tuple[object, ...]) -> tuple[list[tuple[Any, ...]], int]:
        with self.pool.connection() as db:
            cursor = db.execute(sql.replace("?", "%s"), params)  # our statements only: no "?" in them but these
            return (cursor.fetchall() if cursor.description else []), cursor.rowcount

    def shred(self, subject: UUID) -> None:
        self._run(f"DELETE FROM {TABLE} WHERE subject = ?", (str(subject),))  # noqa: S608


class SealedKeyStore(Protocol):
    """A key store on disk, whose keys can be listed and sealed again (`crm keys`)."""

    wrap: KeyWrap

    def rows(self) -> Iterator[tuple[UUID, bytes]]:
        """Every subject and its key as stored."""

    def replace(self, subject: UUID, stored: bytes) -> str:
        """Seal the key under the current master key: `resealed`, already `current`, or `changed` meanwhile."""


def key_states(keys: SealedKeyStore) -> Counter[str]:
    """How many keys are sealed under the current master key, under a previous one, or not at all.

    A key no configured master key opens raises `KeyWrapError`.
    """
    return Counter(keys.wrap.open(subject, stored)[1] for subject, stored in keys.rows())


def reseal_all(keys: SealedKeyStore, step: Callable[[], None] = lambda: None) -> Counter[str]:
    """Seal every key under the current master key (after a rotation, or once a master key is set).

    Each key is replaced only if it is still what was read (a key shredded or sealed by a
    running service meanwhile is left as that writer left it). Returns how many keys were
    `resealed`, already `current`, or `changed` meanwhile; `step` is called once per key.
    """
    done: Counter[str] = Counter()
    for subject, stored in keys.rows():
        done[keys.replace(subject, stored)] += 1
        step()
    return done


def keystore_for(env: Callable[[str], str | None], wrap: KeyWrap | None = None) -> KeyStore:
    """The key store that lives with the event store an `eventsourcing` environment names.

    Its keys are sealed by `wrap`, by default the one `CRM_KEYS_MASTER_KEY` configures.
    """
    module = env("PERSISTENCE_MODULE") or ""
    wrap = wrap or KeyWrap.from_settings(KeySettings())
    if module.endswith("postgres"):
        return PostgresKeyStore(
            EventStoreSettings(
                backend="postgres",
                postgres_host=env("POSTGRES_HOST") or "127.0.0.1",
                postgres_port=int(env("POSTGRES_PORT") or 5432),
                postgres_user=env("POSTGRES_USER") or "crm",
                postgres_password=SecretStr(env("POSTGRES_PASSWORD") or ""),
                postgres_db=env("POSTGRES_DBNAME") or "crm",
            ),
            wrap,
        )
    path = env("SQLITE_DBNAME") or ""
    if module.endswith("sqlite") and path not in (":memory:", "") and "mode=memory" not in path:
        return SQLiteKeyStore(path, wrap)
    return InMemoryKeyStore()
