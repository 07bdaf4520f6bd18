"""The analytics projector: every public stream → projections in MongoDB.

One FastStream subscriber in consumer group `analytics` reads all streams. Offsets are
committed only after the projection was written (at least once; projections are
idempotent). A message that cannot be parsed or applied goes to the dead-letter topic
and the partition moves on; a store outage stops and retries instead of parking.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from prometheus_client import start_http_server
from pydantic import ValidationError
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from services.analytics.deadletter import dead_letter
from services.analytics.projection import Customer360Projection
from services.analytics.settings import AnalyticsSettings
from shared.events import REGISTRY, EventEnvelope, UnknownEventType
from shared.events.envelope import MalformedEnvelope
from shared.events.topics import STREAMS
from shared.platform import correlation, logs
from shared.platform.kafka import KafkaSettings, make_broker
from shared.platform.metrics import CONSUMED

log = logging.getLogger("crm.analytics.projector")
UNPROCESSABLE = (MalformedEnvelope, UnknownEventType, ValidationError)


def subscribe(
    broker: KafkaBroker, projection: Customer360Projection, settings: AnalyticsSettings, kafka: KafkaSettings
) -> None:
    """Register the projector's subscriber on `broker`."""
    topics = [kafka.topic(t) for t in STREAMS]

    @broker.subscriber(
        *topics,
        group_id=settings.group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title="analytics-projector",
        description="Folds every public event into the analytics projections.",
    )
    async def project(message: KafkaMessage) -> None:
        record: Any = message.raw_message
        try:
            envelope = EventEnvelope.from_kafka(record.headers, record.value or b"")
            event = REGISTRY.parse(envelope)
        except UNPROCESSABLE as exc:
            await dead_letter(broker, kafka, settings.group_id, record, exc)
            return
        token = correlation.bind(envelope.correlationid or envelope.id)
        try:
            await _apply(projection, envelope, event, settings)
        except PyMongoError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug on one message must not block the partition
            await dead_letter(broker, kafka, settings.group_id, record, exc)
        finally:
            correlation.reset(token)


async def _apply(
    projection: Customer360Projection, envelope: EventEnvelope, event: Any, settings: AnalyticsSettings
) -> None:
    try:
        if await projection.apply(envelope, event):
            CONSUMED.labels(settings.group_id, envelope.type).inc()
    except PyMongoError:
        log.exception("store write failed; the message will be read again")
        await asyncio.sleep(settings.retry_delay_seconds)
        raise


def build(settings: AnalyticsSettings, kafka: KafkaSettings) -> tuple[FastStream, AsyncMongoClient[dict[str, Any]]]:
    """The projector application and the Mongo client it writes through."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    projection = Customer360Projection(client[settings.database])
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
