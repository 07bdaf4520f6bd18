"""Single-active relays: leader election through a PostgreSQL session advisory lock.

Two relay pods of one service must never publish concurrently (Kubernetes runs two
for availability). The lock lives on a dedicated connection, separate from the event
store's pool, so it is held exactly as long as that session lives: a clean stop
closes the connection, and a killed pod's connection is dropped by the server (TCP
keepalives bound how long a silently vanished peer keeps it). The key is derived
from the relay's name, so every service has its own lock in the shared database.

SQLite stores need no election: a SQLite file serves one process on one machine.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

import psycopg
from prometheus_client import Gauge

from shared.platform.eventstore import EventStoreSettings
from shared.platform.outbox import wait_unless_stopped

log = logging.getLogger("crm.leadership")

IS_LEADER = Gauge("crm_relay_leader", "1 while this process holds its relay's leadership lock.", ["name"])


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for `name` (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def connection_kwargs(store: EventStoreSettings) -> dict[str, Any]:
    """psycopg connection arguments for `store`, with keepalives so a vanished peer loses its lock quickly."""
    return {
        "host": store.postgres_host,
        "port": store.postgres_port,
        "user": store.postgres_user,
        "password": store.postgres_password.get_secret_value(),
        "dbname": store.postgres_db,
        "autocommit": True,
        "connect_timeout": 5,
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 3,
        "application_name": "crm-leadership",
    }


class AdvisoryLock:
    """A session advisory lock on its own connection; blocking calls, run them in a thread."""

    def __init__(self, name: str, connect: dict[str, Any]) -> None:
        self.name = name
        self.key = lock_key(name)
        self._connect = connect
        self._conn: psycopg.Connection[Any] | None = None

    def try_acquire(self) -> bool:
        """Take the lock if it is free; False when another session holds it or the database is unreachable."""
        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(**self._connect)
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        except psycopg.Error as exc:
            log.warning("leadership %s: database unreachable (%s)", self.name, exc)
            self.release()
            return False
        return bool(row and row[0])

    def held(self) -> bool:
        """Whether our session still holds the lock (False once the connection is gone)."""
        if self._conn is None or self._conn.closed:
            return False
        try:
            row = self._conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                "AND granted AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = %s",
                (self.key,),
            ).fetchone()
        except psycopg.Error as exc:
            log.warning("leadership %s: lost the lock connection (%s)", self.name, exc)
            self.release()
            return False
        return bool(row and row[0])

    def release(self) -> None:
        """Give the lock up by ending the session (the server releases session locks with it)."""
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            try:
                conn.close()
            except psycopg.Error:
                log.debug("leadership %s: close failed", self.name, exc_info=True)


class Leadership:
    """Waits to become the single active instance, then watches that it stays so."""

    def __init__(self, lock: AdvisoryLock, poll: float = 1.0) -> None:
        self.lock = lock
        self.poll = poll
        self.leading = False

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Block as a standby until the lock is ours (True) or `stop` is set (False)."""
        waiting_logged = False
        while not stop.is_set():
            if await asyncio.to_thread(self.lock.try_acquire):
                self._set(True)
                log.info("leadership %s: acquired, this process is now active", self.lock.name)
                return True
            if not waiting_logged:
                log.info("leadership %s: standby, another process is active", self.lock.name)
                waiting_logged = True
            await wait_unless_stopped(stop, self.poll)
        return False

    async def watch(self, stop: asyncio.Event, lost: asyncio.Event) -> None:
        """Set `lost` as soon as the lock is no longer ours; return when `stop` is set."""
        while not stop.is_set():
            if not await asyncio.to_thread(self.lock.held):
                self._set(False)
                log.error("leadership %s: lost the lock, stopping to avoid publishing twice", self.lock.name)
                lost.set()
                return
            await wait_unless_stopped(stop, self.poll)

    async def check(self) -> None:
        """Raise `LeadershipLost` unless the lock is still ours (called before each publish)."""
        if not await asyncio.to_thread(self.lock.held):
            self._set(False)
            raise LeadershipLost(self.lock.name)

    def release(self) -> None:
        """Step down (blocking)."""
        self.lock.release()
        self._set(False)

    def _set(self, leading: bool) -> None:
        self.leading = leading
        IS_LEADER.labels(self.lock.name).set(1 if leading else 0)


class LeadershipLost(RuntimeError):
    """The lock was lost; the process must stop publishing."""

    def __init__(self, name: str) -> None:
        super().__init__(f"leadership {name} lost")


def leadership_for(name: str, store: EventStoreSettings, poll: float = 1.0) -> Leadership | None:
    """The leader election for relay `name` over `store`; None for SQLite (single process by construction)."""
    if store.backend != "postgres":
        return None
    return Leadership(AdvisoryLock(f"crm:{name}", connection_kwargs(store)), poll=poll)
