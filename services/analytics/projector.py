"""The analytics projector: every public stream → projections in MongoDB.

One FastStream subscriber in consumer group `analytics` reads all streams in batches.
Offsets are committed only after the batch was written (at least once; projections are
idempotent). A message that cannot be parsed or applied goes to the dead-letter topic
and the partition moves on; a store outage stops and re-reads the batch instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, TypeAlias

from aiokafka.structs import ConsumerRecord
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from prometheus_client import start_http_server
from pydantic import ValidationError
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from services.analytics.projection import Customer360Projection, Item
from services.analytics.settings import AnalyticsSettings
from shared.events import REGISTRY, EventEnvelope, UnknownEventType
from shared.events.envelope import MalformedEnvelope
from shared.events.topics import STREAMS
from shared.platform import logs
from shared.platform.deadletter import dead_letter
from shared.platform.kafka import KafkaSettings, make_broker
from shared.platform.metrics import CONSUMED

log = logging.getLogger("crm.analytics.projector")
UNPROCESSABLE = (MalformedEnvelope, UnknownEventType, ValidationError)
Record: TypeAlias = ConsumerRecord[bytes, bytes]


def parse(records: Sequence[Record]) -> tuple[list[tuple[Record, Item]], list[tuple[Record, Exception]]]:
    """Split records into typed events and the ones that are not valid events."""
    good: list[tuple[Record, Item]] = []
    bad: list[tuple[Record, Exception]] = []
    for record in records:
        try:
            envelope = EventEnvelope.from_kafka(record.headers, record.value or b"")
            good.append((record, (envelope, REGISTRY.parse(envelope))))
        except UNPROCESSABLE as exc:
            bad.append((record, exc))
    return good, bad


class Projector:
    """Applies batches of records to the projection; parks what it cannot apply."""

    def __init__(self, broker: KafkaBroker, projection: Any, settings: AnalyticsSettings, kafka: KafkaSettings) -> None:
        self.broker = broker
        self.projection = projection
        self.settings = settings
        self.kafka = kafka

    async def handle(self, records: Sequence[Record]) -> None:
        """Apply one batch; raises (so the batch is re-read) only if the store failed."""
        good, bad = parse(records)
        try:
            result = await self.projection.apply_batch([item for _, item in good])
        except PyMongoError:
            log.exception("store write failed; the batch will be read again")
            await asyncio.sleep(self.settings.retry_delay_seconds)
            raise
        bad += [(good[index][0], exc) for index, exc in result.failed]
        for record, exc in bad:
            await dead_letter(self.broker, self.kafka, self.settings.group_id, record, exc)
        for envelope in result.applied:
            CONSUMED.labels(self.settings.group_id, envelope.type).inc()


def subscribe(broker: KafkaBroker, projection: Any, settings: AnalyticsSettings, kafka: KafkaSettings) -> Projector:
    """Register the projector's batch subscriber on `broker`."""
    projector = Projector(broker, projection, settings, kafka)

    @broker.subscriber(
        *[kafka.topic(t) for t in STREAMS],
        group_id=kafka.group(settings.group_id),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        batch=True,
        max_records=settings.batch_size,
        batch_timeout_ms=50,
        title="analytics-projector",
        description="Folds every public event into the analytics projections.",
    )
    async def project(message: KafkaMessage) -> None:
        raw = message.raw_message
        await projector.handle(tuple(raw) if isinstance(raw, tuple | list) else (raw,))

    return projector


def build(settings: AnalyticsSettings, kafka: KafkaSettings) -> tuple[FastStream, AsyncMongoClient[dict[str, Any]]]:
    """The projector application and the Mongo client it writes through."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    projection = Customer360Projection(client[settings.database], bulk_chunk=settings.bulk_chunk)
    broker = make_broker(kafka, client_id=f"{settings.group_id}-projector")
    subscribe(broker, projection, settings, kafka)
    app = FastStream(broker)
    app.on_startup(projection.ensure_indexes)
    return app, client


def main() -> None:
    """Entry point: `python -m services.analytics.projector`."""
    settings = AnalyticsSettings()
    logs.configure("analytics-projector", settings.log_level)
    if settings.projector_metrics_port:
        start_http_server(settings.projector_metrics_port, addr=settings.metrics_host)
    app, _client = build(settings, KafkaSettings())
    asyncio.run(app.run())


if __name__ == "__main__":
    main()
