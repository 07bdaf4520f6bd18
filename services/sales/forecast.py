"""The forecast: weighted pipeline, commit and best case per owner and period, per currency.

For the open deals expected to close in a period (and the deals won in it):
- `pipeline`  = Σ amount of open deals;
- `weighted`  = Σ amount × probability of open deals;
- `commit`    = won + Σ amount of open deals with probability ≥ `commit_threshold`;
- `best_case` = won + Σ amount of open deals with probability ≥ `best_case_threshold`;
- `won`       = Σ final amount of deals won, by their expected close date's period.
Amounts in different currencies are never added: each row is one currency.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from services.sales.views import Row

Period = Literal["month", "quarter"]


@dataclass
class ForecastRow:
    """One owner's forecast for one period in one currency."""

    owner: str
    period: str
    currency: str
    pipeline: Decimal = field(default=Decimal(0))
    weighted: Decimal = field(default=Decimal(0))
    commit: Decimal = field(default=Decimal(0))
    best_case: Decimal = field(default=Decimal(0))
    won: Decimal = field(default=Decimal(0))
    deals: int = 0


def period_of(day: date, period: Period) -> str:
    """`2026-03` for a month, `2026-Q1` for a quarter."""
    return f"{day.year}-{day.month:02d}" if period == "month" else f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def forecast(
    deals: Iterable[Row], *, period: Period, commit_threshold: Decimal, best_case_threshold: Decimal
) -> list[ForecastRow]:
    """Forecast rows ordered by owner, period and currency."""
    rows: dict[tuple[str, str, str], ForecastRow] = {}
    for deal in deals:
        d = deal.data
        if d["status"] == "lost":
            continue
        key = (deal.owner or "", period_of(date.fromisoformat(d["close_date"]), period), d["currency"])
        row = rows.setdefault(key, ForecastRow(*key))
        row.deals += 1
        amount, probability = d["amount"], d["probability"]
        if d["status"] == "won":
            row.won += amount
            row.commit += amount
            row.best_case += amount
            continue
        row.pipeline += amount
        row.weighted += amount * probability
        row.commit += amount if probability >= commit_threshold else Decimal(0)
        row.best_case += amount if probability >= best_case_threshold else Decimal(0)
    return [rows[k] for k in sorted(rows)]
