"""The support desk following the customer stream on the real servers: merges re-point tickets, erasure shreds them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from services.support.application import SupportApplication
from shared.events import EventEnvelope, PublicEvent
from shared.events.customer import CustomerErasedV1, CustomerMergedV1
from tests.integration.platform import Platform, eventually

SURVEY_SECRET = "integration-survey-secret-0123456789abcdef"


def _publish(platform: Platform, event: PublicEvent, aggregate: UUID) -> None:
    envelope = EventEnvelope.wrap(
        event, source="/crm/customer", aggregate_id=aggregate, aggregate_version=99, time=datetime.now(UTC)
    )

    async def send() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=platform.kafka.bootstrap_servers, **platform.kafka.client_options()
        )
        await producer.start()
        try:
            headers = [(k, v.encode()) for k, v in envelope.headers().items()]
            await producer.send_and_wait(
                platform.kafka.topic(event.topic), envelope.body(), key=envelope.key, headers=headers
            )
        finally:
            await producer.stop()

    asyncio.run(send())


def _open(platform: Platform, customer_id: UUID) -> str:
    body = {
        "customer_id": str(customer_id),
        "channel": "phone",
        "subject": "发票抬头错了",
        "description": "请把发票抬头改成北京某某公司。",
        "category": "billing",
        "priority": "P3",
    }
    response = httpx.post(f"{platform.url('support')}/tickets", json=body, headers=platform.headers("support_agent"))
    assert response.status_code == 201, response.text
    ticket_id: str = response.json()["id"]
    return ticket_id


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_merge_repoints_and_erasure_shreds_the_customers_tickets(platform: Platform) -> None:
    platform.start("support", CRM_SUPPORT_SURVEY_SECRET=SURVEY_SECRET)
    platform.start("support-consumers")
    merged, survivor = uuid4(), uuid4()
    ticket_id = _open(platform, merged)
    url = platform.url("support")
    agent = platform.headers("support_agent")

    def ticket() -> dict[str, Any]:
        found: dict[str, Any] = httpx.get(f"{url}/tickets/{ticket_id}", headers=agent).json()
        return found

    _publish(platform, CustomerMergedV1(customer_id=merged, survivor_id=survivor), merged)
    eventually(lambda: ticket()["customer_id"] == str(survivor), what="ticket re-pointed to the survivor")
    _publish(platform, CustomerErasedV1(customer_id=survivor), survivor)
    erased = eventually(lambda: (t := ticket())["erased"] and t, what="ticket erased")
    assert (erased["subject"], erased["description"]) == ("", "")
    with SupportApplication(env=platform.store_env("support")) as store:
        assert store.pii_keys.existing_key(UUID(ticket_id)) is None, "the ticket's key is shredded"
        raw = b"".join(n.state for n in store.recorder.select_notifications(start=1, limit=1000))
        assert "北京某某公司".encode() not in raw
