"""Timeline entries as the projection stores them, for metric and report tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from services.analytics.tests.memorydb import Database

_ids = itertools.count(1)


def uid(name: str) -> str:
    """A stable UUID string per name, so tests read as names."""
    return str(uuid5(NAMESPACE_URL, name))


def at(day: str) -> str:
    """An ISO UTC timestamp (as pydantic writes it) from `YYYY-MM-DD`."""
    return datetime.fromisoformat(day).replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def entry(customer: str, kind: str, time: str, /, **data: Any) -> dict[str, Any]:
    """One timeline entry of `crm.<kind>.v1` about `customer`."""
    n = next(_ids)
    return {
        "_id": f"evt-{n}",
        "customer_id": uid(customer),
        "time": time,
        "type": f"crm.{kind}.v1",
        "source": "/crm/test",
        "aggregate_id": data.get("order_id") or uid(customer),
        "aggregate_version": n,
        "data": data,
        "erased": False,
    }


def business(kind: str, time: str, /, **data: Any) -> dict[str, Any]:
    """One business event (no customer) of `crm.<kind>.v1`."""
    doc = entry("nobody", kind, time, **data)
    doc.pop("customer_id")
    return doc


def imported(customer: str, day: str, total: str, currency: str = "USD", order: str | None = None) -> dict[str, Any]:
    """An imported, paid order."""
    order_id = uid(order or f"{customer}-{day}-{total}")
    return entry(customer, "sales.order_imported", at(day), order_id=order_id, external_id=order_id,
                 currency=currency, total=total, quantity=1, placed_at=at(day), paid_at=at(day))  # fmt: skip


def placed(customer: str, day: str, total: str, order: str) -> dict[str, Any]:
    """An order placed (not yet paid)."""
    return entry(customer, "sales.order_placed", at(day), order_id=uid(order), source="direct", currency="USD",
                 total=total, placed_at=at(day))  # fmt: skip


def paid(customer: str, day: str, amount: str, order: str) -> dict[str, Any]:
    """A payment of an order."""
    return entry(customer, "sales.order_paid", at(day), order_id=uid(order), amount=amount, currency="USD",
                 paid_at=at(day))  # fmt: skip


def refunded(customer: str, day: str, amount: str, order: str) -> dict[str, Any]:
    """A refund of an order."""
    return entry(customer, "sales.order_refunded", at(day), order_id=uid(order), amount=amount,
                 refunded_total=amount, currency="USD", refunded_at=at(day))  # fmt: skip


def cancelled(customer: str, day: str, order: str) -> dict[str, Any]:
    """A cancellation of an order."""
    return entry(customer, "sales.order_cancelled", at(day), order_id=uid(order), reason="changed mind",
                 cancelled_at=at(day))  # fmt: skip


def store(entries: list[dict[str, Any]], profiles: dict[str, dict[str, Any]] | None = None) -> Database:
    """A database holding these timeline entries and 360 documents for every customer named."""
    db = Database()
    for e in entries:
        coll = db["customer_timeline"] if "customer_id" in e else db["business_events"]
        coll.docs[e["_id"]] = e
    for e in entries:
        if "customer_id" in e:
            db["customer_360"].docs.setdefault(e["customer_id"], {"_id": e["customer_id"], "merged_into": None})
    for name, fields in (profiles or {}).items():
        db["customer_360"].docs.setdefault(uid(name), {"_id": uid(name), "merged_into": None}).update(fields)
    return db
