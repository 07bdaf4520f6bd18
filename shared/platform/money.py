"""Money rules every service shares: ISO 4217 currencies, their minor units, the range and the rounding.

One set of rules, so an amount one service accepts (a marketing spend, a sales order)
is one every other service can count: sales refused 3 decimals in USD while marketing
stored them. Rounding rule: half-up ("commercial rounding") to the currency's minor
unit. Services turn `BadAmount` into their own 4xx.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


class BadAmount(ValueError):
    """An amount or currency code the rules refuse; the message says which rule."""


ZERO_DECIMALS = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "UYI",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
THREE_DECIMALS = frozenset(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"])
CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
    CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF
    GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP
    LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB
    PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL
    THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYI UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW
    ZWL""".split()  # noqa: SIM905 - a table reads better than a list of 160 quoted strings
)
"""Active ISO 4217 codes of circulating currencies."""

MAX_AMOUNT = Decimal(10) ** 15
"""Amounts are below one quadrillion (15 integer digits): room for any real deal in any currency
(10^15 VND is about 40 billion USD), while a total of 1,000 lines at three decimals still fits
exactly in the 28 significant digits of Python's decimal context, which money arithmetic uses."""


def currency(code: str) -> str:
    """A known ISO 4217 code (upper case), else `BadAmount`."""
    normalised = code.strip().upper()
    if normalised not in CURRENCIES:
        raise BadAmount(f"{code!r} is not an ISO 4217 currency code")
    return normalised


def minor_units(code: str) -> int:
    """Digits after the decimal point in `code` (JPY 0, USD 2, KWD 3)."""
    return 0 if code in ZERO_DECIMALS else 3 if code in THREE_DECIMALS else 2


def round_money(amount: Decimal, code: str) -> Decimal:
    """`amount` rounded half-up to the minor unit of `code`."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(code)), rounding=ROUND_HALF_UP)


def amount(value: object, code: str, what: str = "amount", *, positive: bool = False) -> Decimal:
    """A non-negative money amount below `MAX_AMOUNT` that needs no rounding in `code` (else `BadAmount`).

    Negative zero is zero (`"-0"` is stored as `"0.00"`, not `"-0.00"`).
    """
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise BadAmount(f"{what} must be a decimal number") from None
    if not number.is_finite() or number < 0 or (positive and number == 0):
        raise BadAmount(f"{what} must be {'positive' if positive else 'zero or more'}")
    if number >= MAX_AMOUNT:
        raise BadAmount(f"{what} must be less than {MAX_AMOUNT:,}")
    number = number.copy_abs()
    if round_money(number, code) != number:
        raise BadAmount(f"{what} {number} has more decimals than {code} allows ({minor_units(code)})")
    return round_money(number, code)
