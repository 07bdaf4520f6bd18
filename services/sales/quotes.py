"""The quote aggregate and its arithmetic: priced lines, revisions, send, accept, reject, expire.

Arithmetic (see `money` for the rounding rule): per line
`gross = quantity × unit_price`, `discount = round(gross × discount% / 100)`,
`net = gross − discount`, `tax = round(net × tax_rate)`; the gross is exact because
prices carry at most the currency's minor digits and quantities are whole or decimal.
`subtotal = Σ net`, `tax_total = Σ tax`, `total = subtotal + tax_total`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.sales.domain import InvalidInput, InvalidTransition, QuoteExpired
from services.sales.money import round_money

DRAFT, SENT, ACCEPTED, REJECTED, EXPIRED = "draft", "sent", "accepted", "rejected", "expired"
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class LineInput:
    """A line as asked for: the product, how many, its price and discount."""

    product_id: UUID
    sku: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    tax_rate: Decimal


def price(lines: list[LineInput], currency: str) -> tuple[list[dict[str, Any]], Decimal, Decimal, Decimal]:
    """Priced lines, subtotal, tax total and total, rounded by the documented rule."""
    if not lines:
        raise InvalidInput("a quote needs at least one line")
    priced = []
    for line in lines:
        if line.quantity <= 0:
            raise InvalidInput(f"quantity of {line.sku} must be positive")
        if not Decimal(0) <= line.discount_percent <= HUNDRED:
            raise InvalidInput(f"discount of {line.sku} must be between 0 and 100 %")
        gross = line.quantity * line.unit_price
        net = round_money(gross - round_money(gross * line.discount_percent / HUNDRED, currency), currency)
        tax = round_money(net * line.tax_rate, currency)
        priced.append({**vars(line), "net": net, "tax": tax})
    subtotal = sum((p["net"] for p in priced), Decimal(0))
    tax_total = sum((p["tax"] for p in priced), Decimal(0))
    return priced, subtotal, tax_total, subtotal + tax_total


class Quote(Aggregate):
    """An offer for an opportunity; a revision replaces the lines and goes back to draft."""

    if TYPE_CHECKING:
        Issued: ClassVar[type[Aggregate.Event]]
        Revised: ClassVar[type[Aggregate.Event]]
        Sent: ClassVar[type[Aggregate.Event]]
        Accepted: ClassVar[type[Aggregate.Event]]
        Rejected: ClassVar[type[Aggregate.Event]]
        Expired: ClassVar[type[Aggregate.Event]]
        Repointed: ClassVar[type[Aggregate.Event]]

    @event("Issued")
    def __init__(
        self,
        customer_id: UUID,
        opportunity_id: UUID,
        owner: str,
        currency: str,
        lines: list[dict[str, Any]],
        subtotal: Decimal,
        tax_total: Decimal,
        total: Decimal,
        valid_until: str,
        id: UUID | None = None,
    ) -> None:
        self.customer_id, self.opportunity_id, self.owner, self.currency = customer_id, opportunity_id, owner, currency
        self.revision = 0
        self._revise(lines, subtotal, tax_total, total, valid_until)

    def _revise(
        self, lines: list[dict[str, Any]], subtotal: Decimal, tax_total: Decimal, total: Decimal, valid_until: str
    ) -> None:
        self.revision += 1
        self.lines, self.subtotal, self.tax_total, self.total = list(lines), subtotal, tax_total, total
        self.valid_until = valid_until
        self.status = DRAFT

    @property
    def valid_until_date(self) -> date:
        """Last day the quote can be accepted (stored as ISO text)."""
        return date.fromisoformat(self.valid_until)

    def revise(
        self, lines: list[dict[str, Any]], subtotal: Decimal, tax_total: Decimal, total: Decimal, valid_until: str
    ) -> None:
        """Issue a new revision (only while not answered)."""
        if self.status not in (DRAFT, SENT):
            raise InvalidTransition(f"cannot revise a {self.status} quote")
        self._revised(
            opportunity_id=self.opportunity_id,
            currency=self.currency,
            revision=self.revision + 1,
            lines=lines,
            subtotal=subtotal,
            tax_total=tax_total,
            total=total,
            valid_until=valid_until,
        )

    @event("Revised")
    def _revised(
        self,
        opportunity_id: UUID,
        currency: str,
        revision: int,
        lines: list[dict[str, Any]],
        subtotal: Decimal,
        tax_total: Decimal,
        total: Decimal,
        valid_until: str,
    ) -> None:
        self._revise(lines, subtotal, tax_total, total, valid_until)

    def send(self, today: date) -> None:
        """Send the current revision to the customer."""
        self._ensure_live(today, DRAFT, "send")
        self._sent(revision=self.revision)

    @event("Sent")
    def _sent(self, revision: int) -> None:
        self.status = SENT

    def accept(self, today: date) -> None:
        """The customer accepts the sent revision (not after valid-until)."""
        self._ensure_live(today, SENT, "accept")
        self._accepted(revision=self.revision, total=self.total, currency=self.currency)

    @event("Accepted")
    def _accepted(self, revision: int, total: Decimal, currency: str) -> None:
        self.status = ACCEPTED

    def reject(self, reason: str | None) -> None:
        """The customer declines the quote."""
        if self.status not in (DRAFT, SENT):
            raise InvalidTransition(f"cannot reject a {self.status} quote")
        self._rejected(revision=self.revision, reason=reason)

    @event("Rejected")
    def _rejected(self, revision: int, reason: str | None) -> None:
        self.status = REJECTED

    def expire_if_due(self, today: date) -> bool:
        """Expire an unanswered quote past its valid-until date; True if it expired now."""
        if self.status not in (DRAFT, SENT) or today <= self.valid_until_date:
            return False
        self._expired(revision=self.revision)
        return True

    @event("Expired")
    def _expired(self, revision: int) -> None:
        self.status = EXPIRED

    def _ensure_live(self, today: date, status: str, action: str) -> None:
        if today > self.valid_until_date and self.status in (DRAFT, SENT):
            raise QuoteExpired(f"quote {self.id} expired after {self.valid_until}")
        if self.status != status:
            raise InvalidTransition(f"cannot {action} a {self.status} quote")

    def repoint(self, customer_id: UUID) -> None:
        """Follow a customer merge (no-op if already pointing at the survivor)."""
        if customer_id != self.customer_id:
            self._repointed(customer_id=customer_id)

    @event("Repointed")
    def _repointed(self, customer_id: UUID) -> None:
        self.customer_id = customer_id
