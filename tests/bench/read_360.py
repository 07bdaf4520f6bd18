"""Benchmark: `GET /customers/{id}/360` latency at 100k customers next to a raw pymongo `find_one`.

Fills a fresh analytics database with 360 documents (insert_many, as a rebuild writes
them), starts the real analytics API on it, then reads random customers one at a time
through the API and, in the same run, straight from the store with pymongo. The ratio
shows what the API adds (auth, masking, JSON) over the store's own lookup.
Usage: `python -m tests.bench.read_360 --customers 100000 --reads 2000`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4, uuid5

import httpx
from pymongo import MongoClient

from crm.devstack import SERVICES, Stack, environment
from services.analytics import customer360
from shared.platform.auth import issue_token
from tests.bench.figures import Figure

SECRET = "bench-secret-0123456789abcdef0123456789"
NAMESPACE = UUID("5a0a63f5-8f34-4c55-8e7e-6f0cf0f0b360")


def document(n: int) -> dict[str, Any]:
    """A 360 of a customer with a profile, a few orders and a timeline index, as the projector writes it."""
    customer_id = str(uuid5(NAMESPACE, str(n)))
    doc = customer360.new_document(customer_id)
    doc.update(
        name=f"客户 {n}",
        emails=[f"c{n}@example.com"],
        phones=[f"+86139{n:08d}"],
        first_event_at="2026-01-01T00:00:00+00:00",
        last_event_at="2026-06-01T00:00:00+00:00",
        event_count=5,
        versions={customer_id: 1},
        sales={"order_count": n % 7, "revenue": {"USD": f"{n % 997}.50"}, "refunds": {}},
        timeline_index=[f"2026-0{m + 1}-01T00:00:00+00:00|{uuid5(NAMESPACE, f'{n}/{m}')}" for m in range(5)],
    )
    return doc


def percentile(values: list[float], p: int) -> float:
    """The p-th percentile (1..99)."""
    return statistics.quantiles(values, n=100)[p - 1]


def measure(customers: int, reads: int) -> dict[str, Any]:
    """Latencies in ms of `reads` random 360 reads through the API and straight from the store."""
    database = f"crm_bench{uuid4().hex[:8]}"
    env = environment({"CRM_JWT_SECRET": SECRET, "CRM_ANALYTICS_DATABASE": database})
    mongo: MongoClient[dict[str, Any]] = MongoClient(env.get("CRM_MONGO_URL", "mongodb://127.0.0.1:27017/"))
    collection = mongo[database]["customer_360"]
    stack = Stack(env, log_dir=Path(".local/bench/logs"))
    try:
        for start in range(0, customers, 1_000):
            collection.insert_many([document(n) for n in range(start, min(start + 1_000, customers))], ordered=False)
        stack.start(next(s for s in SERVICES if s.name == "analytics"))
        url = stack.running["analytics"].url
        picks = [str(uuid5(NAMESPACE, str(n))) for n in random.Random(7).choices(range(customers), k=reads)]
        auth = {"Authorization": f"Bearer {issue_token(SECRET, 'bench', ['sales_rep'])}"}
        api, raw = [], []
        started = time.perf_counter()
        with httpx.Client(headers=auth, timeout=30) as client:
            for customer_id in picks[:20]:  # warm-up: connections, the generation lookup
                client.get(f"{url}/customers/{customer_id}/360").raise_for_status()
            for customer_id in picks:
                t = time.perf_counter()
                client.get(f"{url}/customers/{customer_id}/360").raise_for_status()
                api.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                if collection.find_one({"_id": customer_id}) is None:
                    raise LookupError(customer_id)
                raw.append((time.perf_counter() - t) * 1000)
        seconds = time.perf_counter() - started
    finally:
        stack.stop_all()
        mongo.drop_database(database)
        mongo.close()
    return {"api": api, "raw": raw, "seconds": seconds}


def run(quick: bool) -> list[Figure]:
    """The `make bench` figures: p50 and p99 of a 360 read at 100k customers, against raw find_one."""
    customers, reads = (2_000, 200) if quick else (100_000, 3_000)
    found = measure(customers, reads)
    size = f"{customers:,} customers, {reads:,} reads"
    figures = []
    for p, goal in ((50, "-"), (99, "p99 <= 20 ms")):
        value, base = percentile(found["api"], p), percentile(found["raw"], p)
        met = None if quick or goal == "-" else value <= 20
        figures.append(
            Figure(
                "GET /customers/{id}/360",
                size,
                f"p{p}",
                value,
                "ms",
                f"raw find_one p{p}",
                base,
                goal,
                met,
                found["seconds"],
            )
        )
    return figures


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=2_000)
    args = parser.parse_args()
    found = measure(args.customers, args.reads)
    for name in ("api", "raw"):
        values = found[name]
        print(f"{name:4} p50 {percentile(values, 50):6.2f} ms   p99 {percentile(values, 99):6.2f} ms")


if __name__ == "__main__":
    main()
