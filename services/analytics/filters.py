"""Validated query parameters of the analyst customer list, and the MongoDB filters they become.

Parameters are a pydantic model with `extra="forbid"`, so an unknown or malformed filter is
a 422 naming it; nothing reaches MongoDB unchecked. Pagination is keyset (cursor) on
(sort field, `_id`), which stays fast and consistent however deep the page.
"""

from __future__ import annotations

import base64
import json
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.analytics.metrics import Stage, Tier, days_between
from shared.events.timestamps import IsoDateTime

SORT_FIELDS: dict[str, str] = {
    "clv": "clv.clv",
    "churn_risk": "churn.risk",
    "revenue": "revenue_micros",
    "orders": "order_count",
    "recency": "last_purchase_at",  # days since the last purchase, counted when read: the reverse order
    "last_purchase": "last_purchase_at",
    "first_purchase": "first_purchase_at",
    "rfm": "rfm_segment",
    "p_alive": "clv.p_alive",
    "expected_purchases": "clv.expected_purchases",
    "id": "_id",
}
SortKey = Literal[
    "clv", "-clv", "churn_risk", "-churn_risk", "revenue", "-revenue", "orders", "-orders", "recency", "-recency",
    "last_purchase", "-last_purchase", "first_purchase", "-first_purchase", "rfm", "-rfm", "p_alive", "-p_alive",
    "expected_purchases", "-expected_purchases", "id", "-id",
]  # fmt: skip


DESCENDING_BY_DATE = frozenset({"recency"})
"""Sort keys over a date whose ascending order is the date's descending one (fewest days since first)."""


def days_since(last_purchase_at: str | None, now: datetime) -> int | None:
    """Whole days from the last purchase to `now`: counted when read, never stored.

    Stored, it would change every day for every purchaser, and each metrics run would
    rewrite them all.
    """
    return None if last_purchase_at is None else days_between(datetime.fromisoformat(last_purchase_at), now)


def last_purchase_bounds(min_days: float | None, max_days: float | None, now: datetime) -> dict[str, str]:
    """`last_purchase_at` bounds equal to "at least `min_days` and at most `max_days` whole days ago"."""
    bounds: dict[str, str] = {}
    if min_days is not None:  # (now - last).days >= n  <=>  last <= now - n days, n the least whole day allowed
        bounds["$lte"] = _days_ago(now, math.ceil(min_days)).isoformat()
    if max_days is not None:  # (now - last).days <= n  <=>  last > now - (n + 1) days
        bounds["$gt"] = _days_ago(now, math.floor(max_days) + 1).isoformat()
    return bounds


def _days_ago(now: datetime, days: int) -> datetime:
    """`now` minus `days` days (UTC), held inside the calendar: a bound past year 1 or 9999 bounds nothing more.

    Any whole number of days is a valid filter (`max_days_since_last_purchase=91634822`
    means "ever"), and must not become an `OverflowError` (a 500) on the way to a date.
    """
    now = now.astimezone(UTC)
    earliest, latest = datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)
    return now - timedelta(days=max((now - latest).days, min(days, (now - earliest).days)))


class BadCursor(ValueError):
    """The cursor was not issued by this API for this sort."""


MAX_AMOUNT = Decimal(9_000_000_000_000)
"""The largest amount a filter takes: revenue is kept in micro-units in a 64-bit integer (a 500 beyond, before)."""
MAX_COUNT = 1_000_000_000


class MetricFilter(BaseModel):
    """Conditions on customer metrics; all given conditions must hold (AND)."""

    model_config = ConfigDict(extra="forbid")

    lifecycle_stage: list[Stage] | None = Field(default=None, description="Any of these stages.")
    value_tier: list[Tier] | None = Field(default=None, description="Any of these tiers.")
    rfm_segment: list[Annotated[str, Field(pattern="^[1-5]{3}$")]] | None = Field(
        default=None, description='RFM cells, e.g. "555".'
    )
    country: list[Annotated[str, Field(pattern="^[A-Z]{2}$")]] | None = Field(
        default=None, description="ISO 3166-1 alpha-2 codes (the postal address's country, else the phone's)."
    )
    min_clv: Decimal | None = Field(default=None, description="CLV at least this (reporting currency).")
    max_clv: Decimal | None = None
    min_churn_risk: float | None = Field(default=None, ge=0, le=1, description="Churn risk at least this (0..1).")
    max_churn_risk: float | None = Field(default=None, ge=0, le=1)
    min_revenue: Decimal | None = Field(
        default=None, ge=-MAX_AMOUNT, le=MAX_AMOUNT, description="Net paid revenue at least this."
    )
    min_orders: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    max_days_since_last_purchase: int | None = Field(default=None, ge=0)
    min_days_since_last_purchase: int | None = Field(default=None, ge=0)
    last_purchase_after: IsoDateTime | None = Field(default=None, description="Last purchase strictly after.")
    last_purchase_before: IsoDateTime | None = Field(default=None, description="Last purchase strictly before.")

    @field_validator("lifecycle_stage", "value_tier", "rfm_segment", "country", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        """Accept `?value_tier=a,b` as well as `?value_tier=a&value_tier=b`."""
        items = [value] if isinstance(value, str) else value
        if isinstance(items, list):
            return [part.strip() for item in items for part in str(item).split(",") if part.strip()]
        return value

    def to_mongo(self, now: datetime) -> dict[str, Any]:
        """The MongoDB filter on `customer_metrics` (merged-away customers never listed); days count to `now`."""
        query: dict[str, Any] = {"merged_into": None}
        for name in ("lifecycle_stage", "value_tier", "rfm_segment", "country"):
            if (values := getattr(self, name)) is not None:
                query[name] = {"$in": values}
        _range(query, "clv.clv", _float(self.min_clv), _float(self.max_clv))
        _range(query, "churn.risk", self.min_churn_risk, self.max_churn_risk)
        _range(query, "revenue_micros", None if self.min_revenue is None else int(self.min_revenue.scaleb(6)), None)
        _range(query, "order_count", self.min_orders, None)
        days = last_purchase_bounds(self.min_days_since_last_purchase, self.max_days_since_last_purchase, now)
        after, before = _iso(self.last_purchase_after), _iso(self.last_purchase_before)
        if after is not None:
            days["$gt"] = max(after, days.get("$gt", after))
        if before is not None:
            days["$lt"] = before
        if days:
            query["last_purchase_at"] = days
        return query


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _iso(value: datetime | None) -> str | None:
    """Stored timestamps are ISO strings in UTC; compare like with like."""
    return None if value is None else value.astimezone(UTC).isoformat()


def _range(query: dict[str, Any], field: str, low: Any, high: Any) -> None:
    bounds = {op: v for op, v in (("$gte", low), ("$lte", high)) if v is not None}
    if bounds:
        query[field] = bounds


class CustomerQuery(MetricFilter):
    """The analyst list: filters, sort, page size, cursor and output format."""

    sort: SortKey = Field(default="-revenue", description="A metric; `-` sorts descending. Ties by id.")
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, description="`next` of the previous page.")
    after: str | None = Field(
        default=None, description="The same as `cursor`, under the name every other list of the platform uses."
    )
    format: Literal["json", "csv"] = Field(default="json", description="csv streams every matching row.")

    @property
    def sort_field(self) -> str:
        """The document field sorted on."""
        return SORT_FIELDS[self.sort.lstrip("-")]

    @property
    def descending(self) -> bool:
        """Whether the sort field is sorted descending (`recency` is `last_purchase_at` reversed)."""
        return self.sort.startswith("-") != (self.sort.lstrip("-") in DESCENDING_BY_DATE)

    def mongo_sort(self) -> list[tuple[str, int]]:
        """Sort spec: the field, then `_id` ascending for a total, deterministic order."""
        if self.sort_field == "_id":
            return [("_id", -1 if self.descending else 1)]
        return [(self.sort_field, -1 if self.descending else 1), ("_id", 1)]

    def after_cursor(self, query: dict[str, Any]) -> dict[str, Any]:
        """`query` restricted to rows after the cursor (None values sort first ascending, last descending)."""
        position = self.after or self.cursor
        if position is None:
            return query
        value, last_id = decode_cursor(position, self.sort)
        field, desc = self.sort_field, self.descending
        if field == "_id":
            return {"$and": [query, {"_id": {"$lt" if desc else "$gt": last_id}}]}
        same = {field: value, "_id": {"$gt": last_id}}
        if value is None:
            rest = [same] if desc else [same, {field: {"$ne": None}}]
        else:
            beyond = {field: {"$lt" if desc else "$gt": value}}
            rest = [beyond, same, {field: None}] if desc else [beyond, same]
        return {"$and": [query, {"$or": rest}]}


def field_value(doc: dict[str, Any], dotted: str) -> Any:
    """The value at a dotted path of a document (None if any part is missing)."""
    value: Any = doc
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def encode_cursor(doc: dict[str, Any], query: CustomerQuery) -> str:
    """An opaque cursor after `doc` for this sort."""
    raw = json.dumps([query.sort, field_value(doc, query.sort_field), doc["_id"]], ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str, sort: str) -> tuple[Any, str]:
    """(sort value, id) of a cursor; BadCursor if it is garbage or from another sort."""
    try:
        issued_for, value, last_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise BadCursor("cursor is not one this API issued") from exc
    if issued_for != sort or not isinstance(last_id, str):
        raise BadCursor(f"cursor was issued for sort={issued_for!r}, not {sort!r}")
    return value, last_id
