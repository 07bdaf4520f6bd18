"""Events as relays would publish them, for the projection's unit and integration tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from services.analytics.projection import Item
from shared.events import REGISTRY, EventEnvelope
from shared.events.tests.test_contract import SAMPLES

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


class Stream:
    """Builds any event from its contract sample, enveloped as relays do.

    One version counter per aggregate; the clock ticks a minute per event.
    """

    def __init__(self) -> None:
        self.versions: dict[str, int] = {}
        self.tick = 0

    def make(self, event_type: str, aggregate: str, customer: str | None = None, **data: Any) -> Item:
        model = REGISTRY.model(event_type)
        body = {**SAMPLES[event_type], **({"customer_id": customer} if customer else {}), **data}
        event = model.model_validate(body)
        self.versions[aggregate] = self.versions.get(aggregate, 0) + 1
        self.tick += 1
        envelope = EventEnvelope.wrap(
            event,
            source=f"/crm/{event_type.split('.')[1]}",
            aggregate_id=UUID(aggregate),
            aggregate_version=self.versions[aggregate],
            time=T0 + timedelta(minutes=self.tick),
        )
        return envelope, REGISTRY.parse(envelope)  # as the projector reads it: older versions upcast


def order(s: Stream, customer: str, total: str, day: int, currency: str = "EUR") -> Item:
    """An imported (paid) order of `customer`, placed `day` days after T0."""
    placed = (T0 + timedelta(days=day)).isoformat()
    data = {"order_id": str(uuid4()), "total": total, "currency": currency, "placed_at": placed, "paid_at": placed}
    return s.make("crm.sales.order_imported.v1", data["order_id"], customer, **data)


async def publish(producer: Any, topic_of: Any, items: list[Item]) -> None:
    """Send `items` in order through an aiokafka producer, as a relay would (key = customer or aggregate)."""
    for envelope, event in items:
        headers = [(k, v.encode()) for k, v in envelope.headers().items()]
        await producer.send_and_wait(topic_of(event.topic), envelope.body(), key=envelope.key, headers=headers)
