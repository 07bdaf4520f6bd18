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
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from crm.dlq import dead_letters
from shared.events import EventEnvelope
from shared.events.customer import CustomerErasedV1, CustomerRegisteredV1
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


def committed(platform: Platform, group: str, topic: str, partition: int) -> int:
    """The offset consumer group `group` has committed on one partition (0 if none yet)."""

    async def read() -> int:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=platform.kafka.bootstrap_servers, **platform.kafka.client_options()
        )
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(platform.kafka.group(group))
        finally:
            await admin.close()
        found = offsets.get(TopicPartition(platform.kafka.topic(topic), partition))
        return found.offset if found is not None and found.offset >= 0 else 0

    return asyncio.run(read())


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_every_other_group_parks_each_poison_and_moves_past_it(platform: Platform) -> None:
    """sales, marketing, support and social all read the customer stream: one partition, seven poisons, one event.

    Each group parks every malformed record and every record of a type it handles that
    breaks its schema (for all four, an erasure with no valid customer id); a type it does
    not handle, unknown ones included, is not its business and is skipped. Then it applies
    the good event.
    """
    groups = {"sales": "sales-consumers", "marketing": "marketing-consumers", "support": "support-consumers",
              "social": "social-consumers"}  # fmt: skip
    running = {group: platform.start(process) for group, process in groups.items()}
    customer = uuid.uuid4()
    registered = envelope(
        CustomerRegisteredV1(customer_id=customer, name="毒 记录", emails=[], phones=[], source="web"), customer
    )
    erased = envelope(CustomerErasedV1(customer_id=customer), customer)
    invalid_erasure = (b'{"customer_id": "not-a-uuid"}', _headers(erased))
    records = [*poisons(registered), invalid_erasure, (registered.body(), _headers(registered))]
    publish(platform, CUSTOMER, str(customer), records)
    [last] = [r for r in platform.records(CUSTOMER) if r.key == str(customer).encode()][-1:]
    partition, end = int(last.partition), int(last.offset) + 1
    for group in groups:

        def moved_on(group: str = group) -> bool:
            return committed(platform, group, CUSTOMER, partition) >= end

        eventually(moved_on, timeout=90, what=f"{group} moved past every record: {running[group].log}")
        parked = asyncio.run(dead_letters(platform.kafka, group))
        errors = [p.error[:80] for p in parked]
        assert sum(p.error.startswith("MalformedEnvelope") for p in parked) == 4, (group, errors)
        assert parked[-1].headers["ce_type"] == "crm.customer.erased.v1", (group, errors)
        assert all(p.offset < end - 1 for p in parked), (group, errors)  # the good event was applied, not parked
        assert not any(p.headers.get("ce_type") == "crm.nothing.like_this.v9" for p in parked), (group, errors)
