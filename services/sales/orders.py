"""The order aggregate: placed → paid → shipped → delivered, cancel before shipment, refunds."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.sales.domain import InvalidTransition, RefundTooLarge

PLACED, PAID, SHIPPED, DELIVERED, CANCELLED, REFUNDED = (
    "placed",
    "paid",
    "shipped",
    "delivered",
    "cancelled",
    "refunded",
)


class Order(Aggregate):
    """What a customer bought; imported history arrives already paid, in one event."""

    if TYPE_CHECKING:
        Placed: ClassVar[type[Aggregate.Event]]
        Paid: ClassVar[type[Aggregate.Event]]
        Shipped: ClassVar[type[Aggregate.Event]]
        Delivered: ClassVar[type[Aggregate.Event]]
        Cancelled: ClassVar[type[Aggregate.Event]]
        Refunded: ClassVar[type[Aggregate.Event]]
        Repointed: ClassVar[type[Aggregate.Event]]

    @event("Placed")
    def __init__(
        self,
        customer_id: UUID,
        owner: str | None,
        source: str,
        quote_id: UUID | None,
        currency: str,
        lines: list[dict[str, Any]],
        total: Decimal,
        quantity: int,
        placed_at: datetime,
        paid_at: datetime | None,
        external_id: str | None,
        id: UUID | None = None,
    ) -> None:
        self.customer_id, self.owner, self.source, self.quote_id = customer_id, owner, source, quote_id
        self.currency, self.lines, self.total, self.quantity = currency, list(lines), total, quantity
        self.placed_at, self.paid_at, self.external_id = placed_at, paid_at, external_id
        self.status = PAID if paid_at is not None else PLACED
        self.paid = total if paid_at is not None else Decimal(0)
        self.refunded = Decimal(0)

    def pay(self, amount: Decimal, at: datetime) -> None:
        """Record full payment of a placed order."""
        if self.status != PLACED:
            raise InvalidTransition(f"cannot pay a {self.status} order")
        if amount != self.total:
            raise InvalidTransition(f"payment {amount} must equal the order total {self.total}")
        self._paid(amount=amount, currency=self.currency, at=at)

    @event("Paid")
    def _paid(self, amount: Decimal, currency: str, at: datetime) -> None:
        self.status, self.paid, self.paid_at = PAID, amount, at

    def ship(self, at: datetime) -> None:
        """The order left the warehouse (it must be paid)."""
        if self.status != PAID:
            raise InvalidTransition(f"cannot ship a {self.status} order")
        self._shipped(at=at)

    @event("Shipped")
    def _shipped(self, at: datetime) -> None:
        self.status = SHIPPED

    def deliver(self, at: datetime) -> None:
        """The order reached the customer."""
        if self.status != SHIPPED:
            raise InvalidTransition(f"cannot deliver a {self.status} order")
        self._delivered(at=at)

    @event("Delivered")
    def _delivered(self, at: datetime) -> None:
        self.status = DELIVERED

    def cancel(self, reason: str, at: datetime) -> None:
        """Cancel before shipment (a paid order is then refunded separately)."""
        if self.status not in (PLACED, PAID):
            raise InvalidTransition(f"cannot cancel a {self.status} order: only before shipment")
        self._cancelled(reason=reason, at=at)

    @event("Cancelled")
    def _cancelled(self, reason: str, at: datetime) -> None:
        self.status = CANCELLED

    def refund(self, amount: Decimal, reason: str | None, at: datetime) -> None:
        """Refund part or all of what was paid, never more."""
        if self.paid == 0:
            raise InvalidTransition(f"cannot refund a {self.status} order: nothing was paid")
        if amount <= 0:
            raise RefundTooLarge("a refund must be positive")
        if self.refunded + amount > self.paid:
            raise RefundTooLarge(f"refund {amount} exceeds what remains refundable ({self.paid - self.refunded})")
        self._refunded(
            amount=amount, refunded_total=self.refunded + amount, currency=self.currency, reason=reason, at=at
        )

    @event("Refunded")
    def _refunded(
        self, amount: Decimal, refunded_total: Decimal, currency: str, reason: str | None, at: datetime
    ) -> None:
        self.refunded = refunded_total
        if self.refunded == self.paid:
            self.status = REFUNDED

    def repoint(self, customer_id: UUID) -> None:
        """Follow a customer merge (no-op if already pointing at the survivor)."""
        if customer_id != self.customer_id:
            self._repointed(customer_id=customer_id)

    @event("Repointed")
    def _repointed(self, customer_id: UUID) -> None:
        self.customer_id = customer_id
