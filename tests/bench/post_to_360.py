"""Benchmark: how long from `POST /customers` until the customer is visible in the 360.

Starts an isolated platform on the local servers (like the integration tests), registers
customers one at a time and polls the analytics API for each. Absolute times on a shared
2-core machine are noisy, so the report also gives the ratio to the POST alone, measured
in the same run. Usage: `make bench` (or `python -m tests.bench.post_to_360 --customers 100`).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
from pymongo import AsyncMongoClient, MongoClient

from crm.devstack import SERVICES, Stack, environment
from shared.platform.auth import issue_token
from shared.platform.kafka import KafkaSettings
from shared.platform.topicadmin import delete_topics, ensure_topics
from tests.bench.figures import Figure

SECRET = "bench-secret-0123456789abcdef0123456789"


def measure(customer_url: str, analytics_url: str, count: int) -> tuple[list[float], list[float]]:
    """(POST latencies, POST→visible latencies) in milliseconds, one customer at a time."""
    auth = {"Authorization": f"Bearer {issue_token(SECRET, 'bench', ['sales_rep'])}"}
    posts, visible = [], []
    with httpx.Client(headers=auth, timeout=30) as client:
        for n in range(count):
            started = time.perf_counter()
            body = {"name": f"基准 {n}", "emails": [f"bench{n}@example.com"]}
            customer_id = client.post(f"{customer_url}/customers", json=body).raise_for_status().json()["id"]
            posts.append((time.perf_counter() - started) * 1000)
            while client.get(f"{analytics_url}/customers/{customer_id}/360").status_code != 200:
                time.sleep(0.002)
            visible.append((time.perf_counter() - started) * 1000)
    return posts, visible


async def steady(
    customer_url: str, mongo_url: str, database: str, rate: float, seconds: float
) -> tuple[list[float], list[float]]:
    """(POST latencies, POST→visible latencies) in ms of commands sent at a steady `rate` for `seconds`.

    Each command is sent on schedule whatever the others are doing (an open loop, as
    users arrive), and its 360 document is looked for every 10 ms by `_id` in the read
    store itself: polling through the analytics API would put hundreds of requests a
    second on the same two cores as the pipeline being measured.
    """
    auth = {"Authorization": f"Bearer {issue_token(SECRET, 'bench', ['sales_rep'])}"}
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    customers = mongo[database]["customer_360"]
    posts: list[float] = []
    visible: list[float] = []

    async def one(client: httpx.AsyncClient, n: int) -> None:
        started = time.perf_counter()
        body = {"name": f"基准 {n}", "emails": [f"steady{n}@example.com"]}
        response = await client.post(f"{customer_url}/customers", json=body)
        customer_id = response.raise_for_status().json()["id"]
        posts.append((time.perf_counter() - started) * 1000)
        give_up = started + 30
        while await customers.find_one({"_id": customer_id}, {"_id": 1}) is None:
            if time.perf_counter() > give_up:
                raise TimeoutError(f"customer {customer_id} not in the 360 after 30 s")
            await asyncio.sleep(0.01)
        visible.append((time.perf_counter() - started) * 1000)

    try:
        # Idle connections are dropped by the client before uvicorn's 5 s keep-alive closes them: reusing one
        # the server is closing at that instant fails the request (httpx.ReadError), a race of the client's making.
        limits = httpx.Limits(max_connections=64, keepalive_expiry=2)
        async with httpx.AsyncClient(headers=auth, timeout=30, limits=limits) as client:
            await one(client, -1)  # warm-up: the projector's group has joined, connections are open
            posts.clear()
            visible.clear()
            tasks = []
            begin = time.perf_counter()
            for n in range(int(rate * seconds)):
                await asyncio.sleep(max(0.0, begin + n / rate - time.perf_counter()))
                tasks.append(asyncio.create_task(one(client, n)))
            await asyncio.gather(*tasks)
    finally:
        await mongo.close()
    return posts, visible


def _stack(prefix: str) -> tuple[KafkaSettings, Stack, str]:
    kafka = KafkaSettings(topic_prefix=prefix)
    asyncio.run(ensure_topics(kafka))
    database = f"crm_{kafka.topic_prefix[:-1]}"
    env = environment(
        {
            "CRM_KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
            "CRM_JWT_SECRET": SECRET,
            "CRM_ANALYTICS_DATABASE": database,
            "CRM_CUSTOMER_STORE__SQLITE_PATH": f".local/bench/{kafka.topic_prefix}sqlite",
        }
    )
    return kafka, Stack(env, log_dir=Path(".local/bench/logs")), database


def percentile(values: list[float], p: int) -> float:
    """The p-th percentile (1..99)."""
    return statistics.quantiles(values, n=100)[p - 1]


def run(quick: bool) -> list[Figure]:
    """The `make bench` figure: POST → visible in the 360 at a steady 100 commands/s for 60 s."""
    rate, seconds = (20.0, 3.0) if quick else (100.0, 60.0)
    kafka, stack, database = _stack(f"bench{uuid4().hex[:8]}.")
    mongo_url = stack.env.get("CRM_MONGO_URL", "mongodb://127.0.0.1:27017/")
    try:
        for service in SERVICES:
            if service.name in ("customer", "customer-relay", "analytics-projector"):
                stack.start(service)
        posts, visible = asyncio.run(steady(stack.running["customer"].url, mongo_url, database, rate, seconds))
    finally:
        stack.stop_all()
        asyncio.run(delete_topics(kafka))
        MongoClient(mongo_url).drop_database(database)
    size = f"{rate:.0f} commands/s for {seconds:.0f} s"
    figures = []
    for p, goal in ((50, "-"), (99, "p99 <= 250 ms")):
        value, base = percentile(visible, p), percentile(posts, p)
        met = None if quick or goal == "-" else value <= 250
        figures.append(
            Figure(
                "POST /customers -> 360",
                size,
                f"p{p} visible",
                value,
                "ms",
                f"POST alone p{p}",
                base,
                goal,
                met,
                seconds,
            )
        )
    return figures


def main() -> None:
    """Run the benchmark and print a small report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100)
    args = parser.parse_args()
    kafka, stack, _ = _stack(f"bench{uuid4().hex[:8]}.")
    try:
        for service in SERVICES:
            if service.name in ("customer", "customer-relay", "analytics-projector", "analytics"):
                stack.start(service)
        posts, visible = measure(stack.running["customer"].url, stack.running["analytics"].url, args.customers)
    finally:
        stack.stop_all()
        asyncio.run(delete_topics(kafka))
    report(posts, visible)


def report(posts: list[float], visible: list[float]) -> None:
    """Median and 95th percentile of both, and their ratio."""

    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20)[-1]

    print(f"customers: {len(posts)}")
    print(f"POST /customers          median {statistics.median(posts):7.1f} ms   p95 {p95(posts):7.1f} ms")
    print(f"POST → visible in 360    median {statistics.median(visible):7.1f} ms   p95 {p95(visible):7.1f} ms")
    print(f"ratio visible/POST (median): {statistics.median(visible) / statistics.median(posts):.1f}x")


if __name__ == "__main__":
    main()
