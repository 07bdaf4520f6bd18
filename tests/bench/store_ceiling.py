"""Baseline: what the read store alone allows the projector, with no Kafka client and no folding.

The projector, per batch, reads the batch's 360 documents by `_id`, inserts one timeline
entry per event, inserts the documents it sees first, replaces the others, and moves the
reports' watermark. Here a scaled-down copy of the benchmark's topic (the same events
per customer) is read with a bare consumer in the batches Kafka hands out (a batch
covers one partition's run of records, so how many documents it touches depends on the
key spread); those batches are planned up front (`projection.plan`, outside the clock)
and only their store calls are timed, through raw pymongo into a scratch database with
the projector's timeline index. The projector's rate ÷ this rate says how much of the
gap to Kafka is ours and how much is the store's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import uuid4

from aiokafka import AIOKafkaConsumer
from pymongo import ASCENDING, MongoClient, ReplaceOne
from pymongo.synchronous.database import Database

from services.analytics import customer360
from services.analytics.projection import Item, plan
from services.analytics.projector import parse
from shared.events.topics import SALES
from shared.platform.kafka import KafkaSettings
from shared.platform.topicadmin import delete_topics, ensure_topics
from tests.bench.figures import Figure

Planned = tuple[int, list[str], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]
"""One batch: events, ids read, timeline entries, documents first seen, documents replaced."""


async def kafka_batches(kafka: KafkaSettings, events: int, batch_size: int) -> list[list[Item]]:
    """The events of the sales topic as a consumer reading `batch_size` at most gets them, parsed."""
    consumer = AIOKafkaConsumer(
        kafka.topic(SALES),
        bootstrap_servers=kafka.bootstrap_servers,
        group_id=kafka.group("bench-ceiling"),
        auto_offset_reset="earliest",
        max_poll_records=batch_size,
        **kafka.client_options(),
    )
    await consumer.start()
    batches: list[list[Item]] = []
    try:
        while sum(len(b) for b in batches) < events:
            fetched = await consumer.getmany(timeout_ms=1000, max_records=batch_size)
            records = [record for tp in sorted(fetched, key=str) for record in fetched[tp]]
            if records:
                batches.append([item for _, item in parse(records)[0]])
    finally:
        await consumer.stop()
    return batches


def planned(batches: list[list[Item]]) -> list[Planned]:
    """The store calls the projector makes for these batches."""
    docs: dict[str, dict[str, Any]] = {}
    calls: list[Planned] = []
    for items in batches:
        stored = set(docs)
        wanted = sorted({envelope.subject for envelope, _ in items if envelope.subject})
        _, batch = plan(docs, items)
        touched = sorted(batch.touched)
        new = [customer360.copy_document(docs[c]) for c in touched if c not in stored]
        old = [customer360.copy_document(docs[c]) for c in touched if c in stored]
        calls.append((len(items), wanted, batch.entries, new, old))
    return calls


@contextmanager
def scratch(mongo_url: str) -> Iterator[Database[dict[str, Any]]]:
    """A fresh database with the projection's timeline index, dropped afterwards."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_url)
    name = f"crm_ceiling{uuid4().hex[:8]}"
    db = client[name]
    db.customer_timeline.create_index([("customer_id", ASCENDING), ("time", ASCENDING), ("_id", ASCENDING)])
    try:
        yield db
    finally:
        client.drop_database(name)
        client.close()


def rate(mongo_url: str, batches: list[list[Item]]) -> tuple[float, float]:
    """Events/s of the projector's store calls alone for these batches, and the seconds they took."""
    calls = planned(batches)
    with scratch(mongo_url) as db:
        started = time.perf_counter()
        for _, wanted, entries, new, old in calls:
            list(db.customer_360.find({"_id": {"$in": wanted}}))
            db.customer_timeline.insert_many(entries, ordered=False)
            if new:
                db.customer_360.insert_many(new, ordered=False)
            if old:
                db.customer_360.bulk_write([ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in old])
            db.report_snapshots.update_one({"_id": "watermark"}, {"$inc": {"projected": 1}}, upsert=True)
        seconds = time.perf_counter() - started
    return sum(count for count, *_ in calls) / seconds, seconds


Fill = Callable[[KafkaSettings, int, int], Coroutine[Any, Any, float]]
"""Publishes (events, customers) to a topic set; returns its events/s."""


def measure(mongo_url: str, fill: Fill, events: int, customers: int, batch_size: int) -> tuple[float, float]:
    """Fill a fresh topic with `fill(kafka, events, customers)`, read it in Kafka's batches, time the store calls."""
    kafka = KafkaSettings(topic_prefix=f"ceiling{uuid4().hex[:8]}.")
    asyncio.run(ensure_topics(kafka))
    try:
        asyncio.run(fill(kafka, events, customers))
        batches = asyncio.run(kafka_batches(kafka, events, batch_size))
    finally:
        asyncio.run(delete_topics(kafka))
    return rate(mongo_url, batches)


def rebuild_rate(mongo_url: str, items: list[Item], batch_size: int) -> tuple[float, float]:
    """Events/s of a rebuild's store calls alone: each batch's timeline entries, then one checkpoint of every document.

    A rebuild folds in memory, so its store calls are the timeline inserts and its
    checkpoints (the real one checkpoints every 200k events or 2 minutes, so this single
    checkpoint makes the ceiling an upper bound).
    """
    docs: dict[str, dict[str, Any]] = {}
    batches = []
    for start in range(0, len(items), batch_size):
        _, batch = plan(docs, items[start : start + batch_size])
        batches.append(batch.entries)
    with scratch(mongo_url) as db:
        started = time.perf_counter()
        for entries in batches:
            db.customer_timeline.insert_many(entries, ordered=False)
        everyone = [docs[c] for c in sorted(docs)]
        for start in range(0, len(everyone), 1_000):
            db.customer_360.insert_many(everyone[start : start + 1_000], ordered=False)
        seconds = time.perf_counter() - started
    return len(items) / seconds, seconds


def figure(bench: str, size: str, value: float, calls: str, ceiling: float, seconds: float, notes: str) -> Figure:
    """The row "events/s vs the store alone": `value` beside the rate of `calls` made by raw pymongo."""
    return Figure(
        bench=bench,
        size=size,
        figure="events/s vs the store alone",
        value=value,
        unit="ev/s",
        baseline=calls,
        baseline_value=ceiling,
        goal="-",
        met=None,
        seconds=seconds,
        notes=f"store ceiling: {notes} (tests/bench/store_ceiling.py)",
    )
