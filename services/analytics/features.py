"""Purchase histories per customer, and the per-customer summaries the purchase and spend models fit on.

Which orders count, for how much, and for whom (merges, refunds, cancellations, erasure)
is decided once, in `services.analytics.purchases`, so RFM and CLV agree. On top of it:
- a transaction is a purchase (placed or imported, not cancelled) in the models' currency,
  unless it was refunded in full; its spend is what was paid net of refunds (so an order
  not yet paid is a purchase event with no spend yet, and a $0 order, which CDNOW has,
  is a transaction as in the literature);
- several orders of a customer on the same UTC day are one transaction (as in the
  literature); its spend is their sum.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from pymongo.asynchronous.database import AsyncDatabase

from services.analytics import purchases
from services.analytics.clv import Array

History = dict[date, Decimal]
"""One customer's transactions: spend per UTC day, in date order."""


def histories(orders: Mapping[str, Iterable[purchases.Order]], currency: str) -> dict[str, History]:
    """Per customer, the spend per day of their orders that count (see the module docstring)."""
    result: dict[str, dict[date, Decimal]] = {}
    for customer_id in sorted(orders):
        days: dict[date, Decimal] = defaultdict(Decimal)
        for order in orders[customer_id]:
            refunded_in_full = order.paid > 0 and order.net <= 0
            if order.is_purchase and order.currency == currency and order.placed_at and not refunded_in_full:
                days[order.placed_at.astimezone(UTC).date()] += max(order.net, Decimal(0))
        if days:
            result[customer_id] = dict(sorted(days.items()))
    return result


async def load_histories(db: AsyncDatabase[dict[str, Any]], currency: str, as_of: datetime) -> dict[str, History]:
    """Every customer's purchase history as of `as_of`, from the timeline."""
    return histories(await purchases.load_orders(db, as_of), currency)


@dataclass(frozen=True)
class Summary:
    """Per customer who bought by the cut: repeat purchases x, last at t_x, age T (time units), avg repeat spend m."""

    customer_ids: list[str]
    x: Array
    t_x: Array
    big_t: Array
    m: Array
    cut: date
    unit_days: float


def summarise(all_histories: Mapping[str, History], cut: date, unit_days: float) -> Summary:
    """The (x, t_x, T, m) summary of every customer's transactions on or before `cut` (customers sorted by id)."""
    ids, rows = [], []
    for customer_id in sorted(all_histories):
        days = [d for d in all_histories[customer_id] if d <= cut]
        if not days:
            continue
        first, last = days[0], days[-1]
        repeat = [all_histories[customer_id][d] for d in days[1:]]
        m = float(sum(repeat, Decimal(0)) / len(repeat)) if repeat else 0.0
        ids.append(customer_id)
        rows.append((len(repeat), (last - first).days / unit_days, (cut - first).days / unit_days, m))
    table = np.array(rows, dtype=np.float64).reshape(-1, 4)
    return Summary(ids, table[:, 0], table[:, 1], table[:, 2], table[:, 3], cut, unit_days)


def transactions_between(history: History, after: date, until: date) -> int:
    """Transactions (days with a purchase) in (after, until]."""
    return sum(1 for d in history if after < d <= until)


def spend_between(history: History, after: date, until: date) -> Decimal:
    """Spend in (after, until]."""
    return sum((v for d, v in history.items() if after < d <= until), Decimal(0))
