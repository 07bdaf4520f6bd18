"""The sales consumer on a test broker: emails remembered, clicks scored, merges followed, erasure, dead letters."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.sales.application import SalesApplication
from services.sales.consumers import build_consumer
from services.sales.deal_commands import DealInput
from services.sales.lead_commands import LeadInput
from services.sales.leads import Lead
from shared.events import EventEnvelope, PublicEvent
from shared.events import customer as c
from shared.events.marketing import LinkClickedV1
from shared.events.topics import CUSTOMER, MARKETING, dead_letter_topic
from shared.platform.auth import Principal
from shared.platform.kafka import KafkaSettings, make_broker

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)
REP = Principal("rep@example.com", frozenset({"sales_rep"}))


def wrap(event: PublicEvent, aggregate: UUID, version: int = 1) -> EventEnvelope:
    return EventEnvelope.wrap(event, source="/crm/test", aggregate_id=aggregate, aggregate_version=version, time=NOW)


async def deliver(sales: SalesApplication, *items: tuple[str, EventEnvelope | bytes]) -> list[dict[str, Any]]:
    """Publish `items` through the consumer on a test broker; the dead letters it produced."""
    kafka = KafkaSettings()
    broker = make_broker(kafka)
    build_consumer(sales, kafka).subscribe(broker)
    dead: list[dict[str, Any]] = []

    @broker.subscriber(dead_letter_topic("sales"))
    async def collect(message: KafkaMessage) -> None:
        dead.append(dict(message.headers))

    async with TestKafkaBroker(broker) as test_broker:
        for topic, item in items:
            if isinstance(item, bytes):
                await test_broker.publish(item, topic)
            else:
                await test_broker.publish(item.body(), topic, key=item.key, headers=item.headers())
    return dead


def click(customer: UUID, message: UUID) -> EventEnvelope:
    event = LinkClickedV1(
        customer_id=customer, campaign_id=uuid4(), message_id=message, url="https://x.example/春", clicked_at=NOW
    )
    return wrap(event, uuid4())


async def test_a_click_of_a_registered_customer_counts_once_for_their_open_lead() -> None:
    sales = SalesApplication()
    lead = sales.capture_lead(LeadInput("李娜", email="li.na@example.cn", source="campaign"), REP)
    customer, message = uuid4(), uuid4()
    registered = c.CustomerRegisteredV1(
        customer_id=customer, name="李娜", emails=["Li.Na@example.cn"], phones=[], source="web"
    )
    dead = await deliver(
        sales,
        (CUSTOMER, wrap(registered, customer)),
        (MARKETING, click(customer, message)),
        (MARKETING, click(customer, message)),  # redelivered
        (MARKETING, b"not an event"),
    )
    assert sales.load(Lead, lead.id).score == lead.score + 5
    assert len(dead) == 1


async def test_merge_and_erasure_reach_the_sales_records() -> None:
    sales = SalesApplication()
    merged, survivor = uuid4(), uuid4()
    deal = sales.open_opportunity(merged, DealInput("D", Decimal(1), "USD", date(2026, 5, 1)), REP, None, None)
    lead = sales.capture_lead(LeadInput("Ada", email="ada@example.com"), REP)
    contact = c.CustomerContactPointAddedV1(customer_id=survivor, kind="email", value="ada@example.com")
    await deliver(
        sales,
        (CUSTOMER, wrap(c.CustomerMergedV1(customer_id=merged, survivor_id=survivor), merged, 2)),
        (CUSTOMER, wrap(contact, survivor, 2)),
        (CUSTOMER, wrap(c.CustomerErasedV1(customer_id=survivor), survivor, 3)),
    )
    views = sales.views.catch_up()
    assert views.rows[deal.id].customer_id == survivor
    assert views.rows[lead.id].data["email"] is None
    assert sales.pii_keys.existing_key(lead.id) is None
