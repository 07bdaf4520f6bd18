"""Report snapshots: a report "as of now" kept as one document with a known `_id`, served only while exact.

Why: every report reads its whole population, and on the local read store a read that is
not by `_id` scans the collection (~35 µs a document), so at 100,000 customers one
dashboard load (seven reports) took seconds. A report over the default window (no
`since`, `until` = now) is stored once computed, with the *watermarks* of what it read:
`projected` advances with every batch the projector writes, `metrics` with every job
that writes `customer_metrics`; nothing else writes either. A stored report is served
while

- the watermarks of its sources are those it was computed at (nothing it reads changed),
- its reporting rules (currency, churn and conversion days) are today's,
- the UTC day it was computed on has not ended (churn, cohorts and periods move with the
  date alone), and no fact it left out as dated after its `until` has come due.

So a served snapshot is the report computed now, read with one `find` by `_id`: a cache
that is never stale, not a cache with a time to live. The price: while the projector is
busy, reports over its collections are computed again on each request, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from bson.errors import BSONError
from pymongo.errors import PyMongoError

from services.analytics.reports.source import Db, Report, Window
from services.analytics.watermarks import SNAPSHOTS, WATERMARK, Source

log = logging.getLogger("crm.analytics.reports")

Build = Callable[[Db, Window], Awaitable[Report]]


@dataclass(frozen=True)
class Served:
    """A report and when it was computed (earlier than now when it came from its snapshot)."""

    report: Report
    computed_at: datetime


def snapshot_id(name: str, w: Window) -> str:
    """The `_id` of the snapshot of report `name` grouped by `w.period`."""
    return f"{name}|{w.period}"


def _rules(w: Window) -> dict[str, Any]:
    return {"currency": w.currency, "churned_days": w.churned_days, "conversion_days": w.conversion_days}


def valid_until(w: Window) -> datetime:
    """When a report computed over `w` stops being the report "as of now": the next UTC midnight, or earlier."""
    midnight = datetime.combine(w.until.astimezone(UTC).date() + timedelta(days=1), time(), UTC)
    due = w.due()
    return midnight if due is None else min(midnight, due)


def _exact(stored: dict[str, Any], marks: dict[str, int], w: Window) -> bool:
    return (
        stored.get("watermarks") == marks
        and stored.get("rules") == _rules(w)
        and w.until < stored["valid_until"]  # aware: every analytics client is tz_aware (`mongo_client`)
    )


async def served(db: Db, name: str, w: Window, sources: Sequence[Source], build: Build) -> Served:
    """Report `name` over the default window `w`: its snapshot while exact, else computed now and stored."""
    key = snapshot_id(name, w)
    found = {d["_id"]: d async for d in db[SNAPSHOTS].find({"_id": {"$in": [key, WATERMARK]}})}
    marks: dict[str, int] = {s: int(found.get(WATERMARK, {}).get(s, 0)) for s in sorted(sources)}
    stored = found.get(key)
    if stored is not None and _exact(stored, marks, w):
        report = Report(stored["columns"], stored["rows"], stored["summary"])
        return Served(report, stored["computed_at"])
    report = await build(db, w)
    await _store(db, key, report, marks, w)
    return Served(report, w.until)


async def _store(db: Db, key: str, report: Report, marks: dict[str, int], w: Window) -> None:
    """Keep the report for the next request; a report the store cannot hold is only not kept."""
    doc = {
        "_id": key,
        "columns": list(report.columns),
        "rows": report.rows,
        "summary": report.summary,
        "watermarks": marks,
        "rules": _rules(w),
        "computed_at": w.until,
        "valid_until": valid_until(w),
    }
    try:
        await db[SNAPSHOTS].replace_one({"_id": key}, doc, upsert=True)
    except (BSONError, PyMongoError) as exc:  # too large, or a key the store refuses: computed each time
        log.warning("report snapshot %s not stored: %s", key, exc)
