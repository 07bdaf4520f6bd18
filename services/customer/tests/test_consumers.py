"""The customer service's reactions: converted leads become customers once; unsubscribes withdraw consent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.customer.application import CustomerApplication
from services.customer.consumers import CustomerReactions, WrongLeadCustomer, build_consumer
from shared.events import EventEnvelope, PublicEvent
from shared.events.marketing import UnsubscribedV1
from shared.events.sales import LeadConvertedV1, customer_id_for_lead
from shared.events.topics import MARKETING, SALES, dead_letter_topic
from shared.platform.kafka import KafkaSettings, make_broker

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)


@pytest.fixture
def app() -> Iterator[CustomerApplication]:
    with CustomerApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, default_region="CN") as application:
        yield application


def converted(lead_id: UUID, **overrides: Any) -> LeadConvertedV1:
    fields: dict[str, Any] = {
        "customer_id": customer_id_for_lead(lead_id),
        "lead_id": lead_id,
        "name": "李娜",
        "emails": ["Li.Na@Example.cn"],
        "phones": ["13912345678"],
        "source_channel": "web_form",
        "converted_by": "rep@example.com",
        "converted_at": NOW,
    }
    return LeadConvertedV1(**(fields | overrides))


def wrap(event: PublicEvent, aggregate: UUID) -> EventEnvelope:
    return EventEnvelope.wrap(event, source="/crm/test", aggregate_id=aggregate, aggregate_version=1, time=NOW)


def test_a_converted_lead_is_registered_under_the_derived_id(app: CustomerApplication) -> None:
    lead = uuid4()
    event = converted(lead)
    CustomerReactions(app).lead_converted(wrap(event, lead), event)
    customer = app.get(customer_id_for_lead(lead))
    assert customer.name == "李娜"
    assert customer.emails == ["Li.Na@example.cn"]  # the domain is case-insensitive, the local part is not
    assert customer.phones == ["+8613912345678"]
    assert customer.source == "lead"


def test_a_redelivered_conversion_registers_nothing_new(app: CustomerApplication) -> None:
    lead = uuid4()
    event = converted(lead)
    reactions = CustomerReactions(app)
    reactions.lead_converted(wrap(event, lead), event)
    head = app.recorder.max_notification_id()
    reactions.lead_converted(wrap(event, lead), event)
    assert app.recorder.max_notification_id() == head


def test_a_conversion_naming_another_customer_is_refused(app: CustomerApplication) -> None:
    lead = uuid4()
    event = converted(lead, customer_id=uuid4())
    with pytest.raises(WrongLeadCustomer):
        CustomerReactions(app).lead_converted(wrap(event, lead), event)
    assert not app.recorder.max_notification_id()


def unsubscribed(customer_id: UUID, channel: str = "email") -> UnsubscribedV1:
    return UnsubscribedV1(customer_id=customer_id, channel=channel, unsubscribed_at=NOW)


def test_an_unsubscribe_withdraws_that_channel_only_and_once(app: CustomerApplication) -> None:
    customer_id = app.register(name="Ada", emails=["ada@example.com"], phones=[], consent={"email": True, "sms": True})
    reactions = CustomerReactions(app)
    event = unsubscribed(customer_id)
    reactions.unsubscribed(wrap(event, uuid4()), event)
    consent = app.get(customer_id).consent
    assert (consent["email"], consent["sms"]) == (False, True)
    version = app.get(customer_id).version
    reactions.unsubscribed(wrap(event, uuid4()), event)
    assert app.get(customer_id).version == version


def test_an_unsubscribe_of_a_merged_customer_lands_on_the_survivor(app: CustomerApplication) -> None:
    survivor = app.register(name="Ada", emails=["ada@example.com"], phones=[], consent={"email": True})
    duplicate = app.register(name="Ada L", emails=["ada.l@example.com"], phones=[], consent={"email": True})
    app.merge(survivor_id=survivor, merged_id=duplicate)
    event = unsubscribed(duplicate)
    CustomerReactions(app).unsubscribed(wrap(event, uuid4()), event)
    assert app.get(survivor).consent["email"] is False


def test_an_unsubscribe_of_an_erased_customer_changes_nothing(app: CustomerApplication) -> None:
    customer_id = app.register(name="Ada", emails=["ada@example.com"], phones=[], consent={"email": True})
    app.erase(customer_id)
    head = app.recorder.max_notification_id()
    event = unsubscribed(customer_id)
    CustomerReactions(app).unsubscribed(wrap(event, uuid4()), event)
    assert app.recorder.max_notification_id() == head


async def test_the_consumer_handles_both_streams_and_dead_letters_an_unknown_customer(
    app: CustomerApplication,
) -> None:
    kafka = KafkaSettings()
    broker = make_broker(kafka)
    build_consumer(app, kafka).subscribe(broker)
    dead: list[dict[str, Any]] = []

    @broker.subscriber(dead_letter_topic("customer"))
    async def collect(message: KafkaMessage) -> None:
        dead.append(dict(message.headers))

    lead = uuid4()
    conversion = wrap(converted(lead), lead)
    stranger = wrap(unsubscribed(uuid4()), uuid4())
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(conversion.body(), SALES, key=conversion.key, headers=conversion.headers())
        await test_broker.publish(stranger.body(), MARKETING, key=stranger.key, headers=stranger.headers())
    assert app.get(customer_id_for_lead(lead)).name == "李娜"
    assert len(dead) == 1
    assert "CustomerNotFound" in dead[0]["dlq_error"]
