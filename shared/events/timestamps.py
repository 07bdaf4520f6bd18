"""Times in the event contract and at every API: ISO 8601 text with a UTC offset, never a bare number.

Pydantic takes a number, or text holding one, as seconds since 1970 (or milliseconds, by
size), so `occurred_at: 0` and `until=0.5` were read as instants in 1970: a typo became a
date, silently. Every time field here says what it is, so the same rule holds for the
services' commands, query parameters and the events they publish (a consumer refuses an
event a foreign producer stamped with a number; it goes to the dead-letter topic).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BeforeValidator

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _not_a_number(value: object) -> object:
    """Refuse a number, or text that is one, before pydantic reads it as a Unix time."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    numeric = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    if numeric or (isinstance(value, str) and _NUMBER.fullmatch(value.strip())):
        raise ValueError("a time is ISO 8601 text with an offset, such as 2026-12-07T09:30:00Z, not a number")
    return value


IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_not_a_number)]
"""A timezone-aware time given as ISO 8601 text (or a datetime in Python); numbers are refused."""
