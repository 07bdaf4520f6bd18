"""The analytics projector: every public stream → projections in MongoDB.

One FastStream subscriber reads all streams in batches, as the consumer group of the
active projection generation (`generations.py`), and moves when a rebuild switches it.
Offsets are committed only after the batch was written (at least once; projections are
idempotent). A message that cannot be parsed or applied goes to the dead-letter topic
and the partition moves on; a store outage stops and re-reads the batch instead.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence
from typing import Any, TypeAlias

from aiokafka.structs import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry.trace import Span, SpanKind
from prometheus_client import Gauge, start_http_server
from pydantic import ValidationError
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from services.analytics.generations import Generation, Generations
from services.analytics.projection import Customer360Projection, Item
from services.analytics.settings import AnalyticsSettings, mongo_client
from shared.events import REGISTRY, EventEnvelope, UnknownEventType
from shared.events.envelope import MalformedEnvelope
from shared.events.topics import STREAMS
from shared.platform import logs, rawrecords, tracing
from shared.platform.deadletter import dead_letter
from shared.platform.kafka import KafkaSettings, make_broker
from shared.platform.metrics import CONSUMED
from shared.platform.outbox import wait_unless_stopped
from shared.platform.relaying import start_broker

log = logging.getLogger("crm.analytics.projector")
UNPROCESSABLE = (MalformedEnvelope, UnknownEventType, ValidationError)
Record: TypeAlias = ConsumerRecord[bytes, bytes]
ACTIVE_GENERATION = Gauge("crm_projection_active_generation", "Projection generation the projector writes into.")


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
        """Apply one batch; raises (so the batch is re-read) only if the store failed.

        Each record gets a CONSUMER span, a child of the trace its headers carry, that
        lasts while its batch is applied (OpenTelemetry; exported only if configured).
        """
        spans = {id(record): _span(record, self.settings.group_id) for record in records}
        try:
            await self._apply(records, spans)
        finally:
            for span in spans.values():
                span.end()

    async def _apply(self, records: Sequence[Record], spans: dict[int, Span]) -> None:
        good, bad = parse(records)
        try:
            result = await self.projection.apply_batch([item for _, item in good])
        except PyMongoError as error:
            log.exception("store write failed; the batch will be read again")
            for span in spans.values():
                tracing.fail(span, error)
            await asyncio.sleep(self.settings.retry_delay_seconds)
            raise
        bad += [(good[index][0], exc) for index, exc in result.failed]
        for record, exc in bad:
            tracing.fail(spans[id(record)], exc)
            await dead_letter(self.broker, self.kafka, self.settings.group_id, record, exc)
        for envelope in result.applied:
            CONSUMED.labels(self.settings.group_id, envelope.type).inc()


def _span(record: Record, group: str) -> Span:
    return tracing.tracer().start_span(
        f"process {record.topic}",
        context=tracing.from_kafka_headers(record.headers),
        kind=SpanKind.CONSUMER,
        attributes=tracing.record_attributes(record, group),
    )


def subscribe(
    broker: KafkaBroker, projection: Any, settings: AnalyticsSettings, kafka: KafkaSettings, *, group: str | None = None
) -> Projector:
    """Register the projector's batch subscriber on `broker`, consuming as `group` (default: the settings')."""
    projector = Projector(broker, projection, settings, kafka)

    @broker.subscriber(
        *[kafka.topic(t) for t in STREAMS],
        group_id=kafka.group(group or settings.group_id),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        batch=True,
        max_records=settings.batch_size,
        batch_timeout_ms=50,
        title="analytics-projector",
        description="Folds every public event into the analytics projections.",
        parser=rawrecords.parse_batch,  # poison records reach `handle`, never stall in FastStream
        decoder=rawrecords.raw_body,
    )
    async def project(message: KafkaMessage) -> None:
        raw = message.raw_message
        await projector.handle(tuple(raw) if isinstance(raw, tuple | list) else (raw,))

    return projector


async def _active(generations: Generations, stop: asyncio.Event) -> Generation | None:
    """The active generation, waiting out a store outage; None if stopped first."""
    while not stop.is_set():
        try:
            return await generations.active()
        except PyMongoError:
            log.exception("cannot read the active generation; retrying")
            await wait_unless_stopped(stop, 1.0)
    return None


async def _switched(generations: Generations, number: int) -> bool:
    try:
        return await generations.active_number() != number
    except PyMongoError:  # keep projecting into the generation we have; the next poll asks again
        log.warning("cannot read the active generation; staying on generation %s", number)
        return False


async def follow(
    client: AsyncMongoClient[dict[str, Any]],
    settings: AnalyticsSettings,
    kafka: KafkaSettings,
    stop: asyncio.Event,
    *,
    poll_seconds: float = 1.0,
) -> None:
    """Project into the active generation until `stop`; move to a newly switched generation within `poll_seconds`.

    Each generation has its own consumer group, so moving resumes the new generation
    exactly where its rebuild committed, and the old generation is left as it stood.
    """
    generations = Generations(client, settings)
    while (generation := await _active(generations, stop)) is not None:
        projection = Customer360Projection(client[generation.database], bulk_chunk=settings.bulk_chunk)
        broker = make_broker(kafka, client_id=f"{settings.group_id}-projector")
        subscribe(broker, projection, settings, kafka, group=generation.group)
        try:
            await projection.ensure_indexes()
        except PyMongoError:
            log.exception("cannot create indexes; retrying")
            await wait_unless_stopped(stop, 1.0)
            continue
        if not await start_broker(broker, stop):
            return
        ACTIVE_GENERATION.set(generation.number)
        log.info("projecting into generation %s (database %s, group %s)", *_names(generation))
        try:
            while not stop.is_set():
                await wait_unless_stopped(stop, poll_seconds)
                if await _switched(generations, generation.number):
                    log.info("generation %s is no longer active; moving", generation.number)
                    break
        finally:
            await broker.stop()


def _names(generation: Generation) -> tuple[int, str, str]:
    return generation.number, generation.database, generation.group


async def _main(settings: AnalyticsSettings, kafka: KafkaSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    client: AsyncMongoClient[dict[str, Any]] = mongo_client(settings)
    try:
        await follow(client, settings, kafka, stop)
    finally:
        await client.close()


def main() -> None:
    """Entry point: `python -m services.analytics.projector`."""
    settings = AnalyticsSettings()
    logs.configure("analytics-projector", settings.log_level)
    if settings.projector_metrics_port:
        start_http_server(settings.projector_metrics_port, addr=settings.metrics_host)
    asyncio.run(_main(settings, KafkaSettings()))


if __name__ == "__main__":
    main()
