"""The exchange-rate table an admin maintains, and converting report amounts with it.

Amounts are kept and reported in the currency they were paid in. A report converts
to the reporting currency only when asked (`?convert=true`) and only with a rate an
admin entered here: never a rate fetched or guessed. A rate says how many units of the
reporting currency one unit of `currency` was worth from `valid_from` on, until the
next rate of the same currency; a rate entered for another reporting currency is kept
but not used.

Which rate converts what:
- a row of a time series (it has a `period`) converts at the rate in effect on the
  period's last day (or the report's `until`, if earlier): the period's closing rate;
- a figure without a period (a KPI) converts at the rate in effect on the report's `until`.
An amount with no rate in effect is never dropped and never converted: its converted
figure is `null` and the summary's `missing_rates` names the currency and the day.

The table lives beside the generations' control collection, not in a generation, so a
rebuild of the projections keeps it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from pymongo.asynchronous.database import AsyncDatabase

from services.analytics.reports.periods import period_last_day
from services.analytics.reports.source import Report, Window, money
from shared.events.timestamps import IsoDateTime

RATES = "fx_rates"
MAX_RATE = Decimal(10) ** 9
Db = AsyncDatabase[dict[str, Any]]


class RateIn(BaseModel):
    """A rate as an admin enters it."""

    rate: Decimal = Field(
        gt=0,
        le=MAX_RATE,
        decimal_places=10,
        description="Units of the reporting currency one unit of the currency was worth (at most 10 decimals).",
        examples=["0.1378"],
    )


class Rate(BaseModel):
    """One dated rate of the table."""

    currency: str = Field(description="ISO 4217 code of the currency converted from.")
    to: str = Field(description="The reporting currency the rate converts to.")
    valid_from: date = Field(description="First day (UTC) the rate is in effect; it holds until the next one.")
    rate: Decimal
    set_by: str
    set_at: IsoDateTime


def rate_id(to: str, currency: str, valid_from: date) -> str:
    """The `_id` of a rate: one per reporting currency, currency and day."""
    return f"{to}:{currency}:{valid_from.isoformat()}"


def to_document(rate: Rate) -> dict[str, Any]:
    """A rate as stored (the rate as an exact decimal string)."""
    doc = rate.model_dump(mode="json")
    return doc | {"_id": rate_id(rate.to, rate.currency, rate.valid_from)}


def from_document(doc: Mapping[str, Any]) -> Rate:
    """A stored rate."""
    return Rate.model_validate({k: v for k, v in doc.items() if k != "_id"})


@dataclass(frozen=True)
class RateTable:
    """The rates into one reporting currency, by currency, in date order."""

    to: str
    days: Mapping[str, list[date]]
    rates: Mapping[str, list[Decimal]]

    @classmethod
    def of(cls, to: str, rates: Iterable[Rate]) -> RateTable:
        """The table of the rates converting into `to`."""
        days: dict[str, list[date]] = {}
        values: dict[str, list[Decimal]] = {}
        for r in sorted((r for r in rates if r.to == to), key=lambda r: (r.currency, r.valid_from)):
            days.setdefault(r.currency, []).append(r.valid_from)
            values.setdefault(r.currency, []).append(r.rate)
        return cls(to, days, values)

    def at(self, currency: str, day: date) -> Decimal | None:
        """The rate of `currency` in effect on `day` (1 for the reporting currency), None if none is."""
        if currency == self.to:
            return Decimal(1)
        i = bisect.bisect_right(self.days.get(currency, []), day)
        return self.rates[currency][i - 1] if i else None


async def load(db: Db, to: str) -> RateTable:
    """The table into reporting currency `to`, read whole (a few rows per currency and month)."""
    return RateTable.of(to, [from_document(d) async for d in db[RATES].find({"to": to})])


MONEY_COLUMNS = ("revenue", "refunds", "net_revenue")
"""Columns of a per-currency series that hold amounts in the row's currency."""


def convert(report: Report, w: Window, table: RateTable) -> Report:
    """`report` with converted figures beside the originals (see the module docstring); the rest as it was."""
    missing: set[tuple[str, str]] = set()

    def converted(amount: Any, currency: str, day: date) -> str | None:
        rate = table.at(currency, day)
        if rate is None:
            missing.add((currency, day.isoformat()))
            return None
        return money(Decimal(amount) * rate)

    until = w.until.date()
    rows, columns = report.rows, list(report.columns)
    if rows and {"currency", "period"} <= set(columns) and set(MONEY_COLUMNS) & set(columns):
        columns += [f"converted_{c}" for c in MONEY_COLUMNS if c in columns]
        rows = []
        for row in report.rows:
            day = min(period_last_day(row["period"], w.period), until)
            rows.append(row | {f"converted_{c}": converted(row[c], row["currency"], day)
                               for c in MONEY_COLUMNS if c in row})  # fmt: skip
    summary = dict(report.summary)
    by_currency = summary.get("revenue_by_currency")
    if isinstance(by_currency, dict):
        parts = {code: converted(amount, code, until) for code, amount in by_currency.items()}
        known = [Decimal(v) for v in parts.values() if v is not None]
        summary["revenue_converted"] = money(sum(known, Decimal(0))) if len(known) == len(parts) else None
    summary["converted_to"] = table.to
    summary["missing_rates"] = [{"currency": c, "day": d} for c, d in sorted(missing)]
    return Report(columns, rows, summary)
