"""Reports over the models' scores: how predicted CLV is spread, and who is most likely to churn.

Both read `customer_metrics`, which only the refit job writes, so their snapshots stay
exact from one refit to the next (`snapshots.py`). The dashboard draws them; before,
it fetched the top 500 customers by CLV and histogrammed those, which hid everyone else.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from decimal import Decimal
from typing import Any

from services.analytics.reports.source import METRICS, Db, Report, Window, money

BANDS = (0, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000)
WATCH = 20
WATCH_COLUMNS = [
    "customer_id", "churn_risk", "clv", "lifecycle_stage", "value_tier", "orders", "last_purchase_at",
]  # fmt: skip


def _band(value: float) -> int:
    """Index of the band holding `value` (a negative CLV, which the model never gives, counts in the first)."""
    return max(0, bisect_right(BANDS, value) - 1)


def _percentile(ordered: list[float], share: float) -> float | None:
    """Nearest-rank percentile of sorted values."""
    if not ordered:
        return None
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


async def clv(db: Db, w: Window) -> Report:
    """Customers and predicted value per CLV band (reporting currency), with mean, median and 90th percentile.

    Bands widen with value (0-10, 10-25, ... 10,000+) because CLV is heavy-tailed: equal
    widths would put nearly everyone in the first.
    """
    values: list[float] = []
    async for doc in db[METRICS].find({"merged_into": None, "clv.clv": {"$exists": True}}, {"clv": 1}):
        if isinstance(value := (doc.get("clv") or {}).get("clv"), int | float):
            values.append(float(value))
    values.sort()
    counts, sums = [0] * len(BANDS), [Decimal(0)] * len(BANDS)
    for value in values:
        n = _band(value)
        counts[n] += 1
        sums[n] += Decimal(str(value))
    rows = [
        {"band": f"{edge:,}+" if n == len(BANDS) - 1 else f"{edge:,}-{BANDS[n + 1]:,}", "from": str(edge),
         "to": None if n == len(BANDS) - 1 else str(BANDS[n + 1]), "customers": counts[n], "clv": money(sums[n]),
         "currency": w.currency}
        for n, edge in enumerate(BANDS)
    ]  # fmt: skip
    total = sum(sums, Decimal(0))
    summary: dict[str, Any] = {
        "customers": len(values),
        "total": money(total),
        "mean": round(float(total) / len(values), 2) if values else None,
        "median": _percentile(values, 0.5),
        "p90": _percentile(values, 0.9),
        "currency": w.currency,
    }
    return Report(["band", "from", "to", "customers", "clv", "currency"], rows, summary)


async def churn_watch(db: Db, w: Window) -> Report:
    """The `WATCH` customers with the highest churn risk (then the highest CLV, then by id), who to call first.

    One pass ranks everyone by their two scores alone; the rows of the few chosen are then
    read by `_id`.
    """
    ranked: list[tuple[float, float, str]] = []
    query = {"merged_into": None, "churn.risk": {"$exists": True}}
    async for doc in db[METRICS].find(query, {"churn.risk": 1, "clv.clv": 1}).batch_size(1000):
        risk, value = (doc.get("churn") or {}).get("risk"), (doc.get("clv") or {}).get("clv")
        if isinstance(risk, int | float):
            ranked.append((-float(risk), -float(value) if isinstance(value, int | float) else 0.0, str(doc["_id"])))
    chosen = [customer for *_, customer in heapq.nsmallest(WATCH, ranked)]
    found = {d["_id"]: d async for d in db[METRICS].find({"_id": {"$in": chosen}})}
    rows = [_watch_row(found[c]) for c in chosen if c in found]
    return Report(WATCH_COLUMNS, rows, {"customers": len(rows), "currency": w.currency})


def _watch_row(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "customer_id": str(doc["_id"]),
        "churn_risk": doc["churn"]["risk"],
        "clv": (doc.get("clv") or {}).get("clv"),
        "lifecycle_stage": doc.get("lifecycle_stage"),
        "value_tier": doc.get("value_tier"),
        "orders": doc.get("order_count", 0),
        "last_purchase_at": doc.get("last_purchase_at"),
    }
