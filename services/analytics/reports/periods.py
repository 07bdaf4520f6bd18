"""Calendar periods reports group by: day, week (ISO), month, quarter, year; all in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal

Period = Literal["day", "week", "month", "quarter", "year"]


def period_key(moment: datetime | date, period: Period) -> str:
    """The label of the period holding `moment`: 2026-03-01, 2026-W09, 2026-03, 2026-Q1, 2026."""
    day = moment.astimezone(UTC).date() if isinstance(moment, datetime) else moment
    if period == "day":
        return day.isoformat()
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    if period == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def period_index(moment: date, period: Period) -> int:
    """A number per period that grows by one from each period to the next (for cohort offsets)."""
    if period == "day":
        return moment.toordinal()
    if period == "week":
        return (moment.toordinal() - 1) // 7  # ordinal 1 (0001-01-01) is a Monday
    if period == "month":
        return moment.year * 12 + moment.month - 1
    if period == "quarter":
        return moment.year * 4 + (moment.month - 1) // 3
    return moment.year


def period_start(index: int, period: Period) -> date:
    """The first day of the period numbered `index` (inverse of `period_index`)."""
    if period == "day":
        return date.fromordinal(index)
    if period == "week":
        return date.fromordinal(index * 7 + 1)
    if period == "month":
        return date(index // 12, index % 12 + 1, 1)
    if period == "quarter":
        return date(index // 4, (index % 4) * 3 + 1, 1)
    return date(index, 1, 1)


def period_label(index: int, period: Period) -> str:
    """The label of the period numbered `index`."""
    return period_key(period_start(index, period), period)


def parse_time(value: str) -> datetime:
    """An ISO timestamp from stored event data (aware, as the contract requires)."""
    return datetime.fromisoformat(value)


def days(delta: timedelta) -> float:
    """A duration in days."""
    return delta.total_seconds() / 86_400


def period_first_day(label: str, period: Period) -> date:
    """The first day of the period labelled `label` (inverse of `period_key`)."""
    if period == "day":
        return date.fromisoformat(label)
    if period == "week":
        year, week = label.split("-W")
        return date.fromisocalendar(int(year), int(week), 1)
    if period == "month":
        return date.fromisoformat(f"{label}-01")
    if period == "quarter":
        year, quarter = label.split("-Q")
        return date(int(year), (int(quarter) - 1) * 3 + 1, 1)
    return date(int(label), 1, 1)


def period_last_day(label: str, period: Period) -> date:
    """The last day of the period labelled `label`."""
    following = period_start(period_index(period_first_day(label, period), period) + 1, period)
    return following - timedelta(days=1)
