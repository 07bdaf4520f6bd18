"""The relay: a service's event store, followed as a transactional outbox, onto Kafka.

Events are written once, atomically, to the service's store; the relay follows the
store's notification log, maps each domain event to its public model, publishes it
and records its position only after Kafka acknowledged it. A crash between publish and
record republishes a few events on restart (same event id, harmless to consumers);
nothing is ever lost, and a broker outage only delays publishing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Notification, Tracking, TrackingRecorder

from shared.events import REGISTRY, EventEnvelope, PublicEvent
from shared.events.envelope import event_id
from shared.platform import metrics, tracing

ToPublic = Callable[[Any], PublicEvent | None]
"""Maps a domain event to its public event, or None for an event kept private."""
Publish = Callable[[Sequence[EventEnvelope]], Awaitable[None]]
"""Publishes envelopes and returns only once the broker acknowledged every one."""

log = logging.getLogger("crm.relay")


@dataclass(frozen=True)
class Batch:
    """Consecutive stored events read for publishing: the last notification id and the public envelopes."""

    last: int | None
    """Id of the last notification read; None when there was none."""
    notifications: int
    envelopes: list[EventEnvelope]

    @property
    def private(self) -> int:
        """Notifications that stayed private (no public event)."""
        return self.notifications - len(self.envelopes)


class Relay:
    """Publishes a service's stored events in notification order, at least once."""

    def __init__(
        self,
        *,
        service: str,
        app: Application[UUID],
        tracking: TrackingRecorder,
        to_public: ToPublic,
        publish: Publish,
        batch_size: int = 500,
    ) -> None:
        self.service = service
        self.app = app
        self.tracking = tracking
        self.to_public = to_public
        self.publish = publish
        self.batch_size = batch_size
        self.name = f"relay:{service}"
        self._position: int | None = None

    @property
    def source(self) -> str:
        """CloudEvents `source` of this service's events."""
        return f"/crm/{self.service}"

    def position(self) -> int:
        """Last notification id Kafka acknowledged (0 before the first)."""
        if self._position is None:
            self._position = self.tracking.max_tracking_id(self.name) or 0
        return self._position

    def head(self) -> int:
        """Last notification id in the store."""
        return self.app.recorder.max_notification_id() or 0

    def envelope(self, notification: Notification) -> EventEnvelope | None:
        """The public envelope of one stored event, or None if it stays private."""
        domain_event: Any = self.app.mapper.to_domain_event(notification)
        public = self.to_public(domain_event)
        if public is None:
            return None
        aggregate_id = UUID(str(notification.originator_id))
        topic = REGISTRY.topic(public.event_type)
        # A PRODUCER span continuing the trace stored with the event; the message carries its context.
        trace = tracing.produced_context(
            tracing.carrier_of(domain_event),
            f"create {topic}",
            {
                "messaging.system": "kafka",
                "messaging.operation.type": "create",
                "messaging.operation.name": "create",
                "messaging.destination.name": topic,
                "messaging.message.id": event_id(self.source, aggregate_id, notification.originator_version),
                "crm.event.type": public.event_type,
                "crm.event.sequence": notification.id,
            },
        )
        return EventEnvelope.wrap(
            public,
            source=self.source,
            aggregate_id=aggregate_id,
            aggregate_version=notification.originator_version,
            time=domain_event.timestamp,
            correlation_id=getattr(domain_event, "correlation_id", None),
            sequence=notification.id,
            traceparent=trace.get(tracing.TRACEPARENT),
            tracestate=trace.get(tracing.TRACESTATE),
        )

    def batch(self, start: int, stop: int | None = None) -> Batch:
        """The envelopes of the next `batch_size` notifications from `start` (up to `stop`), in order.

        Shared by the relay (from its position) and `crm republish` (from any position, without
        touching the relay's position), so both produce the very same envelopes.
        """
        notes = self.app.recorder.select_notifications(start=start, limit=self.batch_size, stop=stop)
        envelopes = [e for e in map(self.envelope, notes) if e is not None]
        return Batch(last=notes[-1].id if notes else None, notifications=len(notes), envelopes=envelopes)

    def _pending(self) -> tuple[int, list[EventEnvelope]]:
        batch = self.batch(self.position() + 1)
        return batch.last or self.position(), batch.envelopes

    def _record(self, position: int) -> None:
        self.tracking.insert_tracking(Tracking(application_name=self.name, notification_id=position))
        self._position = position

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished events; how many notifications it covered."""
        before = await asyncio.to_thread(self.position)
        last, envelopes = await asyncio.to_thread(self._pending)
        if last == before:
            # Nothing after our position: the store head is our position, no query needed.
            metrics.RELAY_HEAD.labels(self.service).set(before)
            return 0
        if envelopes:
            await self.publish(envelopes)
        await asyncio.to_thread(self._record, last)
        metrics.RELAY_PUBLISHED.labels(self.service).inc(len(envelopes))
        metrics.RELAY_POSITION.labels(self.service).set(last)
        metrics.RELAY_HEAD.labels(self.service).set(await asyncio.to_thread(self.head))
        return last - before

    async def run(self, stop: asyncio.Event, idle: float = 0.05, max_backoff: float = 5.0) -> None:
        """Publish until `stop` is set: promptly when busy, retrying with backoff on failure."""
        backoff = idle
        while not stop.is_set():
            try:
                published = await self.publish_pending()
                backoff = idle
            except Exception:
                metrics.RELAY_FAILURES.labels(self.service).inc()
                log.exception("publish failed; retrying from position %s in %.1fs", self._position, backoff)
                published, backoff = 0, min(backoff * 2 + 0.1, max_backoff)
            if not published:
                await wait_unless_stopped(stop, backoff)


async def wait_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, returning at once when `stop` is set (loops of relays, watchers, projector)."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return


def topic_of(envelope: EventEnvelope) -> str:
    """The logical topic an envelope belongs on."""
    return REGISTRY.topic(envelope.type)


def domain_event_classes(*aggregates: type[Aggregate]) -> set[type[Any]]:
    """Every event class `aggregates` declare: what a relay's mapping must publish or keep private.

    `Event` and `Created` are the library's bases; every other nested `Aggregate.Event`
    subclass is an event the store can hold. A relay test compares this set with the
    relay's tables, so an event added to an aggregate without a decision fails there.
    """
    return {
        value
        for aggregate in aggregates
        for name, value in vars(aggregate).items()
        if isinstance(value, type) and issubclass(value, Aggregate.Event) and name not in ("Event", "Created")
    }
