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

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from services.analytics import watermarks

IMPORTED = "crm.sales.order_imported.v1"
PLACED = "crm.sales.order_placed.v1"
PAID = "crm.sales.order_paid.v1"
REFUNDED = "crm.sales.order_refunded.v1"
CANCELLED = "crm.sales.order_cancelled.v1"
ORDER_TYPES = (IMPORTED, PLACED, PAID, REFUNDED, CANCELLED)
SHARED_ENTRIES_LIMIT = 300_000
"""Order entries one shared read keeps in memory at most (~1 KB each); past that, reads stream again."""

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


@dataclass
class _SharedRead:
    """What one `one_read` block has read from database `db` so far."""

    db: str
    limit: int
    entries: list[dict[str, Any]] | None = None
    entries_mark: int = -1
    """The `projected` watermark before `entries` were read: they are served only while it stays there."""
    merged: dict[str, str] | None = None
    merged_mark: int = -1
    too_many: bool = False


_SHARED: ContextVar[_SharedRead | None] = ContextVar("analytics_shared_order_read", default=None)


@contextmanager
def one_read(db: AsyncDatabase[dict[str, Any]], limit: int = SHARED_ENTRIES_LIMIT) -> Iterator[None]:
    """Within the block, `db`'s order entries and merges are read from the store once, then from memory.

    A refit computes metrics, the CLV and churn fits and the dashboard's reports, and each
    of them reads every order entry: five full reads of the timeline on our local store
    (seconds each at 70k orders; the type filter cannot use an index there). Read once,
    they are also one consistent picture: a batch projected mid-refit can no longer give
    the metrics one set of orders and the reports another. Up to `limit` entries are kept
    (callers only read them); with more, every read streams from the store as outside.
    What was kept is served only while the `projected` watermark stays where it was before
    the read (one lookup by `_id` each time): once the projector writes a batch, the next
    reader reads the store again, so a report snapshot stamped with the watermark it saw
    first never holds older orders than that watermark promises.
    """
    token = _SHARED.set(_SharedRead(db.name, limit))
    try:
        yield
    finally:
        _SHARED.reset(token)


def _shared(db: AsyncDatabase[dict[str, Any]]) -> _SharedRead | None:
    shared = _SHARED.get()
    return shared if shared is not None and shared.db == db.name else None


async def merges(db: AsyncDatabase[dict[str, Any]]) -> dict[str, str]:
    """Merged-away customer → the customer it was merged into, from the 360 documents."""
    shared = _shared(db)
    mark = await watermarks.current(db, "projected") if shared is not None else -1
    if shared is not None and shared.merged is not None and shared.merged_mark == mark:
        return shared.merged
    cursor = db["customer_360"].find({"merged_into": {"$ne": None}}, {"merged_into": 1})
    merged = {doc["_id"]: doc["merged_into"] async for doc in cursor if doc.get("merged_into")}
    if shared is not None:
        shared.merged, shared.merged_mark = merged, mark
    return merged


async def order_entries(db: AsyncDatabase[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    """Every order-related timeline entry (`customer_id`, `type`, `data`), streamed; read-only.

    Inside `one_read`, the first complete pass is kept and later passes are served from it.
    """
    shared = _shared(db)
    mark = await watermarks.current(db, "projected") if shared is not None else -1
    if shared is not None and shared.entries is not None and shared.entries_mark == mark:
        for entry in shared.entries:
            yield entry
        return
    keeper = shared if shared is not None and not shared.too_many else None
    kept: list[dict[str, Any]] = []
    query = {"type": {"$in": list(ORDER_TYPES)}}
    async for entry in db["customer_timeline"].find(query, {"customer_id": 1, "type": 1, "data": 1}):
        if keeper is not None and len(kept) < keeper.limit:
            kept.append(entry)
        elif keeper is not None:
            keeper.too_many, keeper, kept = True, None, []
        yield entry
    if keeper is not None:
        keeper.entries, keeper.entries_mark = kept, mark


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
