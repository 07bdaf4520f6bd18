"""Business-hours arithmetic: how much working time lies between two instants, and when it runs out.

SLA targets are measured in business time of a calendar (working windows per weekday in
a timezone, minus holidays), and the clock stops while a ticket waits on the customer.
Everything here is pure: instants are timezone-aware, windows are local wall-clock
times resolved with `zoneinfo`, so DST days have as many real hours as the wall says.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 24 * 60
MAX_DAYS = 3 * 366
"""How far `add` looks ahead; a calendar with working time finds it long before."""

Window = tuple[int, int]
"""Start and end of a working window, in minutes after local midnight (end ≤ 1440, start < end)."""
Pause = tuple[datetime, datetime | None]
"""A period the clock stood still; an open pause (end None) lasts until now."""


class CalendarError(ValueError):
    """The calendar definition is not usable."""


@dataclass(frozen=True)
class BusinessCalendar:
    """Working windows per weekday (0 = Monday) in `timezone`, and holidays with no working time."""

    timezone: str = "UTC"
    windows: tuple[tuple[Window, ...], ...] = field(default_factory=lambda: ((),) * 7)
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise CalendarError(f"unknown timezone {self.timezone!r}") from None
        if len(self.windows) != 7:
            raise CalendarError("a calendar has windows for each of the 7 weekdays")
        for day in self.windows:
            _check_windows(day)
        if not any(self.windows):
            raise CalendarError("a calendar needs at least one working window")
        object.__setattr__(self, "windows", tuple(tuple(sorted(day)) for day in self.windows))

    @classmethod
    def always_open(cls, timezone: str = "UTC") -> BusinessCalendar:
        """24x7: every minute is business time (holidays none)."""
        return cls(timezone=timezone, windows=(((0, MINUTES_PER_DAY),),) * 7)

    @classmethod
    def weekdays(cls, start: time, end: time, timezone: str = "UTC", holidays: Iterable[date] = ()) -> BusinessCalendar:
        """The same hours Monday to Friday; weekends closed."""
        window = (_minutes(start), _minutes(end) or MINUTES_PER_DAY)
        return cls(timezone=timezone, windows=((window,),) * 5 + ((), ()), holidays=frozenset(holidays))

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's timezone."""
        return ZoneInfo(self.timezone)

    def open_intervals(self, start: datetime, end: datetime) -> Iterable[tuple[datetime, datetime]]:
        """Working intervals (UTC) overlapping [start, end), clipped to it, in order."""
        _aware(start, end)
        zone = self.zone
        day = start.astimezone(zone).date() - timedelta(days=1)  # a window of the previous day may reach in
        last = end.astimezone(zone).date()
        while day <= last:
            for opens, closes in self._windows_on(day, zone):
                lo, hi = max(opens, start), min(closes, end)
                if lo < hi:
                    yield lo, hi
            day += timedelta(days=1)

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Business seconds in [start, end) (0 if end is not after start)."""
        if end <= start:
            return 0.0
        return sum((hi - lo).total_seconds() for lo, hi in self.open_intervals(start, end))

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant when `seconds` of business time have passed since `start`."""
        _aware(start)
        left = seconds
        zone = self.zone
        day = start.astimezone(zone).date() - timedelta(days=1)
        for _ in range(MAX_DAYS):
            for opens, closes in self._windows_on(day, zone):
                lo = max(opens, start)
                if lo >= closes:
                    continue
                available = (closes - lo).total_seconds()
                if left <= available:
                    return (lo + timedelta(seconds=left)).astimezone(UTC)
                left -= available
            day += timedelta(days=1)
        raise CalendarError(f"no {seconds}s of business time within {MAX_DAYS} days")

    def _windows_on(self, day: date, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
        """The day's working windows as UTC instants (none on a holiday)."""
        if day in self.holidays:
            return []
        return [(_local(day, opens, zone), _local(day, closes, zone)) for opens, closes in self.windows[day.weekday()]]


def elapsed(calendar: BusinessCalendar, start: datetime, now: datetime, pauses: Sequence[Pause] = ()) -> float:
    """Business seconds from `start` to `now`, less those inside `pauses` (which must not overlap)."""
    total = calendar.seconds_between(start, now)
    for paused_from, paused_to in pauses:
        lo, hi = max(paused_from, start), min(paused_to or now, now)
        total -= calendar.seconds_between(lo, hi)
    return max(total, 0.0)


def due(
    calendar: BusinessCalendar, start: datetime, target_seconds: float, pauses: Sequence[Pause] = ()
) -> datetime | None:
    """When `target_seconds` of running business time since `start` are used up (past or future).

    None while the clock stands still in an open pause with time still left: nobody can
    say when the customer will answer.
    """
    left = target_seconds
    running_from = start
    for paused_from, paused_to in sorted(pauses, key=lambda p: p[0]):
        if paused_from > running_from:
            available = calendar.seconds_between(running_from, paused_from)
            if left <= available:
                return calendar.add(running_from, left)
            left -= available
        if paused_to is None:
            return None
        running_from = max(running_from, paused_to)
    return calendar.add(running_from, left)


def _local(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """Local wall-clock `minutes` after midnight of `day`, as a UTC instant (1440 = next midnight)."""
    if minutes == MINUTES_PER_DAY:
        return datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    return datetime.combine(day, time(minutes // 60, minutes % 60), zone).astimezone(UTC)


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _check_windows(day: Sequence[Window]) -> None:
    previous_end = -1
    for opens, closes in sorted(day):
        if not 0 <= opens < closes <= MINUTES_PER_DAY:
            raise CalendarError(f"window {opens}-{closes} must satisfy 0 <= start < end <= 1440 minutes")
        if opens < previous_end:
            raise CalendarError("windows of one day must not overlap")
        previous_end = closes


def _aware(*moments: datetime) -> None:
    if any(m.utcoffset() is None for m in moments):
        raise CalendarError("instants must be timezone-aware")
