"""Customer reports: revenue over time, headline KPIs, lifecycle/tier distribution, cohorts, churn rate."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal

from services.analytics.metrics import STAGES, TIERS
from services.analytics.purchases import CANCELLED, IMPORTED, PAID, PLACED, REFUNDED, order_entries
from services.analytics.reports.periods import parse_time, period_index, period_key, period_label, period_start
from services.analytics.reports.source import METRICS, Db, Report, Window, money, purchase_dates, ratio

MONEY_AT = {IMPORTED: ("paid_at", "total"), PAID: ("paid_at", "amount"), REFUNDED: ("refunded_at", "amount")}
IN_CURRENCY = ("orders", "revenue", "average_order_value")
"""KPIs counted per currency: the reporting currency's in the plain rows, each other's in a row of its own."""
COUNT_AT = {IMPORTED: "placed_at", PLACED: "placed_at", CANCELLED: "cancelled_at"}


async def revenue(db: Db, w: Window) -> Report:
    """Per period and currency: orders placed and cancelled, money paid and refunded, each in its own currency.

    Each fact lands in the period of its own business date: an order when placed, a
    payment when paid, a refund when refunded; a cancellation in its order's currency.
    Amounts are never converted (no FX guessing): a period with CNY and USD orders has a
    row for each, the reporting currency's first.
    """
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    sums: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(
        lambda: {"revenue": Decimal(0), "refunds": Decimal(0)}
    )
    currency_of: dict[str, str] = {}
    cancellations: list[tuple[str, str]] = []  # (order id, period): the order's currency may come later
    async for entry in order_entries(db):  # the five order types: IMPORTED, PLACED, PAID, REFUNDED, CANCELLED
        data, kind = entry.get("data") or {}, entry["type"]
        if not data:
            continue
        if kind in (IMPORTED, PLACED):
            currency_of[data["order_id"]] = data["currency"]
        if kind in COUNT_AT and w.holds(at := parse_time(data[COUNT_AT[kind]])):
            if kind == CANCELLED:
                cancellations.append((data["order_id"], period_key(at, w.period)))
            else:
                counts[(period_key(at, w.period), data["currency"])]["orders"] += 1
        if kind in MONEY_AT and w.holds(at := parse_time(data[MONEY_AT[kind][0]])):
            key = (period_key(at, w.period), data["currency"])
            sums[key]["refunds" if kind == REFUNDED else "revenue"] += Decimal(data[MONEY_AT[kind][1]])
    for order_id, period in cancellations:
        counts[(period, currency_of.get(order_id, w.currency))]["cancelled"] += 1
    rows = []
    for period, currency in sorted(set(counts) | set(sums), key=lambda k: (k[0], k[1] != w.currency, k[1])):
        paid, back = sums[(period, currency)]["revenue"], sums[(period, currency)]["refunds"]
        counted = counts[(period, currency)]
        rows.append({"period": period, "orders": counted["orders"], "cancelled": counted["cancelled"],
                     "revenue": money(paid), "refunds": money(back), "net_revenue": money(paid - back),
                     "currency": currency})  # fmt: skip
    currencies = sorted({c for _, c in set(counts) | set(sums)}, key=lambda c: (c != w.currency, c))
    return Report(
        ["period", "orders", "cancelled", "revenue", "refunds", "net_revenue", "currency"],
        rows,
        {"currencies": currencies, "reporting_currency": w.currency},
    )


async def lifecycle(db: Db, w: Window) -> Report:
    """Customers by lifecycle stage × value tier (purchasers), with the stage and tier totals."""
    matrix: Counter[tuple[str, str]] = Counter()
    async for doc in db[METRICS].find({"merged_into": None, "lifecycle_stage": {"$ne": None}}, {"rfm": 0}):
        matrix[(doc["lifecycle_stage"], doc["value_tier"])] += 1
    rows = [{"lifecycle_stage": s, "value_tier": t, "customers": matrix[(s, t)]} for s in STAGES for t in TIERS]
    stages = {s: sum(matrix[(s, t)] for t in TIERS) for s in STAGES}
    tiers = {t: sum(matrix[(s, t)] for s in STAGES) for t in TIERS}
    return Report(["lifecycle_stage", "value_tier", "customers"], rows, {"stages": stages, "tiers": tiers})


async def cohorts(db: Db, w: Window) -> Report:
    """Cohort = period of the first purchase; retention at offset k = share who bought in period cohort + k."""
    active: dict[int, dict[int, int]] = defaultdict(Counter)
    sizes: Counter[int] = Counter()
    for dates in (await purchase_dates(db, w)).values():
        cohort = period_index(dates[0], w.period)
        if w.since is not None and period_start(cohort, w.period) < w.since.date():
            continue
        sizes[cohort] += 1
        for index in {period_index(d, w.period) for d in dates}:
            active[cohort][index - cohort] += 1
    last = period_index((w.until - timedelta(microseconds=1)).date(), w.period)
    rows = [
        {"cohort": period_label(c, w.period), "size": sizes[c], "offset": k, "customers": active[c][k],
         "retention": ratio(active[c][k], sizes[c])}
        for c in sorted(sizes)
        for k in range(last - c + 1)
    ]  # fmt: skip
    return Report(["cohort", "size", "offset", "customers", "retention"], rows)


def _churned_at(dates: list[date], churned_days: int, until: date) -> list[date]:
    """Each day this customer became churned (more than `churned_days` without a purchase), before `until`."""
    gap = timedelta(days=churned_days + 1)
    ends = [*dates[1:], until]
    return [d + gap for d, nxt in zip(dates, ends, strict=True) if d + gap < nxt]


def _alive(dates: list[date], day: date, churned_days: int) -> bool:
    """A purchaser on `day`: bought before it, and the last purchase before it is recent enough."""
    before = [d for d in dates if d < day]
    return bool(before) and (day - before[-1]).days <= churned_days


async def churn_rate(db: Db, w: Window) -> Report:
    """Per period: customers alive at its start, how many of them churned in it, and the ratio.

    Churn is the purchase-inactivity rule. A customer who first bought and churned within
    the same period was not among those it began with, so is not counted: the rate can
    never exceed 1 ("2 churned out of 0" at the start of a quarter, before).
    """
    history, until = await purchase_dates(db, w), w.until.date()
    starts: Counter[int] = Counter()
    churned: Counter[int] = Counter()
    first = min((d[0] for d in history.values()), default=until)
    begin = period_index(max(first, w.since.date()) if w.since else first, w.period)
    end = period_index(until - timedelta(days=1), w.period)
    for dates in history.values():
        alive = {i for i in range(begin, end + 1) if _alive(dates, period_start(i, w.period), w.churned_days)}
        for index in alive:
            starts[index] += 1
        for day in _churned_at(dates, w.churned_days, until):
            if (index := period_index(day, w.period)) in alive:  # churn of a customer the period began with
                churned[index] += 1
    rows = [
        {"period": period_label(i, w.period), "customers_at_start": starts[i], "churned": churned[i],
         "churn_rate": ratio(churned[i], starts[i])}
        for i in range(begin, end + 1)
    ]  # fmt: skip
    return Report(["period", "customers_at_start", "churned", "churn_rate"], rows, {"churned_days": w.churned_days})


async def kpis(db: Db, w: Window) -> Report:
    """Headline numbers from `customer_metrics`: customers, purchasers, revenue, AOV, repeat rate, stages, CLV.

    `revenue`, `orders` and `average_order_value` are the reporting currency's; every
    currency customers bought in has its own in `revenue_by_currency`,
    `orders_by_currency` and `average_order_value_by_currency` (never converted here).
    """
    c: Counter[str] = Counter()
    clv_total, clv_n, risk_total, risk_n = 0.0, 0, 0.0, 0
    revenues: dict[str, Decimal] = defaultdict(Decimal)
    orders: Counter[str] = Counter()
    async for doc in db[METRICS].find({"merged_into": None}, {"rfm": 0}):
        c["customers"] += 1
        c["purchasers"] += doc.get("order_count", 0) > 0
        c["repeat_purchasers"] += doc.get("order_count", 0) > 1
        c[f"stage_{doc.get('lifecycle_stage')}"] += 1
        for currency, amount in (doc.get("revenue_by_currency") or {}).items():
            revenues[currency] += Decimal(amount)
        orders.update(doc.get("orders_by_currency") or {})
        if isinstance(clv := (doc.get("clv") or {}).get("clv"), int | float):
            clv_total, clv_n = clv_total + clv, clv_n + 1
        if isinstance(risk := (doc.get("churn") or {}).get("risk"), int | float):
            risk_total, risk_n = risk_total + risk, risk_n + 1
    currencies = sorted(set(revenues) | set(orders) | {w.currency}, key=lambda code: (code != w.currency, code))
    paid = {k: money(revenues[k]) for k in currencies}
    aov = {k: money(revenues[k] / orders[k]) if orders[k] else None for k in currencies}
    summary = {
        "customers": c["customers"], "purchasers": c["purchasers"], "orders": orders[w.currency],
        "revenue": paid[w.currency], "currency": w.currency,
        "average_order_value": aov[w.currency],
        "repeat_purchase_rate": ratio(c["repeat_purchasers"], c["purchasers"]),
        "active_customers": sum(c[f"stage_{s}"] for s in ("new", "active", "returning")),
        "dormant_customers": c["stage_dormant"], "churned_customers": c["stage_churned"],
        "churned_share": ratio(c["stage_churned"], c["purchasers"]),
        "average_clv": round(clv_total / clv_n, 2) if clv_n else None,
        "average_churn_risk": round(risk_total / risk_n, 4) if risk_n else None,
        "revenue_by_currency": paid,
        "orders_by_currency": {k: orders[k] for k in currencies},
        "average_order_value_by_currency": aov,
    }  # fmt: skip
    rows = [{"kpi": k, "value": v, "currency": w.currency if k in IN_CURRENCY else None}
            for k, v in summary.items() if not isinstance(v, dict)]  # fmt: skip
    per_currency: dict[str, Mapping[str, object]] = {"orders": orders, "revenue": paid, "average_order_value": aov}
    rows += [{"kpi": k, "value": per_currency[k][code], "currency": code}
             for code in currencies[1:] for k in IN_CURRENCY]  # fmt: skip
    return Report(["kpi", "value", "currency"], rows, summary)
