"""Delivery guarantees on the real servers: nothing lost, poison parked, replays identical.

Every test runs once on the SQLite and once on the PostgreSQL event store.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import signal
import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from services.customer.application import CustomerApplication
from shared.events import EventEnvelope
from shared.events.topics import CUSTOMER, dead_letter_topic
from tests.integration.platform import Platform, eventually


def register_many(app: CustomerApplication, count: int, offset: int = 0) -> list[str]:
    return [
        str(app.register(name=f"客户 {offset + n}", emails=[f"c{offset + n}@example.com"], phones=[]))
        for n in range(count)
    ]


def test_a_sigkilled_relay_restarted_mid_stream_loses_no_event(platform: Platform) -> None:
    app = platform.store()
    first = register_many(app, 800)
    relay = platform.start("customer-relay", CRM_CUSTOMER_RELAY_BATCH_SIZE="1")
    published = eventually(
        lambda: platform.end_offsets(CUSTOMER) >= 20 and platform.end_offsets(CUSTOMER), what="relay under way"
    )
    relay.kill(signal.SIGKILL)
    assert published < 800, "the relay must be killed mid-stream"
    second = register_many(app, 100, offset=800)  # written while no relay runs
    platform.start("customer-relay", CRM_CUSTOMER_RELAY_BATCH_SIZE="500")
    eventually(lambda: platform.end_offsets(CUSTOMER) >= 900, timeout=120, what="all events published")

    records = platform.records(CUSTOMER)
    published_ids = {EventEnvelope.from_kafka(r.headers, r.value or b"").subject for r in records}
    assert published_ids == set(first + second)

    platform.start("analytics-projector")
    customers = platform.mongo["customer_360"]
    eventually(lambda: customers.count_documents({}) == 900, timeout=120, what="every customer projected")
    eventually(lambda: customers.count_documents({"event_count": 1}) == 900, what="no event applied twice")


def test_a_poison_message_is_dead_lettered_while_later_events_still_apply(platform: Platform) -> None:
    platform.start_pipeline()
    poison_key = str(uuid.uuid4())
    _publish_raw(platform, b"\xff not json", key=poison_key, headers={"ce_type": "crm.customer.registered.v1"})
    customer_id = _register(platform)
    eventually(lambda: platform.customer_360(customer_id), what="later event applied")
    dead = eventually(lambda: platform.records(dead_letter_topic("analytics")), what="poison in the DLQ")
    assert len(dead) == 1
    headers = {k: v.decode() for k, v in dead[0].headers}
    assert dead[0].key == poison_key.encode()
    assert dead[0].value == b"\xff not json"
    assert "MalformedEnvelope" in headers["dlq_error"]
    assert headers["dlq_topic"] == platform.kafka.topic(CUSTOMER)


def test_replaying_the_stream_in_a_new_group_gives_byte_identical_documents(platform: Platform) -> None:
    app = platform.store()
    ids = register_many(app, 50)
    for customer_id in ids[:10]:
        app.change_consent(uuid.UUID(customer_id), expected_version=None, channel="sms", granted=True)
    app.erase(uuid.UUID(ids[10]))
    platform.start("customer-relay")
    platform.start("analytics-projector")
    live = platform.mongo["customer_360"]

    def caught_up(customers: Any) -> bool:
        """All 61 events applied: 50 registrations, 10 consent changes, 1 erasure."""
        counts = (
            customers.count_documents({}),
            customers.count_documents({"consent.sms": True}),
            customers.count_documents({"erased": True}),
        )
        return counts == (50, 10, 1)

    eventually(lambda: caught_up(live), what="live projection caught up")
    first = _checksum(live.find().sort("_id"))

    replica = platform.mongo.client[platform.mongo.name + "_replay"]
    try:
        platform.stack.env.update(CRM_ANALYTICS_DATABASE=replica.name, CRM_ANALYTICS_GROUP_ID="analytics-replay")
        platform.start("analytics-projector")  # replaces the running one's handle; both run
        eventually(lambda: caught_up(replica["customer_360"]), what="replay caught up")
        assert _checksum(replica["customer_360"].find().sort("_id")) == first
    finally:
        platform.mongo.client.drop_database(replica.name)


def _checksum(documents: Any) -> str:
    digest = hashlib.sha256()
    for doc in documents:
        digest.update(json.dumps(doc, sort_keys=False, ensure_ascii=False, default=str).encode())
    return digest.hexdigest()


def _register(platform: Platform) -> str:
    body = {"name": "Ada", "emails": ["ada@example.com"]}
    response = httpx.post(f"{platform.url('customer')}/customers", json=body, headers=platform.headers("sales_rep"))
    assert response.status_code == 201, response.text
    customer_id: str = response.json()["id"]
    return customer_id


def _publish_raw(platform: Platform, value: bytes, *, key: str, headers: dict[str, str]) -> None:
    async def send() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=platform.kafka.bootstrap_servers, **platform.kafka.client_options()
        )
        await producer.start()
        try:
            await producer.send_and_wait(
                platform.kafka.topic(CUSTOMER),
                value,
                key=key.encode(),
                headers=[(k, v.encode()) for k, v in headers.items()],
            )
        finally:
            await producer.stop()

    asyncio.run(send())
