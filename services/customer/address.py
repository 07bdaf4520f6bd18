"""Postal address rules: a structured address (lines, city, region, postal code, country).

Clients may still send one line of text (the v1 API); it is kept whole as the first
line, never split by guesswork. Addresses live in the domain events as plain dicts
(`Address`), which the event store encodes as JSON and the PII mapper seals whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from services.customer.contact import MAX_ADDRESS_LENGTH, InvalidInput, normalise_address, normalise_text

MAX_LINES = 4
MAX_PART_LENGTH = 100
PARTS = ("lines", "city", "region", "postal_code", "country")
_ISO_3166_ALPHA_2 = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT
BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH
ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT
HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS
LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI
NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG
SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG
UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
COUNTRIES = frozenset(_ISO_3166_ALPHA_2.split()) | {"XK"}
"""The 249 officially assigned ISO 3166-1 alpha-2 codes, plus XK (Kosovo), the user-assigned code in common use."""


class Address(TypedDict):
    """A postal address as the domain events record it; every part but `lines` may be unknown."""

    lines: list[str]
    city: str | None
    region: str | None
    postal_code: str | None
    country: str | None


def normalise(raw: str | Mapping[str, Any]) -> Address | None:
    """The canonical address of a command's input: one line of text (blank means none) or the parts."""
    if isinstance(raw, str):
        return one_line(normalise_address(raw))
    if not isinstance(raw, Mapping):
        raise InvalidInput("address must be text or an object with lines, city, region, postal_code, country")
    unknown = sorted(set(raw) - set(PARTS))
    if unknown:
        raise InvalidInput(f"address has unknown parts {unknown}; allowed: {list(PARTS)}")
    return Address(
        lines=_lines(raw.get("lines")),
        city=_part(raw.get("city"), "city"),
        region=_part(raw.get("region"), "region"),
        postal_code=_part(raw.get("postal_code"), "postal_code"),
        country=_country(raw.get("country")),
    )


def one_line(text: str | None) -> Address | None:
    """An address known only as one line of text, kept whole: no structure is guessed. Blank means none."""
    if not isinstance(text, str) or not text.strip():
        return None
    return Address(lines=[text], city=None, region=None, postal_code=None, country=None)


def recorded(value: Any) -> Address | None:
    """The address a stored event holds; a shredded one (its key destroyed) reads back as none."""
    if not isinstance(value, Mapping) or not value.get("lines"):
        return None
    return Address(
        lines=list(value["lines"]),
        city=value.get("city"),
        region=value.get("region"),
        postal_code=value.get("postal_code"),
        country=value.get("country"),
    )


def upcast_v1_state(state: dict[str, Any]) -> None:
    """Stored state from before structured addresses: its one-line `address` text becomes the first line."""
    state["address"] = one_line(state.get("address"))


def _lines(raw: Any) -> list[str]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_LINES:
        raise InvalidInput(f"address lines must be a list of 1 to {MAX_LINES} lines")
    lines = [normalise_text(line, "address line", MAX_ADDRESS_LENGTH) for line in raw]
    if any(line is None for line in lines):
        raise InvalidInput("address lines must not be empty")
    return [line for line in lines if line is not None]


def _part(raw: Any, what: str) -> str | None:
    return None if raw is None else normalise_text(raw, f"address {what}", MAX_PART_LENGTH)


def _country(raw: Any) -> str | None:
    """An ISO 3166-1 alpha-2 code in upper case (`cn` is accepted as `CN`); blank means unknown."""
    code = _part(raw, "country")
    if code is None:
        return None
    if code.upper() not in COUNTRIES:
        raise InvalidInput(f"address country must be an ISO 3166-1 alpha-2 code such as CN or GB, not {code!r}")
    return code.upper()
