"""`crm dlq` on the real servers: a message parked for a missing customer is redriven after the fix, once."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from typer.testing import CliRunner

from crm.cli import app
from shared.events import EventEnvelope
from shared.events.marketing import UnsubscribedV1
from shared.events.topics import MARKETING
from tests.integration.platform import Platform, eventually


def _publish(platform: Platform, envelope: EventEnvelope) -> None:
    async def send() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=platform.kafka.bootstrap_servers, **platform.kafka.client_options()
        )
        await producer.start()
        try:
            await producer.send_and_wait(
                platform.kafka.topic(MARKETING),
                envelope.body(),
                key=envelope.key,
                headers=[(k, v.encode()) for k, v in envelope.headers().items()],
            )
        finally:
            await producer.stop()

    asyncio.run(send())


def _crm(platform: Platform, *args: str) -> tuple[int, Any]:
    result = CliRunner().invoke(app, [*args, "--json"], env=platform.stack.env)
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else None


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_a_dead_letter_is_listed_shown_and_applied_once_after_redrive(platform: Platform) -> None:
    store = platform.store()
    consumers = platform.start("customer-consumers")
    customer_id = uuid.uuid4()
    event = UnsubscribedV1(customer_id=customer_id, channel="email", unsubscribed_at=datetime.now(UTC))
    envelope = EventEnvelope.wrap(
        event, source="/crm/marketing", aggregate_id=uuid.uuid4(), aggregate_version=1, time=datetime.now(UTC)
    )
    _publish(platform, envelope)  # the customer does not exist yet: the handler fails, the message is parked

    letters = eventually(
        lambda: _crm(platform, "dlq", "list", "customer")[1], timeout=60, what=f"dead-lettered: {consumers.log}"
    )
    assert len(letters) == 1
    letter = letters[0]
    assert letter["type"] == "crm.marketing.unsubscribed.v1"
    assert letter["key"] == str(customer_id)
    assert letter["source"].startswith(platform.kafka.topic(MARKETING))
    assert letter["error"]
    assert letter["redriven"] is False
    code, shown = _crm(platform, "dlq", "show", "customer", letter["id"])
    assert code == 0
    assert shown["headers"]["ce_id"] == envelope.id
    assert json.loads(shown["value"])["customer_id"] == str(customer_id)
    assert _crm(platform, "dlq", "show", "customer", "5:999")[0] == 1

    # The fix: the customer now exists (with e-mail consent to withdraw).
    store.register(
        name="李雷", emails=["li.lei@example.com"], phones=[], consent={"email": True}, customer_id=customer_id
    )
    before = store.get(customer_id).version

    code, result = _crm(platform, "dlq", "redrive", "customer")
    assert code == 0
    assert result == {"redriven": [letter["id"]], "already_redriven": []}
    eventually(lambda: store.get(customer_id).consent.get("email") is False, timeout=60, what="consent withdrawn")
    assert store.get(customer_id).version == before + 1

    code, again = _crm(platform, "dlq", "redrive", "customer")
    assert code == 0
    assert again == {"redriven": [], "already_redriven": [letter["id"]]}
    assert _crm(platform, "dlq", "list", "customer")[1] == []
    assert [d["redriven"] for d in _crm(platform, "dlq", "list", "customer", "--all")[1]] == [True]
    copies = [r for r in platform.records(MARKETING) if dict(r.headers).get("ce_id") == envelope.id.encode()]
    assert len(copies) == 2, "the original and exactly one redrive"
    assert store.get(customer_id).version == before + 1
