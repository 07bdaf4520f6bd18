"""The event pipeline end to end on the real servers: customer API → store → relay → Kafka → analytics.

Every test runs once on the SQLite and once on the PostgreSQL event store.
"""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID

import httpx

from tests.integration.platform import Platform, eventually

ZHANG = {"name": "张伟", "emails": ["zhang.wei@example.cn"], "phones": ["138 1234 5678"], "consent": {"email": True}}


def register(platform: Platform, body: dict[str, Any] | None = None) -> str:
    response = httpx.post(
        f"{platform.url('customer')}/customers", json=body or ZHANG, headers=platform.headers("sales_rep")
    )
    assert response.status_code == 201, response.text
    customer_id: str = response.json()["id"]
    return customer_id


def test_a_customer_registered_over_http_appears_in_customer_360(platform: Platform) -> None:
    platform.start_pipeline()
    customer_id = register(platform)
    doc = eventually(lambda: platform.customer_360(customer_id), what="customer in the 360")
    assert doc["name"] == "张伟"
    assert doc["phones"] == ["+8613812345678"]
    assert doc["consent"]["email"] is True


def test_later_changes_and_erasure_reach_the_projection(platform: Platform) -> None:
    platform.start_pipeline()
    customer_id = register(platform)
    url = f"{platform.url('customer')}/customers/{customer_id}"
    rep = platform.headers("sales_rep")
    assert httpx.patch(url, json={"tags": ["VIP"]}, headers=rep).status_code == 200
    eventually(lambda: platform.customer_360(customer_id, tags=["vip"]), what="tag in the 360")
    assert httpx.delete(url, headers=platform.headers("admin")).status_code == 204
    doc = eventually(lambda: platform.customer_360(customer_id, erased=True), what="erasure in the 360")
    assert (doc["name"], doc["emails"], doc["phones"]) == (None, [], [])
    timeline = platform.mongo["customer_timeline"].find({"customer_id": customer_id})
    assert all(entry["data"] == {} for entry in timeline)
    store = platform.store()
    assert store.pii_keys.existing_key(UUID(customer_id)) is None, "the customer's key is shredded"
    raw = b"".join(n.state for n in store.recorder.select_notifications(start=1, limit=100))
    assert b"zhang.wei@example.cn" not in raw
    assert store.get(UUID(customer_id)).erased


def test_concurrent_writers_one_wins_the_other_gets_409(platform: Platform) -> None:
    platform.start("customer")
    customer_id = register(platform)
    url = f"{platform.url('customer')}/customers/{customer_id}"
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def write(n: int) -> None:
        barrier.wait()
        body = {"expected_version": 1, "name": f"Writer {n}"}
        statuses.append(httpx.patch(url, json=body, headers=platform.headers("sales_rep"), timeout=30).status_code)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [409] * 7
