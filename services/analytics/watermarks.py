"""Watermarks: a counter per source of the read models, advanced by every writer of that source.

`projected` advances after each batch the projector writes (the 360s, the timeline, the
business events); `metrics` after each job that writes `customer_metrics`. A result
computed from a source is still exact while that source's watermark is where it was
before the read: report snapshots (`reports/snapshots.py`) and a refit's one read of the
orders (`purchases.one_read`) rely on it. Kept in one document with a known `_id`, so
reading them is one lookup by `_id`.
"""

from __future__ import annotations

from typing import Any, Literal

from pymongo.asynchronous.database import AsyncDatabase

SNAPSHOTS = "report_snapshots"
"""The collection holding the watermarks' document (beside the report snapshots that use it most)."""
WATERMARK = "watermark"
Source = Literal["projected", "metrics"]


async def advance(db: AsyncDatabase[dict[str, Any]], source: Source, **state: str) -> None:
    """Record that `source` changed: whatever was computed from it before is out of date from now on.

    Called by each writer of a source after it wrote, so a result computed while the write
    was under way carries the old watermark and is not trusted again. `state` is kept
    beside the watermark in the same write (the metrics job's `metrics_as_of`).
    """
    update: dict[str, Any] = {"$inc": {source: 1}} | ({"$set": state} if state else {})
    await db[SNAPSHOTS].update_one({"_id": WATERMARK}, update, upsert=True)


async def metrics_as_of(db: AsyncDatabase[dict[str, Any]]) -> str | None:
    """When the stored customer metrics were computed as of (ISO, UTC), None before the first run.

    One value for every row, so it lives here rather than in each of them: a row holding
    it would change on every run and the job would rewrite every purchaser each time.
    """
    doc = await db[SNAPSHOTS].find_one({"_id": WATERMARK}, {"metrics_as_of": 1})
    value = (doc or {}).get("metrics_as_of")
    return str(value) if value is not None else None


async def current(db: AsyncDatabase[dict[str, Any]], source: Source) -> int:
    """Where `source`'s watermark is now (0 before its first write)."""
    doc = await db[SNAPSHOTS].find_one({"_id": WATERMARK}, {source: 1})
    return int((doc or {}).get(source, 0))
