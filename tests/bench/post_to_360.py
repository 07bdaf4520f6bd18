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
from uuid import uuid4

import httpx

from crm.devstack import SERVICES, Stack, environment
from shared.platform.auth import issue_token
from shared.platform.kafka import KafkaSettings
from shared.platform.topicadmin import delete_topics, ensure_topics

SECRET = "bench-secret-0123456789abcdef0123456789"


def measure(customer_url: str, analytics_url: str, count: int) -> tuple[list[float], list[float]]:
    """(POST latencies, POST→visible latencies) in milliseconds."""
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


def main() -> None:
    """Run the benchmark and print a small report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100)
    args = parser.parse_args()
    kafka = KafkaSettings(topic_prefix=f"bench{uuid4().hex[:8]}.")
    asyncio.run(ensure_topics(kafka))
    env = environment(
        {
            "CRM_KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
            "CRM_JWT_SECRET": SECRET,
            "CRM_ANALYTICS_DATABASE": f"crm_{kafka.topic_prefix[:-1]}",
            "CRM_CUSTOMER_STORE__SQLITE_PATH": f".local/bench/{kafka.topic_prefix}sqlite",
        }
    )
    stack = Stack(env, log_dir=Path(".local/bench/logs"))
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
