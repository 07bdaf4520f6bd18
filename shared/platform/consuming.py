"""Consuming other services' public events: one handler per event type, dead letters for the rest.

A service that reacts to another's events (the customer service registering converted
leads, support opening tickets for social escalations, everyone forgetting erased
customers) registers one handler per event model. Delivery is at least once: offsets
are committed after the handler returned, so handlers must be idempotent (derive ids
from the event, treat "already done" as done).

What happens to a message:
- an event type the consumer has no handler for (another event on the same topic) is skipped;
- a message that is not a valid event, or whose handler raises, is parked on the
  group's dead-letter topic with the error, and the partition moves on;
- a handler raising a *transient* error (the database or network is down) stops the
  partition: the message is read again after `retry_delay` until the store is back.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from aiokafka.structs import ConsumerRecord
from eventsourcing.persistence import InterfaceError, OperationalError
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry.trace import Span
from pydantic import ValidationError

from shared.events import REGISTRY, EventEnvelope, PublicEvent, UnknownEventType
from shared.events.envelope import MalformedEnvelope
from shared.platform import logs, rawrecords, tracing
from shared.platform.deadletter import dead_letter
from shared.platform.kafka import KafkaSettings, make_broker
from shared.platform.metrics import CONSUMED

log = logging.getLogger("crm.consumer")

Record: TypeAlias = ConsumerRecord[bytes, bytes]
Handler: TypeAlias = Callable[[EventEnvelope, Any], Awaitable[None] | None]
"""Called with the envelope and the typed event; a plain function runs in a worker thread."""

TRANSIENT: tuple[type[BaseException], ...] = (OSError, OperationalError, InterfaceError, TimeoutError)
"""Errors that mean "try again later", not "this message is bad"."""

_UNPARSEABLE = (MalformedEnvelope, ValidationError)
OUTCOME = "crm.consumer.outcome"
"""Span attribute: handled, skipped (no handler) or dead_lettered."""


@dataclass
class EventConsumer:
    """The handlers of one consumer group, and what to do with messages they cannot take."""

    group: str
    handlers: Mapping[type[PublicEvent], Handler]
    kafka: KafkaSettings
    transient: tuple[type[BaseException], ...] = TRANSIENT
    retry_delay: float = 1.0
    handled: int = field(default=0, init=False)

    @property
    def topics(self) -> list[str]:
        """The logical topics the handled events are published to."""
        return sorted({model.topic for model in self.handlers})

    async def handle(self, broker: KafkaBroker, record: Record) -> None:
        """Process one record: handle it, skip it, or dead-letter it; raise only on transient errors.

        It runs inside a CONSUMER span continuing the trace in the record's headers, so the
        events a handler stores carry that trace on to the next service.
        """
        attributes = tracing.record_attributes(record, self.group)
        with tracing.consume_span(record.headers, f"process {record.topic}", attributes) as span:
            span.set_attribute(OUTCOME, await self._handle(broker, record, span))

    async def _handle(self, broker: KafkaBroker, record: Record, span: Span) -> str:
        try:
            envelope = EventEnvelope.from_kafka(record.headers, record.value or b"")
            model = REGISTRY.latest(envelope.type)  # handlers are written for the newest version
        except UnknownEventType:
            return "skipped"  # a newer event on this topic that this service does not react to
        except _UNPARSEABLE as exc:
            tracing.fail(span, exc)
            await dead_letter(broker, self.kafka, self.group, record, exc)
            return "dead_lettered"
        span.set_attributes({"messaging.message.id": envelope.id, "crm.event.type": envelope.type})
        handler = self.handlers.get(model)
        if handler is None:
            return "skipped"
        try:
            event = REGISTRY.parse(envelope)  # validated as its own version, then upcast
            await self._call(handler, envelope, event)
        except self.transient:
            log.exception("transient failure on %s; the message will be read again", envelope.type)
            await asyncio.sleep(self.retry_delay)
            raise
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the partition
            tracing.fail(span, exc)
            await dead_letter(broker, self.kafka, self.group, record, exc)
            return "dead_lettered"
        self.handled += 1
        CONSUMED.labels(self.group, envelope.type).inc()
        return "handled"

    @staticmethod
    async def _call(handler: Handler, envelope: EventEnvelope, event: PublicEvent) -> None:
        if inspect.iscoroutinefunction(handler):
            await handler(envelope, event)
        else:
            await asyncio.to_thread(handler, envelope, event)

    def subscribe(self, broker: KafkaBroker, *, title: str | None = None) -> None:
        """Register this consumer's subscriber on `broker` (one message at a time, in partition order)."""

        @broker.subscriber(
            *[self.kafka.topic(t) for t in self.topics],
            group_id=self.kafka.group(self.group),
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            title=title or f"{self.group}-consumer",
            description=f"Reacts to {', '.join(sorted(m.event_type for m in self.handlers))}.",
            parser=rawrecords.parse_record,  # poison records reach `handle`, never stall in FastStream
            decoder=rawrecords.raw_body,
        )
        async def consume(message: KafkaMessage) -> None:
            await self.handle(broker, message.raw_message)


def consumer_app(broker: KafkaBroker, *consumers: EventConsumer) -> FastStream:
    """A FastStream application running `consumers` on `broker` (SIGTERM stops it cleanly)."""
    for consumer in consumers:
        consumer.subscribe(broker)
    return FastStream(broker)


def run_consumers(service: str, log_level: str, build: Callable[[KafkaSettings], EventConsumer]) -> None:
    """The body of `python -m services.<service>.consumers`: configure, subscribe, consume until stopped."""
    logs.configure(f"{service}-consumers", log_level)
    kafka = KafkaSettings()
    broker = make_broker(kafka, client_id=f"{service}-consumers")
    asyncio.run(consumer_app(broker, build(kafka)).run())
