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
from services.analytics.projection import Item
from services.analytics.tests.builders import Stream, order
from shared.events.topics import SALES
from shared.platform.kafka import KafkaSettings
from shared.platform.topicadmin import delete_topics, ensure_topics
from tests.bench import store_ceiling
from tests.bench.figures import Figure

CEILING_EVENTS = 30_000
"""Events of the store-ceiling baseline at most (planned in memory first; ~15-20 s of store calls here)."""


def orders(events: int, customers: int) -> list[Item]:
    """`events` paid orders spread round-robin over `customers` new customers."""
    s, ids = Stream(), [str(uuid4()) for _ in range(customers)]
    return [order(s, ids[n % customers], f"{n % 97 + 1}.00", n % 300) for n in range(events)]


async def fill(kafka: KafkaSettings, events: int, customers: int) -> float:
    """Publish `events` orders over `customers` customers; returns the producer's events/s."""
    items = orders(events, customers)
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


def projector_rate(stack: Stack, kafka: KafkaSettings, events: int, max_seconds: float) -> tuple[float, int, float]:
    """Start the projector and time it from its first committed batch to its last, by its group's offsets.

    The progress is read from Kafka, not counted in the store: a full count on FerretDB
    reads the whole collection, and polling it would load the server being measured.
    Bounded: after `max_seconds` of projecting, the rate so far is the answer. Returns
    (events/s, events projected in the timed span, seconds timed).
    """
    stack.start(next(s for s in SERVICES if s.name == "analytics-projector"))
    first_at, first_count, count = 0.0, 0, 0
    give_up = time.monotonic() + max_seconds + 120  # start-up included
    while time.monotonic() < give_up:
        count = asyncio.run(committed(kafka, "analytics"))
        if count and not first_at:
            first_at, first_count = time.perf_counter(), count
        elapsed = time.perf_counter() - first_at if first_at else 0.0
        if count >= events or (first_at and elapsed >= max_seconds):
            return (count - first_count) / elapsed if elapsed else 0.0, count - first_count, elapsed
        time.sleep(0.05)
    raise TimeoutError(f"the projector committed nothing within {max_seconds + 120:.0f}s")


def measure(events: int, customers: int, *, bulk_chunk: int, batch_size: int, max_seconds: float) -> dict[str, float]:
    """Fill a fresh topic, read it raw, then let the real projector catch up; the rates."""
    kafka = KafkaSettings(topic_prefix=f"bench{uuid4().hex[:8]}.")
    database = f"crm_{kafka.topic_prefix[:-1]}"
    asyncio.run(ensure_topics(kafka))
    env = environment(
        {
            "CRM_KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
            "CRM_ANALYTICS_DATABASE": database,
            "CRM_ANALYTICS_BULK_CHUNK": str(bulk_chunk),
            "CRM_ANALYTICS_BATCH_SIZE": str(batch_size),
        }
    )
    stack = Stack(env, log_dir=Path(".local/bench/logs"))
    mongo: MongoClient[dict[str, object]] = MongoClient(os.environ.get("CRM_MONGO_URL", "mongodb://127.0.0.1:27017/"))
    try:
        produced = asyncio.run(fill(kafka, events, customers))
        raw = asyncio.run(raw_rate(kafka, events))
        projected, count, seconds = projector_rate(stack, kafka, events, max_seconds)
    finally:
        stack.stop_all()
        asyncio.run(delete_topics(kafka))
        mongo.drop_database(database)
        mongo.close()
    return {"produced": produced, "raw": raw, "projected": projected, "count": count, "seconds": seconds}


def run(quick: bool) -> list[Figure]:
    """The `make bench` figure: projector catch-up ÷ raw consumer (200k events over 50k customers)."""
    events, customers = (3_000, 600) if quick else (200_000, 50_000)
    found = measure(events, customers, bulk_chunk=1_000, batch_size=500, max_seconds=20 if quick else 240)
    ratio = found["projected"] / found["raw"]
    sample = min(events, CEILING_EVENTS)  # the same events per customer, so the same mix of inserts and replaces
    mongo_url = os.environ.get("CRM_MONGO_URL", "mongodb://127.0.0.1:27017/")
    ceiling, ceiling_seconds = store_ceiling.measure(mongo_url, fill, sample, customers * sample // events, 500)
    return [
        Figure(
            bench="projector catch-up",
            size=f"{events:,} events / {customers:,} customers",
            figure="events/s",
            value=found["projected"],
            unit="ev/s",
            baseline="raw aiokafka consumer",
            baseline_value=found["raw"],
            goal="ratio >= 0.05 and >= 5,000 ev/s",
            met=None if quick else ratio >= 0.05 and found["projected"] >= 5_000,
            seconds=found["seconds"],
        ),
        store_ceiling.figure(
            "projector catch-up",
            f"{events:,} events / {customers:,} customers",
            found["projected"],
            f"its store calls by raw pymongo ({sample:,} events)",
            ceiling,
            ceiling_seconds,
            "the projector's reads and writes alone",
        ),
    ]


def main() -> None:
    """Run the benchmark and print a small report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--bulk-chunk", type=int, default=1_000, help="360 documents per bulk_write")
    parser.add_argument("--batch-size", type=int, default=500, help="records per projector batch")
    parser.add_argument("--max-seconds", type=float, default=600, help="stop timing after this long")
    args = parser.parse_args()
    found = measure(
        args.events,
        args.customers,
        bulk_chunk=args.bulk_chunk,
        batch_size=args.batch_size,
        max_seconds=args.max_seconds,
    )
    print(f"events: {args.events} orders of {args.customers} customers")
    print(f"bulk chunk {args.bulk_chunk} documents, batch {args.batch_size} records")
    print(f"producer (aiokafka)            {found['produced']:9.0f} events/s")
    print(f"raw consumer (aiokafka)        {found['raw']:9.0f} events/s")
    print(
        f"analytics-projector → MongoDB  {found['projected']:9.0f} events/s   "
        f"({found['count']:,.0f} in {found['seconds']:.0f} s; raw is {found['raw'] / found['projected']:.0f}x faster)"
    )


if __name__ == "__main__":
    main()
