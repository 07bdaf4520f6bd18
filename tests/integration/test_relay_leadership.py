"""Single-active relays on the real servers: two relay processes over one PostgreSQL store.

The standby must publish nothing while the leader lives (its metrics say so), and must
take over when the leader is killed, so every registered customer reaches Kafka.
"""

from __future__ import annotations

import re
import signal
from typing import Any

import httpx
import pytest

from crm.devstack import Running, free_port
from shared.events.topics import CUSTOMER
from shared.platform.eventstore import EventStoreSettings
from shared.platform.leadership import AdvisoryLock, connection_kwargs
from tests.integration.platform import Platform, eventually

pytestmark = pytest.mark.parametrize("store_backend", ["postgres"])


def register(platform: Platform, name: str) -> str:
    body: dict[str, Any] = {"name": name, "emails": [f"{abs(hash(name))}@example.cn"]}
    response = httpx.post(f"{platform.url('customer')}/customers", json=body, headers=platform.headers("sales_rep"))
    assert response.status_code == 201, response.text
    customer_id: str = response.json()["id"]
    return customer_id


def metric(port: int, name: str) -> float:
    """A relay process's metric value (summed over label sets), 0 when absent."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    return sum(float(m) for m in re.findall(rf"^{name}\{{[^}}]*\}} (\S+)$", text, re.MULTILINE))


def start_relay(platform: Platform) -> tuple[Running, int]:
    port = free_port()
    running = platform.start("customer-relay", CRM_CUSTOMER_RELAY_METRICS_PORT=str(port))
    eventually(lambda: _answers(port), what="relay metrics endpoint")
    return running, port


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def event_ids(platform: Platform) -> list[str]:
    return [dict(r.headers)["ce_id"].decode() for r in platform.records(CUSTOMER)]


def test_only_one_relay_publishes_and_the_standby_takes_over(platform: Platform) -> None:
    platform.start("customer")
    first, first_port = start_relay(platform)
    eventually(lambda: metric(first_port, "crm_relay_leader") == 1, what="first relay leads")
    second, second_port = start_relay(platform)

    before = [register(platform, f"领导者{i}") for i in range(5)]
    eventually(lambda: metric(first_port, "crm_relay_published_total") >= len(before), what="leader published")
    assert metric(second_port, "crm_relay_leader") == 0
    assert metric(second_port, "crm_relay_published_total") == 0, "the standby published while the leader lived"

    first.kill(signal.SIGKILL)
    after = [register(platform, f"接班人{i}") for i in range(5)]
    eventually(lambda: metric(second_port, "crm_relay_leader") == 1, timeout=30, what="standby takes over")
    with platform.store() as store:  # held open: a temporary app may be collected, closing its pool, mid-call
        stored = store.recorder.max_notification_id() or 0
    assert stored >= len(before) + len(after)
    eventually(lambda: len(set(event_ids(platform))) >= stored, what="every stored event on Kafka")
    ids = event_ids(platform)
    assert len(ids) == len(set(ids)) == stored, "the leader was idle when killed: nothing published twice"
    keys = {r.key.decode() for r in platform.records(CUSTOMER) if r.key}
    assert keys == set(before) | set(after)
    second.kill()


def test_the_lock_admits_one_session_and_frees_with_it(platform: Platform) -> None:
    prefix = "CRM_CUSTOMER_STORE__"
    fields = {k[len(prefix) :].lower(): v for k, v in platform.stack.env.items() if k.startswith(prefix)}
    connect = connection_kwargs(EventStoreSettings(**fields))
    one, two = AdvisoryLock("crm:relay:test", connect), AdvisoryLock("crm:relay:test", connect)
    other = AdvisoryLock("crm:relay:other", connect)
    try:
        assert one.try_acquire()
        assert one.held()
        assert not two.try_acquire()
        assert not two.held()
        assert other.try_acquire(), "locks of other relays are independent"
        one.release()
        assert not one.held()
        assert eventually(two.try_acquire, what="lock free once its session ended")
    finally:
        for lock in (one, two, other):
            lock.release()
