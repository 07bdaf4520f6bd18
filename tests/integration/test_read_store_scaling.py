"""The read store answers every query shape the platform sends in O(log n), not O(n).

Each shape is timed on a collection of 1,000 documents and on one of 100,000 in the same
run, and the per-operation cost may grow at most 3x (a ratio: absolute times are noise on
a shared 2-core machine; a full table scan grows ~100x here). The medians of many
operations are compared, so one slow outlier cannot decide.

Our local store is FerretDB v1.24.2 on SQLite, built with the patches in
`deploy/local/ferretdb/`. Without them every shape below scans the table:
- by `_id` (find_one, replace_one, update_one, delete_one): the `_id` expression did not
  match the `_id` index (patch 0001);
- `_id: {$in: [...]}` (find, delete_many) and `_id` plus another condition: only a filter
  that was exactly `{_id: <value>}` was pushed down to SQLite (patch 0003).
A write command of 100 or more statements hung the server (patch 0002); the bulk tests
below send 1,000 at once.

Which platform queries take which shape (docs/read-store.md has the full list): pushed
down by the patches, the projector's batch load (`_id $in`), its bulk replaces, the 360,
metrics and scores by `_id`, and the segment preview (`_id $in` plus conditions);
redesigned to be read by `_id`, a customer's timeline (page, point-in-time 360, erasure),
which used to be queried by `customer_id`, and the dashboard's reports, kept as snapshot
documents read with their watermark by `_id $in` (`services/analytics/reports/snapshots.py`;
the shape is `find_ids_in` below) instead of computed from whole collections on each load.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any
from uuid import uuid4

import pytest
from pymongo import InsertOne, MongoClient, ReplaceOne, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database

from tests.integration.servers import Servers

SMALL, LARGE = 1_000, 100_000
OPERATIONS = 60
"""Timed operations per shape and collection; each touches a different random document."""
MAX_GROWTH = 3.0
BULK = 1_000

Doc = dict[str, Any]


def key(i: int) -> str:
    return f"c{i:07d}"


def document(i: int) -> Doc:
    return {"_id": key(i), "n": i, "name": f"顾客 {i}", "tier": ("gold", "silver", "bronze")[i % 3], "tags": ["a", "b"]}


def fill(collection: Collection[Doc], count: int) -> None:
    """insert_many in commands of 1,000 documents: seconds for 100k, not minutes."""
    for start in range(0, count, 1_000):
        collection.insert_many([document(i) for i in range(start, min(start + 1_000, count))], ordered=False)


@pytest.fixture(scope="module")
def store(real_servers: Servers) -> Iterator[Database[Doc]]:
    client: MongoClient[Doc] = MongoClient(real_servers.mongo_url, socketTimeoutMS=240_000)
    database = client[f"crm_it_scaling_{uuid4().hex[:8]}"]
    try:
        fill(database["small"], SMALL)
        fill(database["large"], LARGE)
        yield database
    finally:
        client.drop_database(database.name)
        client.close()


def median_cost(collection: Collection[Doc], size: int, operation: Callable[[Collection[Doc], int], object]) -> float:
    """Median seconds of `operation` on distinct random documents (after two untimed warm-ups)."""
    rng = random.Random(size)
    picks = rng.sample(range(size), OPERATIONS + 2)
    for i in picks[:2]:
        operation(collection, i)
    costs = []
    for i in picks[2:]:
        started = time.perf_counter()
        operation(collection, i)
        costs.append(time.perf_counter() - started)
    return statistics.median(costs)


def find_by_id(c: Collection[Doc], i: int) -> None:
    assert c.find_one({"_id": key(i)}) is not None


def replace_by_id(c: Collection[Doc], i: int) -> None:
    assert c.replace_one({"_id": key(i)}, document(i) | {"replaced": True}).matched_count == 1


def update_by_id(c: Collection[Doc], i: int) -> None:
    assert c.update_one({"_id": key(i)}, {"$inc": {"n": 1}, "$set": {"seen": True}}).matched_count == 1


def delete_by_id(c: Collection[Doc], i: int) -> None:
    assert c.delete_one({"_id": key(i)}).deleted_count == 1
    c.insert_one(document(i))  # the next shape finds the same population


def find_by_id_and_field(c: Collection[Doc], i: int) -> None:
    assert c.find_one({"_id": key(i), "tier": document(i)["tier"]}) is not None


def find_ids_in(c: Collection[Doc], i: int) -> None:
    assert len(list(c.find({"_id": {"$in": [key(i), *(f"absent-{j}" for j in range(49))]}}))) == 1


def delete_ids_in(c: Collection[Doc], i: int) -> None:
    assert c.delete_many({"_id": {"$in": [key(i), *(f"absent-{j}" for j in range(49))]}}).deleted_count == 1
    c.insert_one(document(i))


def segment_candidates(c: Collection[Doc], i: int) -> None:
    """Marketing's segment preview: candidates by `_id $in`, then metric conditions (api_customers)."""
    wanted = [key(j) for j in range(i, i + 50)]  # key(i) exists; some later ones may be past the end
    query = {"_id": {"$in": wanted}, "merged_into": None, "tier": {"$in": ["gold", "silver"]}, "n": {"$gte": 0}}
    assert len(list(c.find(query, {"_id": 1}))) > 0


SHAPES: dict[str, Callable[[Collection[Doc], int], object]] = {
    "find_one by _id": find_by_id,
    "replace_one by _id": replace_by_id,
    "update_one by _id": update_by_id,
    "delete_one by _id": delete_by_id,
    "find_one by _id and another field": find_by_id_and_field,
    "find by _id $in 50 ids": find_ids_in,
    "delete_many by _id $in 50 ids": delete_ids_in,
    "segment preview: _id $in 50 ids and conditions": segment_candidates,
}
"""Every shape whose filter has an `_id` condition; what the platform sends is listed in
the README's "Read store" section."""


@pytest.mark.parametrize("shape", list(SHAPES))
def test_cost_per_operation_does_not_grow_with_the_collection(store: Database[Doc], shape: str) -> None:
    operation = SHAPES[shape]
    small = median_cost(store["small"], SMALL, operation)
    large = median_cost(store["large"], LARGE, operation)
    growth = large / small
    print(f"{shape}: {small * 1e3:.2f} ms at {SMALL:,}, {large * 1e3:.2f} ms at {LARGE:,}: {growth:.2f}x")
    assert growth <= MAX_GROWTH, f"{shape} costs {growth:.1f}x more at {LARGE:,} documents than at {SMALL:,}"


@pytest.mark.parametrize(
    "query",
    [{"_id": "c0000001"}, {"_id": {"$in": ["c0000001", "c0000002"]}}, {"_id": "c0000001", "tier": "silver"}],
    ids=["equal", "in", "and another field"],
)
def test_id_conditions_search_the_index(store: Database[Doc], query: Doc) -> None:
    """SQLite's own query plan, as FerretDB's explain reports it: SEARCH the `_id` index, never SCAN."""
    plan = store.command("explain", {"find": "large", "filter": query})["queryPlanner"]["Plan"]
    assert any("USING INDEX" in step and "SEARCH" in step for step in plan), plan
    assert not any("SCAN" in step for step in plan), plan


def test_a_bulk_of_a_thousand_replaces_completes(store: Database[Doc]) -> None:
    ids = random.Random(1).sample(range(LARGE), BULK)
    result = store["large"].bulk_write([ReplaceOne({"_id": key(i)}, document(i) | {"bulk": 1}) for i in ids])
    assert (result.matched_count, result.modified_count) == (BULK, BULK)
    assert store["large"].count_documents({"_id": {"$in": [key(i) for i in ids[:100]]}, "bulk": 1}) == 100


def test_a_bulk_of_a_thousand_upserting_updates_completes(store: Database[Doc]) -> None:
    existing = random.Random(2).sample(range(LARGE), BULK // 2)
    new = range(LARGE, LARGE + BULK // 2)
    requests = [UpdateOne({"_id": key(i)}, {"$set": {"bulk": 2}}, upsert=True) for i in [*existing, *new]]
    result = store["large"].bulk_write(requests, ordered=False)
    assert (result.matched_count, result.upserted_count) == (BULK // 2, BULK // 2)
    assert store["large"].find_one({"_id": key(LARGE + 1)}) == {"_id": key(LARGE + 1), "bulk": 2}
    store["large"].bulk_write([InsertOne(document(0) | {"_id": "x"})])
    store["large"].delete_many({"_id": {"$in": ["x", *(key(i) for i in new)]}})
