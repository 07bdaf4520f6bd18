"""The sales pipeline: open deals by stage, win rate, sales cycle length and the weighted forecast.

Opportunities are folded from their timeline events (opened, stage changed, updated, won,
lost, reopened), so the report sees each deal's amount, probability and expected close date
as of its latest event. Weighted = amount × probability; the forecast sums weighted open
amounts by the period of the expected close date.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from services.analytics.reports.periods import days, parse_time, period_key
from services.analytics.reports.source import Db, Report, Window, mean_median, money, ratio, timeline

P = "crm.sales.opportunity_"
TYPES = [P + k + ".v1" for k in ("opened", "stage_changed", "updated", "won", "lost", "reopened")]


def fold(deals: dict[str, dict[str, Any]], entry: dict[str, Any]) -> None:
    """Apply one opportunity event to the deal it names."""
    data, kind = entry.get("data") or {}, entry["type"].removeprefix(P).removesuffix(".v1")
    if "opportunity_id" not in data:
        return
    deal = deals.setdefault(data["opportunity_id"], {"status": "open", "opened_at": None})
    if kind == "opened":
        deal.update(
            stage=data["stage"],
            amount=data["amount"],
            currency=data["currency"],
            probability=data["probability"],
            close=data["expected_close_date"],
            opened_at=entry["time"],
        )
    elif kind == "stage_changed":
        deal.update(stage=data["to_stage"], probability=data["probability"])
    elif kind == "updated":
        deal.update(
            {
                k: data[v]
                for k, v in (("amount", "amount"), ("probability", "probability"), ("close", "expected_close_date"))
                if data.get(v) is not None
            }
        )
    elif kind == "won":
        deal.update(status="won", amount=data["amount"], currency=data["currency"], closed_at=data["won_at"])
    elif kind == "lost":
        deal.update(status="lost", closed_at=data["lost_at"])
    elif kind == "reopened":
        deal.update(status="open", stage=data["stage"], probability=data["probability"], closed_at=None)  # fmt: skip


async def deals_of(db: Db, w: Window) -> dict[str, dict[str, Any]]:
    """Every opportunity's state from its events recorded before `until`, in event time order."""
    entries = [e async for e in timeline(db, TYPES) if w.before(parse_time(e["time"]))]
    deals: dict[str, dict[str, Any]] = {}
    for entry in sorted(entries, key=lambda e: (e["time"], e.get("aggregate_version", 0))):
        fold(deals, entry)
    return deals


def _by_stage(deals: dict[str, dict[str, Any]], w: Window) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rows per open stage and currency, weighted forecast per close period and currency)."""
    stages: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    forecast: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for deal in (d for d in deals.values() if d["status"] == "open" and "stage" in d):
        amount = Decimal(deal["amount"])
        weighted = amount * Decimal(deal["probability"])
        bucket = stages[(deal["stage"], deal["currency"])]
        bucket[0], bucket[1], bucket[2] = bucket[0] + 1, bucket[1] + amount, bucket[2] + weighted
        closes = parse_time(deal["close"] + "T00:00:00+00:00")
        forecast[(period_key(closes, w.period), deal["currency"])] += weighted
    rows = [
        {"stage": s, "currency": c, "deals": n, "amount": money(a), "weighted_amount": money(wa)}
        for (s, c), (n, a, wa) in sorted(stages.items())
    ]
    outlook = [{"period": p, "currency": c, "weighted_amount": money(v)} for (p, c), v in sorted(forecast.items())]
    return rows, outlook


async def pipeline(db: Db, w: Window) -> Report:
    """Open deals per stage and currency (count, amount, weighted), win rate, cycle days, forecast by close period."""
    deals = await deals_of(db, w)
    rows, forecast = _by_stage(deals, w)
    closed = [d for d in deals.values() if d["status"] != "open" and w.holds(parse_time(d["closed_at"]))]
    outcome = Counter(d["status"] for d in closed)
    cycles = [
        days(parse_time(d["closed_at"]) - parse_time(d["opened_at"]))
        for d in closed
        if d["status"] == "won" and d["opened_at"]
    ]
    mean_days, median_days = mean_median(cycles)
    summary = {
        "won": outcome["won"],
        "lost": outcome["lost"],
        "win_rate": ratio(outcome["won"], outcome["won"] + outcome["lost"]),
        "sales_cycle_days_mean": mean_days,
        "sales_cycle_days_median": median_days,
        "forecast": forecast,
    }
    return Report(["stage", "currency", "deals", "amount", "weighted_amount"], rows, summary)
