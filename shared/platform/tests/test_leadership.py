"""Leader election for relays: key derivation, standby/active transitions, the publish guard."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Sequence
from typing import Any, cast

import pytest

from shared.events import EventEnvelope
from shared.platform.eventstore import EventStoreSettings
from shared.platform.leadership import AdvisoryLock, Leadership, LeadershipLost, leadership_for, lock_key
from shared.platform.relaying import guarded, serve


class ScriptedLock(AdvisoryLock):
    """An advisory lock whose answers the test decides, standing in for PostgreSQL."""

    def __init__(self, free_after: int = 0) -> None:
        super().__init__("crm:relay:test", {})
        self.attempts = 0
        self.free_after = free_after
        self.owned = False
        self.released = 0

    def try_acquire(self) -> bool:
        self.attempts += 1
        self.owned = self.attempts > self.free_after
        return self.owned

    def held(self) -> bool:
        return self.owned

    def release(self) -> None:
        self.owned = False
        self.released += 1


def test_lock_key_is_stable_signed_64_bit_and_distinct_per_relay() -> None:
    assert lock_key("crm:relay:customer") == lock_key("crm:relay:customer")
    assert lock_key("crm:relay:customer") != lock_key("crm:relay:sales")
    assert -(2**63) <= lock_key("crm:relay:customer") < 2**63


def test_sqlite_stores_need_no_election_and_postgres_ones_get_one() -> None:
    assert leadership_for("relay:customer", EventStoreSettings(backend="sqlite")) is None
    elected = leadership_for("relay:customer", EventStoreSettings(backend="postgres"))
    assert elected is not None
    assert elected.lock.key == lock_key("crm:relay:customer")


def test_standby_waits_until_the_lock_is_free() -> None:
    lock = ScriptedLock(free_after=3)
    leadership = Leadership(lock, poll=0.001)
    assert asyncio.run(leadership.acquire(asyncio.Event()))
    assert lock.attempts == 4
    assert leadership.leading


def test_standby_gives_up_waiting_when_stopped() -> None:
    lock = ScriptedLock(free_after=10**9)

    async def scenario() -> bool:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.02, stop.set)
        return await Leadership(lock, poll=0.001).acquire(stop)

    assert not asyncio.run(scenario())


def test_watch_signals_a_lost_lock() -> None:
    lock = ScriptedLock()
    leadership = Leadership(lock, poll=0.001)

    async def scenario() -> bool:
        stop, lost = asyncio.Event(), asyncio.Event()
        await leadership.acquire(stop)
        asyncio.get_running_loop().call_later(0.02, lambda: setattr(lock, "owned", False))
        await asyncio.wait_for(leadership.watch(stop, lost), 1)
        return lost.is_set()

    assert asyncio.run(scenario())
    assert not leadership.leading


def test_guard_refuses_to_publish_without_the_lock() -> None:
    lock = ScriptedLock()
    leadership = Leadership(lock)
    sent: list[int] = []

    async def publish(envelopes: Sequence[EventEnvelope]) -> None:
        sent.append(len(envelopes))

    send = guarded(publish, leadership)

    async def scenario() -> None:
        await leadership.acquire(asyncio.Event())
        await send([])
        lock.owned = False
        with pytest.raises(LeadershipLost):
            await send([])

    asyncio.run(scenario())
    assert sent == [0]


def test_release_ends_the_session() -> None:
    lock = ScriptedLock()
    leadership = Leadership(lock)
    asyncio.run(leadership.acquire(asyncio.Event()))
    leadership.release()
    assert lock.released == 1
    assert not leadership.leading


class RecordingBroker:
    """Stands in for the Kafka broker: serve() only starts and stops it."""

    def __init__(self) -> None:
        self.started = self.stopped = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True


class RecordingRelay:
    """Stands in for the relay: records when it ran, and runs until told to stop."""

    name = "relay:test"

    def __init__(self, lock: ScriptedLock) -> None:
        self.lock = lock
        self.ran_while_owned: bool | None = None

    def position(self) -> int:
        return 0

    async def run(self, stop: asyncio.Event) -> None:
        self.ran_while_owned = self.lock.owned
        await stop.wait()


def test_serve_relays_only_once_elected_and_stops_when_the_lock_is_lost() -> None:
    lock = ScriptedLock(free_after=2)
    relay, broker = RecordingRelay(lock), RecordingBroker()

    async def scenario() -> bool:
        asyncio.get_running_loop().call_later(0.1, lambda: setattr(lock, "owned", False))
        served = serve(cast(Any, relay), cast(Any, broker), leadership=Leadership(lock, poll=0.005))
        return await asyncio.wait_for(served, 5)

    assert asyncio.run(scenario()) is False, "serve reports the lost leadership"
    assert relay.ran_while_owned is True
    assert lock.attempts == 3
    assert broker.stopped
    assert lock.released == 1


def test_serve_without_leadership_relays_at_once() -> None:
    lock = ScriptedLock()
    relay, broker = RecordingRelay(lock), RecordingBroker()

    async def scenario() -> bool:
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, lambda: os.kill(os.getpid(), signal.SIGTERM))
        return await asyncio.wait_for(serve(cast(Any, relay), cast(Any, broker)), 5)

    assert asyncio.run(scenario()) is True
    assert broker.started
    assert broker.stopped
    assert lock.attempts == 0
