"""Orders as analytics counts them: folded from timeline entries into per-order facts.

The timeline keeps every sales event as JSON, so an order's story is spread over up to
four entry types. Folding them here, once, gives reports, RFM and lifecycle the same
answer to "what did this customer buy, when, and for how much".

Rules (documented in the README):
- a purchase is an order placed or imported at `placed_at` (the business date), unless it
  was cancelled on or before `as_of`;
- money counts what was paid: an imported order's total, an `order_paid` amount, minus
  refunds, each only if its business date is on or before `as_of`;
- a merged-away customer's orders count for the survivor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

IMPORTED = "crm.sales.order_imported.v1"
PLACED = "crm.sales.order_placed.v1"
PAID = "crm.sales.order_paid.v1"
REFUNDED = "crm.sales.order_refunded.v1"
CANCELLED = "crm.sales.order_cancelled.v1"
ORDER_TYPES = (IMPORTED, PLACED, PAID, REFUNDED, CANCELLED)

Entry = Mapping[str, Any]


@dataclass
class Order:
    """One order as of a date: who, when, in which currency, what was paid net of refunds."""

    order_id: str
    customer_id: str
    placed_at: datetime | None = None
    currency: str | None = None
    paid: Decimal = Decimal(0)
    refunded: Decimal = Decimal(0)
    cancelled: bool = False

    @property
    def is_purchase(self) -> bool:
        """Placed (or imported) and not cancelled."""
        return self.placed_at is not None and not self.cancelled

    @property
    def net(self) -> Decimal:
        """Paid minus refunded."""
        return self.paid - self.refunded


def when(value: str) -> datetime:
    """An ISO timestamp from event data (always timezone-aware in the contract)."""
    return datetime.fromisoformat(value)


def apply_entry(orders: dict[str, Order], entry: Entry, as_of: datetime, survivor: str) -> None:
    """Fold one timeline entry into `orders` if its business date is on or before `as_of`."""
    data, kind = entry.get("data") or {}, entry.get("type")
    if "order_id" not in data:  # erased entries keep no data; nothing to count
        return
    order = orders.setdefault(data["order_id"], Order(data["order_id"], survivor))
    if kind in (IMPORTED, PLACED) and when(data["placed_at"]) <= as_of:
        order.placed_at, order.currency = when(data["placed_at"]), data["currency"]
        if kind == IMPORTED and when(data["paid_at"]) <= as_of:
            order.paid += Decimal(data["total"])
    elif kind == PAID and when(data["paid_at"]) <= as_of:
        order.paid += Decimal(data["amount"])
        order.currency = order.currency or data["currency"]
    elif kind == REFUNDED and when(data["refunded_at"]) <= as_of:
        order.refunded += Decimal(data["amount"])
    elif kind == CANCELLED and when(data["cancelled_at"]) <= as_of:
        order.cancelled = True


def resolve(merged_into: Mapping[str, str], customer_id: str) -> str:
    """The customer a (possibly chained) merge ended in; a cycle stops where it closes."""
    seen = {customer_id}
    while customer_id in merged_into and merged_into[customer_id] not in seen:
        customer_id = merged_into[customer_id]
        seen.add(customer_id)
    return customer_id


async def merges(db: AsyncDatabase[dict[str, Any]]) -> dict[str, str]:
    """Merged-away customer → the customer it was merged into, from the 360 documents."""
    cursor = db["customer_360"].find({"merged_into": {"$ne": None}}, {"merged_into": 1})
    return {doc["_id"]: doc["merged_into"] async for doc in cursor if doc.get("merged_into")}


async def order_entries(db: AsyncDatabase[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    """Every order-related timeline entry, streamed (never the whole list in memory)."""
    query = {"type": {"$in": list(ORDER_TYPES)}}
    async for entry in db["customer_timeline"].find(query, {"customer_id": 1, "type": 1, "data": 1}):
        yield entry


async def load_orders(db: AsyncDatabase[dict[str, Any]], as_of: datetime) -> dict[str, list[Order]]:
    """Survivor customer id → their orders as of `as_of` (cancelled ones included, flagged)."""
    merged = await merges(db)
    orders: dict[str, Order] = {}
    async for entry in order_entries(db):
        apply_entry(orders, entry, as_of, resolve(merged, entry["customer_id"]))
    by_customer: dict[str, list[Order]] = {}
    for order in orders.values():
        by_customer.setdefault(order.customer_id, []).append(order)
    return by_customer
