"""Benchmark: the analytics projector's events/s next to a raw aiokafka consumer on the same topic.

Fills a fresh topic with order events (many customers, several orders each), then in
the same run (1) reads it all with a bare `AIOKafkaConsumer` (the ceiling: Kafka and the
client alone) and (2) lets the real `analytics-projector` process catch up on it into
MongoDB, timed from its first committed batch to its last (process start-up excluded;
progress read from its consumer group's committed offsets). Absolute numbers on a shared
2-core machine are noisy: read the ratio.

Usage: `make bench` runs `python -m tests.bench.projector_throughput` (options: `--events`,
`--customers`, `--bulk-chunk`, `--batch-size`), with `.local/stack.env` and `dev.env` loaded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import MongoClient

from crm.devstack import SERVICES, Stack, environment
from services.analytics.tests.builders import Stream, order
from shared.events.topics import SALES
from shared.platform.kafka import KafkaSettings
from shared.platform.topicadmin import delete_topics, ensure_topics


async def fill(kafka: KafkaSettings, events: int, customers: int) -> float:
    """Publish `events` orders over `customers` customers; returns the producer's events/s."""
    s, ids = Stream(), [str(uuid4()) for _ in range(customers)]
    items = [order(s, ids[n % customers], f"{n % 97 + 1}.00", n % 300) for n in range(events)]
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap_servers, linger_ms=20, max_batch_size=1 << 20, **kafka.client_options()
    )
    await producer.start()
    started = time.perf_counter()
    try:
        sends = []
        for envelope, event in items:
            headers = [(k, v.encode()) for k, v in envelope.headers().items()]
            value, key = envelope.body(), envelope.key
            sends.append(await producer.send(kafka.topic(event.topic), value, key=key, headers=headers))
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
    return events / (time.perf_counter() - started)


async def raw_rate(kafka: KafkaSettings, events: int, topics: tuple[str, ...] = (SALES,)) -> float:
    """A bare consumer group reading whole topics from the start: events/s from first record to last."""
    consumer = AIOKafkaConsumer(
        *[kafka.topic(t) for t in topics],
        bootstrap_servers=kafka.bootstrap_servers,
        group_id=kafka.group("bench-raw"),
        auto_offset_reset="earliest",
        max_poll_records=500,
        **kafka.client_options(),
    )
    await consumer.start()
    try:
        seen, first = 0, 0.0
        while seen < events:
            batch = await consumer.getmany(timeout_ms=1000, max_records=500)
            got = sum(len(records) for records in batch.values())
            if got and not first:
                first = time.perf_counter()
            seen += got
        return seen / (time.perf_counter() - first)
    finally:
        await consumer.stop()


async def committed(kafka: KafkaSettings, group: str) -> int:
    """Records the consumer group has committed, over every partition (Kafka's own count, no store read)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers, **kafka.client_options())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(kafka.group(group))
    finally:
        await admin.close()
    return sum(meta.offset for meta in offsets.values() if meta.offset > 0)


def projector_rate(stack: Stack, kafka: KafkaSettings, events: int) -> float:
    """Start the projector and time it from its first committed batch to its last, by its group's offsets.

    The progress is read from Kafka, not counted in the store: a full count on FerretDB
    reads the whole collection, and polling it would load the server being measured.
    """
    stack.start(next(s for s in SERVICES if s.name == "analytics-projector"))
    first_at, first_count = 0.0, 0
    until = time.monotonic() + 900
    while time.monotonic() < until:
        count = asyncio.run(committed(kafka, "analytics"))
        if count and not first_at:
            first_at, first_count = time.perf_counter(), count
        if count >= events:
            return (count - first_count) / (time.perf_counter() - first_at)
        time.sleep(0.05)
    raise TimeoutError("the projector did not catch up within 15 minutes")


def main() -> None:
    """Run the benchmark and print a small report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--bulk-chunk", type=int, default=1_000, help="360 documents per bulk_write")
    parser.add_argument("--batch-size", type=int, default=500, help="records per projector batch")
    args = parser.parse_args()
    kafka = KafkaSettings(topic_prefix=f"bench{uuid4().hex[:8]}.")
    database = f"crm_{kafka.topic_prefix[:-1]}"
    asyncio.run(ensure_topics(kafka))
    env = environment(
        {
            "CRM_KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
            "CRM_ANALYTICS_DATABASE": database,
            "CRM_ANALYTICS_BULK_CHUNK": str(args.bulk_chunk),
            "CRM_ANALYTICS_BATCH_SIZE": str(args.batch_size),
        }
    )
    stack = Stack(env, log_dir=Path(".local/bench/logs"))
    mongo: MongoClient[dict[str, object]] = MongoClient(os.environ.get("CRM_MONGO_URL", "mongodb://127.0.0.1:27017/"))
    try:
        produced = asyncio.run(fill(kafka, args.events, args.customers))
        raw = asyncio.run(raw_rate(kafka, args.events))
        projected = projector_rate(stack, kafka, args.events)
    finally:
        stack.stop_all()
        asyncio.run(delete_topics(kafka))
        mongo.drop_database(database)
        mongo.close()
    print(f"events: {args.events} orders of {args.customers} customers")
    print(f"bulk chunk {args.bulk_chunk} documents, batch {args.batch_size} records")
    print(f"producer (aiokafka)            {produced:9.0f} events/s")
    print(f"raw consumer (aiokafka)        {raw:9.0f} events/s")
    print(f"analytics-projector → MongoDB  {projected:9.0f} events/s   (raw is {raw / projected:.0f}x faster)")


if __name__ == "__main__":
    main()
