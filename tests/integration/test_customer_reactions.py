"""The customer service records what other services announce: converted leads, unsubscribes.

The events are published straight to the test's topics, as the sales and marketing
relays would, so this holds whatever those services do.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from shared.events import EventEnvelope, PublicEvent
from shared.events.marketing import UnsubscribedV1
from shared.events.sales import LeadConvertedV1, customer_id_for_lead
from shared.platform.kafka import make_broker
from tests.integration.platform import Platform, eventually


def publish(platform: Platform, event: PublicEvent, aggregate: UUID, version: int = 1) -> None:
    envelope = EventEnvelope.wrap(
        event, source="/crm/it", aggregate_id=aggregate, aggregate_version=version, time=datetime.now(UTC)
    )

    async def send() -> None:
        broker = make_broker(platform.kafka)
        async with broker:
            await broker.start()
            await broker.publish(
                envelope.body(),
                platform.kafka.topic(event.topic),
                key=envelope.key,
                headers=envelope.headers(),
            )

    asyncio.run(send())


def customer(platform: Platform, customer_id: UUID) -> dict[str, Any] | None:
    response = httpx.get(f"{platform.url('customer')}/customers/{customer_id}", headers=platform.headers("admin"))
    return response.json() if response.status_code == 200 else None


@pytest.mark.parametrize("store_backend", ["postgres"])
def test_a_converted_lead_becomes_a_customer_once_and_an_unsubscribe_withdraws_consent(platform: Platform) -> None:
    platform.start("customer")
    platform.start("customer-consumers")
    lead = uuid4()
    customer_id = customer_id_for_lead(lead)
    conversion = LeadConvertedV1(
        customer_id=customer_id,
        lead_id=lead,
        name="王芳",
        emails=["wang.fang@example.cn"],
        source_channel="campaign",
        consent={"email": True},
        converted_by="rep@example.com",
        converted_at=datetime.now(UTC),
    )
    publish(platform, conversion, lead, version=5)
    publish(platform, conversion, lead, version=5)  # a redelivery
    found = eventually(lambda: customer(platform, customer_id), what="converted lead registered")
    assert (found["name"], found["source"]) == ("王芳", "lead")
    consent = {"customer_id": customer_id, "channel": "email", "unsubscribed_at": datetime.now(UTC)}
    publish(platform, UnsubscribedV1(**consent), uuid4())
    eventually(
        lambda: (c := customer(platform, customer_id)) and c["consent"].get("email") is False,
        what="consent withdrawn",
    )
    with platform.store() as store:  # held open: a temporary app may be collected, closing its pool, mid-call
        events = store.recorder.select_events(customer_id)
    assert [e.topic.rsplit(".", 1)[-1] for e in events] == ["Registered", "ConsentChanged"]
