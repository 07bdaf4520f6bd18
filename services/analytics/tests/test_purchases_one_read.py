"""A refit's one read of the orders: later passes come from memory until the projector writes again."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from services.analytics import purchases, watermarks
from services.analytics.projection import Customer360Projection
from services.analytics.tests.builders import Stream, order
from services.analytics.tests.memorydb import Database


async def projected_orders(db: Database, count: int) -> None:
    s, customer = Stream(), str(uuid4())
    await Customer360Projection(db).apply_batch([order(s, customer, "10.00", day) for day in range(count)])  # type: ignore[arg-type]


async def order_ids(db: Database) -> list[str]:
    return sorted([e["data"]["order_id"] async for e in purchases.order_entries(db)])  # type: ignore[arg-type]


def forget_the_timeline(db: Database) -> None:
    """Empty the store behind the reader's back (no watermark moves): only a memory can still answer."""
    db["customer_timeline"].docs.clear()


async def test_inside_one_read_the_orders_are_read_from_the_store_once() -> None:
    db = Database()
    await projected_orders(db, 3)
    with purchases.one_read(db):  # type: ignore[arg-type]
        first = await order_ids(db)
        forget_the_timeline(db)
        assert await order_ids(db) == first
        assert len(first) == 3
    assert await order_ids(db) == []  # outside the block, every read goes to the store


async def test_a_batch_projected_meanwhile_makes_the_next_reader_read_the_store_again() -> None:
    db = Database()
    await projected_orders(db, 2)
    with purchases.one_read(db):  # type: ignore[arg-type]
        assert len(await order_ids(db)) == 2
        await projected_orders(db, 1)  # advances the `projected` watermark
        assert len(await order_ids(db)) == 3


async def test_past_the_limit_nothing_is_kept() -> None:
    db = Database()
    await projected_orders(db, 3)
    with purchases.one_read(db, limit=2):  # type: ignore[arg-type]
        assert len(await order_ids(db)) == 3
        forget_the_timeline(db)
        assert await order_ids(db) == []


async def test_merges_are_kept_until_the_watermark_moves() -> None:
    db = Database()
    db["customer_360"].docs["a"] = {"_id": "a", "merged_into": "b"}
    with purchases.one_read(db):  # type: ignore[arg-type]
        assert await purchases.merges(db) == {"a": "b"}  # type: ignore[arg-type]
        db["customer_360"].docs["a"]["merged_into"] = "c"
        assert await purchases.merges(db) == {"a": "b"}  # type: ignore[arg-type]
        await watermarks.advance(db, "projected")  # type: ignore[arg-type]
        assert await purchases.merges(db) == {"a": "c"}  # type: ignore[arg-type]


async def test_a_shared_read_of_another_database_is_not_used() -> None:
    one, other = Database("one"), Database("other")
    await projected_orders(one, 1)
    seen: dict[str, Any] = {}
    with purchases.one_read(other):  # type: ignore[arg-type]
        seen["one"] = await order_ids(one)
        forget_the_timeline(one)
        assert await order_ids(one) == []
    assert len(seen["one"]) == 1
