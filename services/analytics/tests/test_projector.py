"""The projector applies what it can parse and dead-letters the rest, with FastStream's test broker."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from services.analytics.projection import BatchResult
from services.analytics.projector import subscribe
from services.analytics.settings import AnalyticsSettings
from shared.events import EventEnvelope, PublicEvent
from shared.events.customer import CustomerConsentChangedV1
from shared.events.topics import CUSTOMER, dead_letter_topic
from shared.platform.kafka import KafkaSettings, make_broker
from shared.platform.tests.test_tracing import spans  # noqa: F401 - the in-memory span exporter fixture


class RecordingProjection:
    """Stands in for the Mongo projection; fails on events it is told to."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.applied: list[str] = []
        self.fail_on = fail_on

    async def apply_batch(self, items: list[tuple[EventEnvelope, PublicEvent]]) -> BatchResult:
        result = BatchResult()
        for index, (envelope, _) in enumerate(items):
            if envelope.subject == self.fail_on:
                result.failed.append((index, KeyError("a bug in a fold")))
            else:
                self.applied.append(str(envelope.subject))
                result.applied.append(envelope)
        return result


def envelope_for(customer: str) -> EventEnvelope:
    event = CustomerConsentChangedV1(customer_id=customer, channel="email", granted=True)
    return EventEnvelope.wrap(
        event,
        source="/crm/customer",
        aggregate_id=event.customer_id,
        aggregate_version=1,
        time=datetime(2026, 1, 1, tzinfo=UTC),
    )


def setup(projection: Any) -> tuple[Any, list[dict[str, Any]]]:
    kafka = KafkaSettings()
    broker = make_broker(kafka)
    subscribe(broker, projection, AnalyticsSettings(), kafka)
    dead: list[dict[str, Any]] = []

    @broker.subscriber(dead_letter_topic("analytics"))
    async def collect(message: KafkaMessage) -> None:
        dead.append(dict(message.headers))

    return broker, dead


async def publish(broker: Any, envelope: EventEnvelope) -> None:
    await broker.publish(envelope.body(), CUSTOMER, key=envelope.key, headers=envelope.headers())


async def test_a_valid_event_is_applied() -> None:
    projection = RecordingProjection()
    broker, dead = setup(projection)
    async with TestKafkaBroker(broker) as test_broker:
        customer = str(uuid4())
        await publish(test_broker, envelope_for(customer))
    assert projection.applied == [customer]
    assert dead == []


async def test_an_unparseable_message_is_dead_lettered_and_later_events_still_apply() -> None:
    projection = RecordingProjection()
    broker, dead = setup(projection)
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(b"{not json", CUSTOMER, headers={"ce_type": "crm.customer.consent_changed.v1"})
        later = str(uuid4())
        await publish(test_broker, envelope_for(later))
    assert projection.applied == [later]
    assert len(dead) == 1
    assert dead[0]["dlq_topic"] == CUSTOMER
    assert "MalformedEnvelope" in dead[0]["dlq_error"]


async def test_an_unknown_event_type_is_dead_lettered() -> None:
    broker, dead = setup(RecordingProjection())
    envelope = envelope_for(str(uuid4())).model_copy(update={"type": "crm.customer.teleported.v1"})
    async with TestKafkaBroker(broker) as test_broker:
        await publish(test_broker, envelope)
    assert "UnknownEventType" in dead[0]["dlq_error"]


async def test_an_event_the_projection_fails_on_is_dead_lettered_with_the_error() -> None:
    poison = str(uuid4())
    broker, dead = setup(RecordingProjection(fail_on=poison))
    async with TestKafkaBroker(broker) as test_broker:
        await publish(test_broker, envelope_for(poison))
    assert "KeyError" in dead[0]["dlq_error"]
    assert dead[0]["ce_subject"] == poison


async def test_each_record_gets_a_consumer_span_in_the_trace_its_headers_carry(
    spans: InMemorySpanExporter,  # noqa: F811 - the fixture imported above
) -> None:
    trace_id, caller = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    envelope = envelope_for(str(uuid4()))
    broker, _ = setup(RecordingProjection())
    async with TestKafkaBroker(broker) as test_broker:
        headers = envelope.headers() | {"traceparent": f"00-{trace_id}-{caller}-01"}
        await test_broker.publish(envelope.body(), CUSTOMER, key=envelope.key, headers=headers)
    consumer = [
        s for s in spans.get_finished_spans() if s.kind == SpanKind.CONSUMER and s.name == f"process {CUSTOMER}"
    ]
    assert len(consumer) == 1
    assert consumer[0].context is not None
    assert consumer[0].parent is not None
    assert f"{consumer[0].context.trace_id:032x}" == trace_id
    assert f"{consumer[0].parent.span_id:016x}" == caller
    assert consumer[0].attributes is not None
    assert consumer[0].attributes["messaging.consumer.group.name"] == "analytics"
