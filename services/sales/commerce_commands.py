"""Price book, quote and order commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4, uuid5

from services.sales import contact, money
from services.sales.catalogue import Product, product_id
from services.sales.domain import InvalidInput, InvalidTransition, StaleVersion
from services.sales.opportunities import OPEN, Opportunity
from services.sales.orders import Order
from services.sales.quotes import LineInput, Quote, price
from services.sales.store import SalesStore
from shared.platform.auth import Principal
from shared.platform.concurrency import retries_race

ORDER_OF_QUOTE = UUID("e5c4b3a2-9182-4736-a5b4-c3d2e1f0a9b8")


@dataclass(frozen=True)
class LineRequest:
    """A quote line as asked for: the price book's price unless `unit_price` overrides it."""

    product_id: UUID
    quantity: Decimal
    discount_percent: Decimal = Decimal(0)
    unit_price: Decimal | None = None


class CommerceCommands(SalesStore):
    """Products, quotes and orders."""

    def upsert_product(
        self, sku: str, *, name: str, prices: dict[str, Decimal], tax_rate: Decimal, active: bool
    ) -> Product:
        """Create or change a product of the price book, found by SKU (idempotent)."""
        code = contact.text(sku, "sku", 64) or ""
        priced = {money.currency(c): money.amount(p, money.currency(c), f"price in {c}") for c, p in prices.items()}
        if not priced or not Decimal(0) <= tax_rate <= Decimal(1):
            raise InvalidInput("a product needs at least one price and a tax rate between 0 and 1")
        title = contact.text(name, "name") or ""
        record_id = product_id(code)
        if self.exists(record_id):
            product = self.load(Product, record_id)
            product.redefine(title, priced, tax_rate, active)
        else:
            product = Product(sku=code, name=title, prices=priced, tax_rate=tax_rate, active=active, id=record_id)
        self.store(product)
        return product

    def _lines(self, requests: list[LineRequest], currency: str) -> list[LineInput]:
        lines = []
        for request in requests:
            product = self.load(Product, request.product_id)
            if not product.active:
                raise InvalidInput(f"product {product.sku} is not active")
            if request.unit_price is None and currency not in product.prices:
                raise InvalidInput(f"product {product.sku} has no price in {currency}")
            unit = product.prices[currency] if request.unit_price is None else request.unit_price
            unit = money.amount(unit, currency, f"unit price of {product.sku}")
            lines.append(
                LineInput(
                    product.id,
                    product.sku,
                    product.name,
                    request.quantity,
                    unit,
                    request.discount_percent,
                    product.tax_rate,
                )
            )
        return lines

    def create_quote(self, opportunity_id: UUID, lines: list[LineRequest], valid_until: date, user: Principal) -> Quote:
        """Issue revision 1 of a quote for an open opportunity, in the opportunity's currency."""
        opportunity = self.load_for(Opportunity, opportunity_id, user)
        if opportunity.status != OPEN:
            raise InvalidTransition(f"cannot quote a {opportunity.status} opportunity")
        if valid_until < self.now().date():
            raise InvalidInput("valid_until must not be in the past")
        priced, subtotal, tax, total = price(self._lines(lines, opportunity.currency), opportunity.currency)
        quote = Quote(
            customer_id=opportunity.customer_id,
            opportunity_id=opportunity.id,
            owner=opportunity.owner,
            currency=opportunity.currency,
            lines=priced,
            subtotal=subtotal,
            tax_total=tax,
            total=total,
            valid_until=valid_until.isoformat(),
            id=uuid4(),
        )
        self.store(quote)
        return quote

    @retries_race(StaleVersion)
    def revise_quote(
        self, quote_id: UUID, lines: list[LineRequest], valid_until: date, user: Principal, expected_version: int | None
    ) -> Quote:
        """Issue the next revision of a quote (back to draft)."""
        quote = self.load_for(Quote, quote_id, user, expected_version)
        priced, subtotal, tax, total = price(self._lines(lines, quote.currency), quote.currency)
        quote.revise(priced, subtotal, tax, total, valid_until.isoformat())
        self.store(quote)
        return quote

    @retries_race(StaleVersion)
    def answer_quote(
        self, quote_id: UUID, action: str, user: Principal, expected_version: int | None, reason: str | None = None
    ) -> Quote:
        """Send, accept or reject a quote (acceptance is refused after valid-until)."""
        quote = self.load_for(Quote, quote_id, user, expected_version)
        today = self.now().date()
        if action == "send":
            quote.send(today)
        elif action == "accept":
            quote.accept(today)
        else:
            quote.reject(contact.text(reason, "reason", 500, required=False))
        self.store(quote)
        return quote

    def expire_quotes(self, today: date | None = None) -> list[UUID]:
        """Expire every unanswered quote past its valid-until date; returns those expired now."""
        day = today or self.now().date()
        due = [r.id for r in self.views.catch_up().of_kind("quote") if r.data["status"] in ("draft", "sent")]
        expired = []
        for quote_id in due:
            quote = self.load(Quote, quote_id)
            if quote.expire_if_due(day):
                try:
                    self.store(quote)
                except StaleVersion:
                    continue  # answered or expired concurrently: the stored state decides
                expired.append(quote_id)
        return expired

    def order_from_quote(self, quote_id: UUID, user: Principal) -> Order:
        """Place the order of an accepted quote; its id derives from the quote, so a retry places nothing new."""
        quote = self.load_for(Quote, quote_id, user)
        order_id = uuid5(ORDER_OF_QUOTE, str(quote.id))
        if self.exists(order_id):
            return self.load(Order, order_id)
        if quote.status != "accepted":
            raise InvalidTransition(f"only an accepted quote becomes an order; this one is {quote.status}")
        quantity = sum(int(line["quantity"]) for line in quote.lines)
        order = Order(
            customer_id=quote.customer_id,
            owner=quote.owner,
            source="quote",
            quote_id=quote.id,
            currency=quote.currency,
            lines=quote.lines,
            total=quote.total,
            quantity=quantity,
            placed_at=self.now(),
            paid_at=None,
            external_id=None,
            id=order_id,
        )
        self.store(order)
        return order

    def place_order(
        self, customer_id: UUID, lines: list[LineRequest], currency: str, user: Principal, external_id: str | None
    ) -> Order:
        """Place an order directly (e.g. from a web shop); an external id makes a retry a no-op."""
        code = money.currency(currency)
        order_id = uuid5(ORDER_OF_QUOTE, f"direct:{external_id}") if external_id else uuid4()
        if external_id and self.exists(order_id):
            return self.load(Order, order_id)
        priced, _, _, total = price(self._lines(lines, code), code)
        order = Order(
            customer_id=customer_id,
            owner=user.subject if "sales_rep" in user.roles else None,
            source="direct",
            quote_id=None,
            currency=code,
            lines=priced,
            total=total,
            quantity=sum(int(line["quantity"]) for line in priced),
            placed_at=self.now(),
            paid_at=None,
            external_id=external_id,
            id=order_id,
        )
        self.store(order)
        return order

    @retries_race(StaleVersion)
    def progress_order(
        self,
        order_id: UUID,
        action: str,
        user: Principal,
        expected_version: int | None,
        *,
        amount: Decimal | None = None,
        reason: str | None = None,
    ) -> Order:
        """Pay, ship, deliver, cancel or refund an order."""
        order = self.load_for(Order, order_id, user, expected_version)
        now = self.now()
        if action == "pay":
            order.pay(money.amount(order.total if amount is None else amount, order.currency), now)
        elif action == "ship":
            order.ship(now)
        elif action == "deliver":
            order.deliver(now)
        elif action == "cancel":
            order.cancel(contact.text(reason, "reason", 500) or "", now)
        else:
            if amount is None:
                raise InvalidInput("a refund needs an amount")
            order.refund(
                money.amount(amount, order.currency, "refund"), contact.text(reason, "reason", 500, required=False), now
            )
        self.store(order)
        return order
