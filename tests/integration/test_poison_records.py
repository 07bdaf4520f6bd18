"""A poison record of any kind reaches its group's dead-letter topic and the partition moves on.

Before, a record whose body was not JSON (with valid `ce_*` headers and a JSON
content type) or whose header was not UTF-8 failed inside FastStream, before our handler
could park it: it was read again forever and its partition stopped, in every consumer
group, with nothing logged. Each poison record here is followed, on the same partition
(same key), by a good event; the good one must be applied.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer

from crm.dlq import dead_letters
from shared.events import EventEnvelope
from shared.events.customer import CustomerRegisteredV1
from shared.events.marketing import UnsubscribedV1
from shared.events.topics import CUSTOMER, MARKETING
from tests.integration.platform import Platform, eventually

Headers = list[tuple[str, bytes]]


def poisons(good: EventEnvelope) -> list[tuple[bytes, Headers]]:
    """(value, headers) of each kind of poison record, all looking like `good` from the outside."""
    headers = [(k, v.encode()) for k, v in good.headers().items()]
    not_utf8 = [(k, b"\xff\xfe\x00" if k == "ce_type" else v) for k, v in headers]
    without_type = [(k, v) for k, v in headers if k != "ce_type"]
    unknown = [(k, b"crm.nothing.like_this.v9" if k == "ce_type" else v) for k, v in headers]
    return [
        (b"{not json", headers),
        (b"\xff\xfe not utf-8 either", headers),
        (good.body(), not_utf8),
        (good.body(), without_type),
        (b'{"customer_id": "not-a-uuid"}', headers),
        (good.body(), unknown),
    ]


def publish(platform: Platform, topic: str, key: str, records: list[tuple[bytes, Headers]]) -> None:
    async def send() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=platform.kafka.bootstrap_servers, **platform.kafka.client_options()
        )
        await producer.start()
        try:
            for value, headers in records:
                await producer.send_and_wait(platform.kafka.topic(topic), value, key=key.encode(), headers=headers)
        finally:
            await producer.stop()

    asyncio.run(send())


def envelope(event: object, aggregate: uuid.UUID) -> EventEnvelope:
    now = datetime.now(UTC)
    return EventEnvelope.wrap(event, source="/crm/test", aggregate_id=aggregate, aggregate_version=1, time=now)  # type: ignore[arg-type]


def letters(platform: Platform, group: str) -> int:
    return len(asyncio.run(dead_letters(platform.kafka, group)))


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_every_poison_record_is_parked_and_the_next_event_is_applied(platform: Platform) -> None:
    projector = platform.start("analytics-projector")
    consumers = platform.start("customer-consumers")

    customer = uuid.uuid4()
    registered = envelope(
        CustomerRegisteredV1(customer_id=customer, name="毒 记录", emails=[], phones=[], source="web"), customer
    )
    publish(platform, CUSTOMER, str(customer), [*poisons(registered), (registered.body(), _headers(registered))])
    eventually(
        lambda: platform.mongo["customer_360"].find_one({"_id": str(customer)}) is not None,
        timeout=90,
        what=f"the good event after the poison records projected: {projector.log}",
    )
    # The unknown type is a newer event to the projector: kept on its dead-letter topic, not lost.
    eventually(lambda: letters(platform, "analytics") >= 6, timeout=60, what=f"parked: {projector.log}")

    # The customer service's consumer: the good event after the poisons is handled (parked too,
    # for a customer it does not have, which is how it proves it was read).
    missing = uuid.uuid4()
    unsubscribed = envelope(
        UnsubscribedV1(customer_id=missing, channel="email", unsubscribed_at=datetime.now(UTC)), missing
    )
    publish(platform, MARKETING, str(missing), [*poisons(unsubscribed), (unsubscribed.body(), _headers(unsubscribed))])
    eventually(lambda: letters(platform, "customer") >= 6, timeout=90, what=f"parked: {consumers.log}")
    found = asyncio.run(dead_letters(platform.kafka, "customer"))
    assert found[-1].headers["ce_type"] == "crm.marketing.unsubscribed.v1"


def _headers(good: EventEnvelope) -> Headers:
    return [(k, v.encode()) for k, v in good.headers().items()]
