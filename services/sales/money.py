"""Money arithmetic in sales: the shared rules (`shared/platform/money.py`), refused as sales' `InvalidInput`.

Rounding rule: every computed amount (a line's discount and its tax) is rounded
half-up ("commercial rounding") to the currency's minor unit as soon as it is
computed; totals are sums of the rounded lines, so a quote adds up exactly as printed.
"""

from __future__ import annotations

from decimal import Decimal

from services.sales.domain import InvalidInput
from shared.platform import money
from shared.platform.money import CURRENCIES, MAX_AMOUNT, THREE_DECIMALS, ZERO_DECIMALS, minor_units, round_money

__all__ = [
    "CURRENCIES",
    "MAX_AMOUNT",
    "THREE_DECIMALS",
    "ZERO_DECIMALS",
    "amount",
    "currency",
    "minor_units",
    "round_money",
]


def currency(code: str) -> str:
    """A known ISO 4217 code (upper case), else `InvalidInput`."""
    try:
        return money.currency(code)
    except money.BadAmount as exc:
        raise InvalidInput(str(exc)) from None


def amount(value: object, code: str, what: str = "amount", *, positive: bool = False) -> Decimal:
    """A non-negative money amount below `MAX_AMOUNT` that needs no rounding in `code` (else `InvalidInput`)."""
    try:
        return money.amount(value, code, what, positive=positive)
    except money.BadAmount as exc:
        raise InvalidInput(str(exc)) from None
