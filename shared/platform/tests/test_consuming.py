"""A service's event consumer: handlers called once per event, bad messages dead-lettered, others skipped."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from aiokafka.structs import ConsumerRecord
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from shared.events import EventEnvelope, PublicEvent
from shared.events.customer import (
    CustomerConsentChangedV1,
    CustomerErasedV1,
    CustomerRegisteredV1,
    CustomerRegisteredV2,
)
from shared.events.topics import CUSTOMER, dead_letter_topic
from shared.platform.consuming import EventConsumer
from shared.platform.kafka import KafkaSettings, make_broker


def wrap(event: PublicEvent) -> EventEnvelope:
    return EventEnvelope.wrap(
        event, source="/crm/customer", aggregate_id=uuid4(), aggregate_version=1, time=datetime(2026, 1, 1, tzinfo=UTC)
    )


def setup(handlers: dict[type[PublicEvent], Any]) -> tuple[Any, EventConsumer, list[dict[str, Any]]]:
    kafka = KafkaSettings()
    broker = make_broker(kafka)
    consumer = EventConsumer("support", handlers, kafka, retry_delay=0)
    consumer.subscribe(broker)
    dead: list[dict[str, Any]] = []

    @broker.subscriber(dead_letter_topic("support"))
    async def collect(message: KafkaMessage) -> None:
        dead.append(dict(message.headers))

    return broker, consumer, dead


async def publish(broker: Any, envelope: EventEnvelope) -> None:
    await broker.publish(envelope.body(), CUSTOMER, key=envelope.key, headers=envelope.headers())


async def test_a_plain_function_handler_gets_the_typed_event() -> None:
    seen: list[PublicEvent] = []
    broker, consumer, dead = setup({CustomerErasedV1: lambda envelope, event: seen.append(event)})
    erased = CustomerErasedV1(customer_id=uuid4())
    async with TestKafkaBroker(broker) as test_broker:
        await publish(test_broker, wrap(erased))
    assert seen == [erased]
    assert consumer.handled == 1
    assert dead == []


async def test_events_without_a_handler_are_skipped_not_dead_lettered() -> None:
    seen: list[PublicEvent] = []

    async def on_erased(envelope: EventEnvelope, event: CustomerErasedV1) -> None:
        seen.append(event)

    broker, _, dead = setup({CustomerErasedV1: on_erased})
    async with TestKafkaBroker(broker) as test_broker:
        await publish(test_broker, wrap(CustomerConsentChangedV1(customer_id=uuid4(), channel="sms", granted=False)))
        await publish(test_broker, wrap(CustomerErasedV1(customer_id=uuid4())))
        unknown = wrap(CustomerErasedV1(customer_id=uuid4())).model_copy(update={"type": "crm.customer.moved.v9"})
        await publish(test_broker, unknown)
    assert len(seen) == 1
    assert dead == []


async def test_a_failing_handler_dead_letters_the_message_and_the_next_one_is_handled() -> None:
    poison, fine = uuid4(), uuid4()
    seen: list[Any] = []

    def on_erased(envelope: EventEnvelope, event: CustomerErasedV1) -> None:
        if event.customer_id == poison:
            raise ValueError("a bug in the handler")
        seen.append(event.customer_id)

    broker, _, dead = setup({CustomerErasedV1: on_erased})
    async with TestKafkaBroker(broker) as test_broker:
        await publish(test_broker, wrap(CustomerErasedV1(customer_id=poison)))
        await publish(test_broker, wrap(CustomerErasedV1(customer_id=fine)))
    assert seen == [fine]
    assert len(dead) == 1
    assert "ValueError: a bug in the handler" in dead[0]["dlq_error"]
    assert dead[0]["dlq_group"] == "support"


async def test_malformed_messages_are_dead_lettered() -> None:
    broker, _, dead = setup({CustomerErasedV1: lambda envelope, event: None})
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(b"{not json", CUSTOMER, headers={"ce_type": "crm.customer.erased.v1"})
    assert "MalformedEnvelope" in dead[0]["dlq_error"]


async def test_a_transient_error_is_raised_so_the_message_is_read_again() -> None:
    kafka = KafkaSettings()

    def down(envelope: EventEnvelope, event: CustomerErasedV1) -> None:
        raise ConnectionRefusedError("store is down")

    consumer = EventConsumer("support", {CustomerErasedV1: down}, kafka, retry_delay=0)
    envelope = wrap(CustomerErasedV1(customer_id=uuid4()))

    record = ConsumerRecord(
        CUSTOMER,
        0,
        0,
        0,
        0,
        envelope.key,
        envelope.body(),
        None,
        0,
        0,
        [(k, v.encode()) for k, v in envelope.headers().items()],
    )
    with pytest.raises(ConnectionRefusedError):
        await consumer.handle(make_broker(kafka), record)
    assert consumer.handled == 0


def test_topics_are_those_of_the_handled_events() -> None:
    consumer = EventConsumer("support", {CustomerErasedV1: lambda e, v: None}, KafkaSettings())
    assert consumer.topics == [CUSTOMER]


async def test_a_v1_message_reaches_the_handler_written_for_v2_upcast() -> None:
    seen: list[PublicEvent] = []
    broker, _, dead = setup({CustomerRegisteredV2: lambda envelope, event: seen.append(event)})
    old = CustomerRegisteredV1(
        customer_id=uuid4(), name="王芳", emails=["w@example.cn"], phones=[], source="web", address="北京市朝阳区 1 号"
    )
    async with TestKafkaBroker(broker) as test_broker:
        await publish(test_broker, wrap(old))
    assert len(seen) == 1
    assert isinstance(seen[0], CustomerRegisteredV2)
    assert seen[0].address is not None
    assert seen[0].address.lines == ["北京市朝阳区 1 号"]
    assert dead == []
