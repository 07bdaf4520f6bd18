"""The customer stream through the social consumer (FastStream's TestKafkaBroker): link, merge, erase."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from faststream.kafka import TestKafkaBroker

from services.social.accounts import Account
from services.social.application import SocialApplication
from services.social.consumers import build_consumer
from services.social.inbox import Inbox
from services.social.interactions import Interaction
from services.social.tests.conftest import connect, mention
from shared.events import EventEnvelope, PublicEvent
from shared.events import customer as c
from shared.events.topics import CUSTOMER
from shared.platform.kafka import KafkaSettings, make_broker

NOW = datetime(2026, 3, 3, 10, tzinfo=UTC)


def wrap(event: PublicEvent, aggregate: UUID, version: int) -> EventEnvelope:
    return EventEnvelope.wrap(
        event, source="/crm/customer", aggregate_id=aggregate, aggregate_version=version, time=NOW
    )


async def test_customer_events_link_repoint_and_erase(app: SocialApplication) -> None:
    kafka = KafkaSettings()
    broker = make_broker(kafka)
    build_consumer(app, kafka).subscribe(broker)
    account = app.load(Account, connect(app))
    interaction_id, _ = Inbox(app).receive(account, "d-1", mention(author_email="wang.fang@example.cn"))
    customer, survivor = uuid4(), uuid4()
    registered = c.CustomerRegisteredV1(
        customer_id=customer, name="王芳", emails=["wang.fang@example.cn"], phones=[], source="web"
    )
    stream = [
        wrap(registered, customer, 1),
        wrap(registered, customer, 1),  # redelivered
        wrap(c.CustomerMergedV1(customer_id=customer, survivor_id=survivor), customer, 2),
        wrap(c.CustomerErasedV1(customer_id=survivor), survivor, 5),
    ]
    async with TestKafkaBroker(broker) as test_broker:
        for envelope in stream[:2]:
            await test_broker.publish(envelope.body(), CUSTOMER, key=envelope.key, headers=envelope.headers())
        linked = app.load(Interaction, interaction_id)
        assert (linked.customer_id, linked.link_method) == (customer, "email")
        for envelope in stream[2:]:
            await test_broker.publish(envelope.body(), CUSTOMER, key=envelope.key, headers=envelope.headers())
    final = app.load(Interaction, interaction_id)
    assert (final.customer_id, final.text, final.erased) == (survivor, "", True)
    assert app.pii_keys.existing_key(interaction_id) is None
