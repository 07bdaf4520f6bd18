"""The analytics projection on the real servers: merges fold into the survivor, business events, catch-up in bulk.

Customers are registered and merged through the real customer service (its event store on
SQLite and on PostgreSQL); the other streams' events about them are published to Kafka as
their relays would, so this suite needs no other service running.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from services.analytics.projection import Item
from services.analytics.tests.builders import Stream, order, publish
from tests.integration.platform import Platform, eventually


def send(platform: Platform, items: list[Item]) -> None:
    async def run() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=platform.kafka.bootstrap_servers, linger_ms=5, **platform.kafka.client_options()
        )
        await producer.start()
        try:
            await publish(producer, platform.kafka.topic, items)
        finally:
            await producer.stop()

    asyncio.run(run())


def register(platform: Platform, name: str, email: str) -> str:
    body = {"name": name, "emails": [email], "phones": [], "consent": {"email": True}}
    response = httpx.post(f"{platform.url('customer')}/customers", json=body, headers=platform.headers("sales_rep"))
    assert response.status_code == 201, response.text
    customer_id: str = response.json()["id"]
    return customer_id


def doc_of(platform: Platform, customer_id: str, check: Any) -> dict[str, Any] | None:
    doc = platform.customer_360(customer_id)
    return doc if doc is not None and check(doc) else None


def test_a_merge_folds_the_duplicate_into_the_survivor_once_and_redelivery_changes_nothing(platform: Platform) -> None:
    for name in ("customer", "customer-relay", "analytics-projector", "analytics"):
        platform.start(name)
    survivor = register(platform, "陈静", "chen.jing@example.cn")
    merged = register(platform, "陈静", "jing.chen@example.com")
    s = Stream()
    ticket, spend = str(uuid4()), str(uuid4())
    before = [
        order(s, merged, "12.50", 1),
        order(s, survivor, "30.00", 2),
        s.make("crm.support.ticket_opened.v1", ticket, merged, ticket_id=ticket),
        s.make("crm.marketing.campaign_spend_recorded.v1", spend, spend_id=spend),
    ]
    send(platform, before)
    eventually(lambda: doc_of(platform, merged, lambda d: d.get("sales", {}).get("order_count") == 1), what="order")

    response = httpx.post(
        f"{platform.url('customer')}/customers/{survivor}/merge",
        json={"merged_id": merged},
        headers=platform.headers("sales_manager"),
    )
    assert response.status_code == 200, response.text
    after = [order(s, merged, "7.25", 3)]
    send(platform, after)

    def merged_and_late_order_in(d: dict[str, Any]) -> bool:
        return bool(d["absorbed"] == [merged] and d.get("sales", {}).get("order_count") == 3)

    doc = eventually(lambda: doc_of(platform, survivor, merged_and_late_order_in), what="survivor with all orders")
    assert doc["sales"]["revenue"] == {"EUR": "49.75"}
    assert doc["support"]["open_tickets"] == 1
    assert sorted(doc["emails"]) == ["chen.jing@example.cn", "jing.chen@example.com"]
    assert platform.customer_360(merged, merged_into=survivor) is not None

    rep = platform.headers("sales_rep")
    page = httpx.get(f"{platform.url('analytics')}/customers/{survivor}/timeline?limit=100", headers=rep).json()
    subjects = {item["customer_id"] for item in page["items"]}
    assert subjects == {survivor, merged}, "the survivor's timeline lists the merged customer's events"
    business = platform.mongo["business_events"].find_one({"_id": before[-1][0].id})
    assert business is not None
    assert business["data"]["spend_id"] == spend

    snapshot = {c: platform.mongo["customer_360"].find_one({"_id": c}) for c in (survivor, merged)}
    send(platform, before + after)  # a redelivery of everything
    marker = str(uuid4())
    send(platform, [s.make("crm.marketing.campaign_spend_recorded.v1", marker, spend_id=marker)])
    eventually(lambda: platform.mongo["business_events"].count_documents({"data.spend_id": marker}), what="marker")
    assert {c: platform.mongo["customer_360"].find_one({"_id": c}) for c in (survivor, merged)} == snapshot


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_a_backlog_is_caught_up_in_bulk(platform: Platform) -> None:
    s = Stream()
    customers = [str(uuid4()) for _ in range(300)]
    backlog = [order(s, c, f"{n % 50 + 1}.00", n % 200) for n in range(2) for c in customers]
    send(platform, backlog)
    started = time.monotonic()
    platform.start("analytics-projector")
    collection = platform.mongo["customer_360"]
    eventually(
        lambda: collection.count_documents({"sales.order_count": 2}) == len(customers), timeout=120, what="backlog"
    )
    elapsed = time.monotonic() - started
    print(f"caught up {len(backlog)} events for {len(customers)} customers in {elapsed:.1f}s (incl. process start)")
    assert platform.mongo["customer_timeline"].count_documents({}) == len(backlog)
