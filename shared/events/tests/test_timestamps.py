"""Times are ISO 8601 text with an offset: numbers, which pydantic would read as Unix times, are refused."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from shared.events.timestamps import IsoDateTime


class Stamped(BaseModel):
    at: IsoDateTime


@pytest.mark.parametrize("value", [0, 1, 1764000000, 0.5, -3, Decimal("1.5"), "0", " 0.5 ", "1e9", "-12", b"17"])
def test_a_number_or_numeric_text_is_refused(value: object) -> None:
    with pytest.raises(ValidationError, match="ISO 8601"):
        Stamped(at=value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-07T09:30:00Z", datetime(2026, 12, 7, 9, 30, tzinfo=UTC)),
        ("2026-12-07T17:30:00+08:00", datetime(2026, 12, 7, 9, 30, tzinfo=UTC)),
        (datetime(2026, 12, 7, 9, 30, tzinfo=UTC), datetime(2026, 12, 7, 9, 30, tzinfo=UTC)),
    ],
)
def test_iso_text_with_an_offset_and_aware_datetimes_pass(value: object, expected: datetime) -> None:
    assert Stamped(at=value).at == expected


def test_a_time_without_an_offset_is_still_refused() -> None:
    with pytest.raises(ValidationError):
        Stamped(at="2026-12-07T09:30:00")
