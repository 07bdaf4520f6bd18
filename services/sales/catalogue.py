"""The price book: products with a SKU, a unit price per currency, a tax rate and an active flag."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

PRODUCT_NAMESPACE = UUID("c3a1e2d4-5b6f-4a7e-9c8d-1f2e3d4c5b6a")


def product_id(sku: str) -> UUID:
    """Products are identified by SKU, so a re-import of the price book finds them again."""
    return uuid.uuid5(PRODUCT_NAMESPACE, sku)


class Product(Aggregate):
    """A sellable item of the price book; every event carries the whole product."""

    if TYPE_CHECKING:
        Defined: ClassVar[type[Aggregate.Event]]
        Redefined: ClassVar[type[Aggregate.Event]]

    @event("Defined")
    def __init__(
        self, sku: str, name: str, prices: dict[str, Decimal], tax_rate: Decimal, active: bool, id: UUID | None = None
    ) -> None:
        self._set(sku, name, prices, tax_rate, active)

    def _set(self, sku: str, name: str, prices: dict[str, Decimal], tax_rate: Decimal, active: bool) -> None:
        self.sku, self.name, self.prices, self.tax_rate, self.active = sku, name, dict(prices), tax_rate, active

    def redefine(self, name: str, prices: dict[str, Decimal], tax_rate: Decimal, active: bool) -> bool:
        """Change the product; False (and nothing recorded) if nothing changed."""
        if (name, dict(prices), tax_rate, active) == (self.name, self.prices, self.tax_rate, self.active):
            return False
        self._redefined(sku=self.sku, name=name, prices=prices, tax_rate=tax_rate, active=active)
        return True

    @event("Redefined")
    def _redefined(self, sku: str, name: str, prices: dict[str, Decimal], tax_rate: Decimal, active: bool) -> None:
        self._set(sku, name, prices, tax_rate, active)
