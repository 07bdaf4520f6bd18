"""Benchmark: a full `crm rebuild analytics` next to a raw aiokafka read of the same topics.

Fills fresh topics with a mix of every stream's events for many customers (a
registration each, then orders, campaign touches and tickets), then in the same run
(1) reads every topic from offset 0 with a bare `AIOKafkaConsumer` (the ceiling: Kafka
and the client alone) and (2) runs the real rebuild (`services.analytics.rebuild`) into
a new generation and switches to it, in a child process so its peak memory (max RSS)
is its own. Absolute numbers on a shared 2-core machine are noisy: read the ratio.

Usage (servers up, `.local/stack.env` loaded):
`python -m tests.bench.rebuild_rate --events 1000000 --customers 50000`
(`make bench` runs a small one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid5

from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient, MongoClient

from services.analytics.projection import Item
from services.analytics.rebuild import Rebuild
from services.analytics.settings import AnalyticsSettings, RebuildSettings
from services.analytics.tests.builders import Stream, order
from shared.events.topics import STREAMS
from shared.platform.kafka import KafkaSettings
from shared.platform.topicadmin import delete_topics, ensure_topics
from tests.bench import store_ceiling
from tests.bench.figures import Figure
from tests.bench.projector_throughput import raw_rate

NAMESPACE = UUID("0b6a3f52-52f4-4d0e-a0f1-5a8a1f4b8c11")
CEILING_EVENTS = 150_000
"""Events of the store-ceiling baseline at most (folded in memory first)."""


def rebuild_events(total: int, customers: int) -> Iterator[Item]:
    """`total` events: each customer registers, then orders, touches and tickets in turn."""
    s = Stream()
    ids = [str(uuid5(NAMESPACE, str(n))) for n in range(customers)]
    for n, customer in enumerate(ids[: min(customers, total)]):
        yield s.make("crm.customer.registered.v1", customer, customer, name=f"客户 {n}", emails=[f"c{n}@example.com"])
    for n in range(total - min(customers, total)):
        customer = ids[n % customers]
        kind = n % 10
        if kind < 6:
            yield order(s, customer, f"{n % 97 + 1}.00", n % 700, currency="USD")
        elif kind < 9:
            message = str(uuid5(NAMESPACE, f"m{n}"))
            yield s.make("crm.marketing.message_sent.v1", message, customer, message_id=message)
        else:
            ticket = str(uuid5(NAMESPACE, f"t{n}"))
            yield s.make("crm.support.ticket_opened.v1", ticket, customer, ticket_id=ticket)


async def fill(kafka: KafkaSettings, total: int, customers: int) -> float:
    """Publish the events; returns the producer's events/s (generation included)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap_servers, linger_ms=20, max_batch_size=1 << 20, **kafka.client_options()
    )
    await producer.start()
    started = time.perf_counter()
    try:
        pending = []
        for envelope, event in rebuild_events(total, customers):
            headers = [(k, v.encode()) for k, v in envelope.headers().items()]
            pending.append(
                await producer.send(kafka.topic(event.topic), envelope.body(), key=envelope.key, headers=headers)
            )
            if len(pending) >= 10_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return total / (time.perf_counter() - started)


def peak_rss_kib() -> int:
    """This process's own peak resident memory, in KiB.

    `VmHWM` of the process's memory map, not `getrusage`: Linux carries `ru_maxrss` over
    `execve` from the memory the process had before it, and a child started by
    `subprocess` (vfork) then reports the parent's peak (measured: 1,077 MiB reported for a
    rebuild whose own memory stayed under 400 MiB, the bench process having filled 1M events).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def rebuild_phase(prefix: str, database: str, batch_size: int, max_seconds: float | None) -> dict[str, Any]:
    """The rebuild itself (run in the child process): its result and this process's peak RSS.

    Bounded by `max_seconds`: a rebuild stopped there reports its rate so far (and stays unswitched).
    """
    kafka = KafkaSettings(topic_prefix=prefix)
    settings = AnalyticsSettings(database=database, rebuild=RebuildSettings(batch_size=batch_size))
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    try:
        result = await Rebuild(client, settings, kafka, lag_threshold=0).run(max_seconds=max_seconds)
    finally:
        await client.close()
    peak_kib = peak_rss_kib()
    return {
        "consumed": result.consumed,
        "applied": result.applied,
        "consume_seconds": result.consume_seconds,
        "seconds": result.seconds,
        "rate": result.rate,
        "peak_rss_mib": peak_kib / 1024,
    }


def measure(events: int, customers: int, batch_size: int, max_seconds: float | None) -> dict[str, Any]:
    """Fill fresh topics, read them raw, rebuild in a child process; the rates and the child's peak memory."""
    prefix = f"bench{os.getpid()}x{int(time.time())}."
    database = f"crm_{prefix[:-1]}"
    kafka = KafkaSettings(topic_prefix=prefix)
    asyncio.run(ensure_topics(kafka))
    mongo: MongoClient[dict[str, object]] = MongoClient(AnalyticsSettings().mongo_url)
    try:
        produced = asyncio.run(fill(kafka, events, customers))
        raw = asyncio.run(raw_rate(kafka, events, STREAMS))
        child = [sys.executable, "-m", "tests.bench.rebuild_rate", "--phase", "rebuild", "--prefix", prefix]
        child += ["--database", database, "--batch-size", str(batch_size)]
        child += ["--max-seconds", str(max_seconds)] if max_seconds else []
        done = subprocess.run(child, capture_output=True, text=True, check=True)
        rebuilt: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        asyncio.run(delete_topics(kafka))
        for name in (database, f"{database}_g1"):
            mongo.drop_database(name)
        mongo.close()
    return rebuilt | {"produced": produced, "raw": raw}


def run(quick: bool) -> list[Figure]:
    """The `make bench` figures: blue/green rebuild ÷ raw consumer (1M events), and the rebuild's peak memory."""
    events, customers = (5_000, 500) if quick else (1_000_000, 50_000)
    found = measure(events, customers, 5_000, 20 if quick else 240)
    size = f"{events:,} events / {customers:,} customers"
    rate, ratio = found["rate"], found["rate"] / found["raw"]
    sample = min(events, CEILING_EVENTS)  # the same events per customer: the same document sizes
    mongo_url = AnalyticsSettings().mongo_url
    ceiling, ceiling_seconds = store_ceiling.rebuild_rate(
        mongo_url, list(rebuild_events(sample, max(1, customers * sample // events))), 5_000
    )
    return [
        Figure(
            bench="blue/green rebuild",
            size=size,
            figure="events/s",
            value=rate,
            unit="ev/s",
            baseline="raw aiokafka consumer",
            baseline_value=found["raw"],
            goal="ratio >= 0.1 and >= 10,000 ev/s",
            met=None if quick else ratio >= 0.1 and rate >= 10_000,
            seconds=found["consume_seconds"],
        ),
        store_ceiling.figure(
            "blue/green rebuild",
            size,
            rate,
            f"its timeline inserts and a checkpoint by raw pymongo ({sample:,} events)",
            ceiling,
            ceiling_seconds,
            "the rebuild's writes alone, folded up front",
        ),
        Figure(
            bench="blue/green rebuild",
            size=size,
            figure="peak RSS",
            value=found["peak_rss_mib"],
            unit="MiB",
            baseline="-",
            baseline_value=None,
            goal="<= 1,024 MiB",
            met=None if quick else found["peak_rss_mib"] <= 1024,
            seconds=found["seconds"],
        ),
    ]


def main() -> None:
    """Run the benchmark and print a small report (or, with --phase rebuild, one JSON line)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--batch-size", type=int, default=5_000, help="records per rebuild batch")
    parser.add_argument("--phase", choices=["all", "rebuild"], default="all")
    parser.add_argument("--prefix", default=f"bench{os.getpid()}x{int(time.time())}.")
    parser.add_argument("--database", default="")
    parser.add_argument("--max-seconds", type=float, default=None, help="stop the rebuild after this long")
    args = parser.parse_args()
    if args.phase == "rebuild":
        database = args.database or f"crm_{args.prefix[:-1]}"
        print(json.dumps(asyncio.run(rebuild_phase(args.prefix, database, args.batch_size, args.max_seconds))))
        return
    rebuilt = measure(args.events, args.customers, args.batch_size, args.max_seconds)
    produced, raw = rebuilt["produced"], rebuilt["raw"]
    print(f"events: {args.events:,} over {args.customers:,} customers, all five streams; batch {args.batch_size}")
    print(f"producer (aiokafka)              {produced:9.0f} events/s")
    print(f"raw consumer (aiokafka)          {raw:9.0f} events/s")
    print(
        f"rebuild → MongoDB                {rebuilt['rate']:9.0f} events/s   "
        f"({rebuilt['consumed']:,} in {rebuilt['consume_seconds']:.0f} s; raw is {raw / rebuilt['rate']:.1f}x faster)"
    )
    print(f"rebuild incl. metrics and switch {rebuilt['seconds']:9.0f} s")
    print(f"rebuild peak memory (max RSS)    {rebuilt['peak_rss_mib']:9.0f} MiB")


if __name__ == "__main__":
    main()
