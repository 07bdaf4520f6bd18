"""What reports read: streamed timeline and business events, merges, and the report shape they return."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from statistics import median
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pymongo.asynchronous.database import AsyncDatabase

from services.analytics.purchases import CANCELLED, IMPORTED, PLACED, merges, order_entries, resolve
from services.analytics.reports.periods import Period, parse_time
from shared.events.timestamps import IsoDateTime

Db = AsyncDatabase[dict[str, Any]]
TIMELINE = "customer_timeline"
BUSINESS = "business_events"
METRICS = "customer_metrics"


EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def _in_reach(moment: datetime) -> datetime:
    """Refuse a time no report can reach: its periods would run off the calendar (a 500 at year 1, before)."""
    if not EARLIEST <= moment <= LATEST:
        raise ValueError(f"a report window lies between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)")
    return moment


ReportTime = Annotated[IsoDateTime, AfterValidator(_in_reach)]


class ReportParams(BaseModel):
    """Query parameters every report accepts; unknown ones are a 422 naming them."""

    model_config = ConfigDict(extra="forbid")

    period: Period = Field(default="month", description="Grouping of time series.")
    since: ReportTime | None = Field(default=None, description="Only events on or after this time (1900 or later).")
    until: ReportTime | None = Field(
        default=None, description="Only events before this time (default: now; 3000 at the latest)."
    )
    format: str = Field(default="json", pattern="^(json|csv)$", description="csv streams the rows.")
    convert: bool = Field(
        default=False,
        description="Add figures converted to the reporting currency with the admins' dated rates (`/fx-rates`) "
        "beside the amounts in their own currencies: a series row at its period's closing rate, a KPI total at "
        "`until`'s; an amount without a rate converts to null and is named in `summary.missing_rates`.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> ReportParams:
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ValueError("since must be before until")
        return self


@dataclass(frozen=True)
class Window:
    """The resolved time window and rules of one report run (explicit `until`: reproducible)."""

    period: Period
    since: datetime | None
    until: datetime
    currency: str
    churned_days: int = 365
    conversion_days: int = 30
    later: list[datetime] = field(
        default_factory=list, init=False, compare=False, repr=False
    )  # the earliest left out, if any

    def holds(self, moment: datetime) -> bool:
        """Whether `moment` falls in the window."""
        return (self.since is None or moment >= self.since) and self.before(moment)

    def before(self, moment: datetime) -> bool:
        """Whether `moment` is before `until`; one that is not is remembered in `later`.

        A report left out a fact dated after its `until`; once that date has come, the
        same report asked "as of now" would include it (see `snapshots.py`).
        """
        if moment < self.until:
            return True
        if not self.later or moment < self.later[0]:
            self.later[:] = [moment]
        return False

    def due(self) -> datetime | None:
        """The date of the earliest fact this window left out as not yet due, if any."""
        return self.later[0] if self.later else None


@dataclass
class Report:
    """A report: named columns, one dict per row, and a summary of headline numbers."""

    columns: Sequence[str]
    rows: list[dict[str, Any]]
    summary: dict[str, Any] = field(default_factory=dict)


async def timeline(db: Db, types: Sequence[str]) -> AsyncIterator[dict[str, Any]]:
    """Timeline entries of these event types, streamed; erased entries have empty `data`."""
    async for entry in db[TIMELINE].find({"type": {"$in": list(types)}}).batch_size(1000):
        yield entry


async def business(db: Db, types: Sequence[str]) -> AsyncIterator[dict[str, Any]]:
    """Business events (not about a customer) of these types, streamed."""
    async for entry in db[BUSINESS].find({"type": {"$in": list(types)}}).batch_size(1000):
        yield entry


async def purchase_dates(db: Db, window: Window) -> dict[str, list[date]]:
    """Survivor customer → sorted UTC dates of their uncancelled purchases before `until`."""
    merged, cancelled = await merges(db), set()
    placed: list[tuple[str, dict[str, Any]]] = []
    async for entry in order_entries(db):  # one pass: cancellations may come after their order here
        data, kind = entry.get("data") or {}, entry["type"]
        if data and kind == CANCELLED and window.before(parse_time(data["cancelled_at"])):
            cancelled.add(data["order_id"])
        elif data and kind in (IMPORTED, PLACED) and window.before(parse_time(data["placed_at"])):
            placed.append((entry["customer_id"], data))
    seen: dict[str, tuple[str, date]] = {}
    for customer_id, data in placed:
        if data["order_id"] not in cancelled:
            seen[data["order_id"]] = (resolve(merged, customer_id), parse_time(data["placed_at"]).date())
    dates: dict[str, list[date]] = {}
    for customer, day in seen.values():
        dates.setdefault(customer, []).append(day)
    return {c: sorted(d) for c, d in dates.items()}


def ratio(numerator: float | Decimal, denominator: float | Decimal, places: int = 4) -> float | None:
    """numerator / denominator rounded, or None when the denominator is zero (undefined, not 0)."""
    if not denominator:
        return None
    return round(float(numerator) / float(denominator), places)


def money(amount: Decimal) -> str:
    """A money amount as an exact decimal string with two places (banker's rounding)."""
    return str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


def mean_median(values: Sequence[float]) -> tuple[float | None, float | None]:
    """(mean, median) rounded to 2 places, None for no values."""
    if not values:
        return None, None
    return round(sum(values) / len(values), 2), round(median(values), 2)
