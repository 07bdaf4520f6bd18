"""The `support` consumer group on a test broker: escalations open tickets, poison goes to the dead letters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.support.application import SupportApplication
from services.support.consumers import build_consumer, ticket_id_for
from shared.events import EventEnvelope
from shared.events.social import InteractionEscalatedV1
from shared.events.topics import SOCIAL, dead_letter_topic
from shared.platform.kafka import KafkaSettings, make_broker

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


async def test_escalations_open_tickets_and_a_poison_message_is_dead_lettered() -> None:
    app = SupportApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    kafka = KafkaSettings()
    broker = make_broker(kafka)
    build_consumer(app, kafka).subscribe(broker)
    dead: list[dict[str, Any]] = []

    @broker.subscriber(dead_letter_topic("support"))
    async def collect(message: KafkaMessage) -> None:
        dead.append(dict(message.headers))

    event = InteractionEscalatedV1(
        customer_id=uuid4(),
        interaction_id=uuid4(),
        account_id=uuid4(),
        platform="wechat",
        kind="direct_message",
        author_handle="李雷",
        text="退款什么时候到账？",
        sentiment="neutral",
        priority="P3",
        reason="refund question",
        escalated_by="community@example.com",
        escalated_at=NOW,
    )
    good = EventEnvelope.wrap(
        event, source="/crm/social", aggregate_id=event.interaction_id, aggregate_version=1, time=NOW
    )
    poison_headers = good.headers()
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(good.body(), SOCIAL, key=good.key, headers=good.headers())
        await test_broker.publish(b'{"interaction_id": "not-a-uuid"}', SOCIAL, key=good.key, headers=poison_headers)
    ticket = app.ticket(ticket_id_for(event.interaction_id))
    assert (ticket.channel, ticket.priority, ticket.category) == ("social", "P3", "social")
    assert len(dead) == 1
