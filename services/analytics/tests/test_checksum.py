"""Checksums: canonical, independent of storage order, and naming the documents that differ."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from bson import Decimal128

from services.analytics.checksum import Difference, canonical, combine, differences, digests
from services.analytics.generations import PROJECTION_COLLECTIONS
from services.analytics.tests.memorydb import Database


def test_canonical_encoding_ignores_key_order_and_normalises_times_and_decimals() -> None:
    shanghai = timezone(timedelta(hours=8))
    a = {"b": 1, "a": "王芳", "when": datetime(2026, 1, 1, 8, tzinfo=shanghai), "money": Decimal128("10.50")}
    b = {"money": Decimal("10.50"), "when": datetime(2026, 1, 1, 0, tzinfo=UTC), "a": "王芳", "b": 1}
    assert canonical(a) == canonical(b)
    assert "王芳".encode() in canonical(a)
    assert canonical({"x": [1, 2]}) != canonical({"x": [2, 1]})


async def _db(docs: list[dict[str, object]]) -> Database:
    db = Database()
    for name in PROJECTION_COLLECTIONS:
        await db[name].insert_many([dict(d) for d in docs])
    return db


async def test_the_checksum_does_not_depend_on_insertion_order() -> None:
    docs: list[dict[str, object]] = [{"_id": f"c{n}", "n": n} for n in range(20)]
    forward = combine(await digests(await _db(docs)))  # type: ignore[arg-type]
    backward = combine(await digests(await _db(list(reversed(docs)))))  # type: ignore[arg-type]
    assert forward.value == backward.value
    assert forward.counts == dict.fromkeys(PROJECTION_COLLECTIONS, 20)


async def test_differences_name_each_document_and_how_it_differs() -> None:
    live = await digests(await _db([{"_id": "a", "n": 1}, {"_id": "b", "n": 2}]))  # type: ignore[arg-type]
    fresh = await digests(await _db([{"_id": "a", "n": 1}, {"_id": "b", "n": 3}, {"_id": "c", "n": 4}]))  # type: ignore[arg-type]
    found = differences(live, fresh)
    assert Difference("customer_360", "b", "differs") in found
    assert Difference("customer_360", "c", "only in second") in found
    assert all(d.id != "a" for d in found)
    assert combine(live).value != combine(fresh).value
    assert differences(live, live) == []
