"""Business-hours arithmetic: overnight, weekends, holidays, pauses, DST and non-UTC timezones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.support.calendar import BusinessCalendar, CalendarError, due, elapsed

NINE_TO_FIVE = BusinessCalendar.weekdays(time(9), time(17))
HOUR = 3600.0


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_time_inside_one_working_day_counts_fully() -> None:
    assert NINE_TO_FIVE.seconds_between(utc(2026, 3, 2, 10), utc(2026, 3, 2, 12)) == 2 * HOUR


def test_overnight_counts_only_the_working_hours_on_each_side() -> None:
    # Monday 16:00 → Tuesday 10:00 is one hour before close and one after opening.
    assert NINE_TO_FIVE.seconds_between(utc(2026, 3, 2, 16), utc(2026, 3, 3, 10)) == 2 * HOUR


def test_weekends_do_not_count() -> None:
    # Friday 16:00 → Monday 10:00.
    assert NINE_TO_FIVE.seconds_between(utc(2026, 3, 6, 16), utc(2026, 3, 9, 10)) == 2 * HOUR


def test_holidays_do_not_count() -> None:
    calendar = BusinessCalendar.weekdays(time(9), time(17), holidays=[date(2026, 3, 3)])
    assert calendar.seconds_between(utc(2026, 3, 2, 16), utc(2026, 3, 4, 10)) == 2 * HOUR


def test_adding_business_time_skips_nights_weekends_and_holidays() -> None:
    calendar = BusinessCalendar.weekdays(time(9), time(17), holidays=[date(2026, 3, 9)])
    # Friday 16:00 + 4 business hours: 1 h Friday, Monday is a holiday, 3 h Tuesday.
    assert calendar.add(utc(2026, 3, 6, 16), 4 * HOUR) == utc(2026, 3, 10, 12)


def test_a_start_outside_hours_begins_at_the_next_opening() -> None:
    assert NINE_TO_FIVE.add(utc(2026, 3, 7, 20), HOUR) == utc(2026, 3, 9, 10)  # Saturday evening


def test_shanghai_hours_are_local_hours() -> None:
    calendar = BusinessCalendar.weekdays(time(9), time(18), timezone="Asia/Shanghai")
    # 09:00 Shanghai is 01:00 UTC.
    assert calendar.add(utc(2026, 3, 2, 0), HOUR) == utc(2026, 3, 2, 2)
    assert calendar.seconds_between(utc(2026, 3, 2, 0), utc(2026, 3, 2, 12)) == 9 * HOUR


def test_new_york_working_day_has_eight_hours_across_the_dst_change() -> None:
    calendar = BusinessCalendar.weekdays(time(9), time(17), timezone="America/New_York")
    ny = ZoneInfo("America/New_York")
    # DST began on Sunday 8 March 2026: Friday 9:00 EST → Monday 17:00 EDT is two working days.
    friday = datetime(2026, 3, 6, 9, tzinfo=ny)
    monday = datetime(2026, 3, 9, 17, tzinfo=ny)
    assert calendar.seconds_between(friday, monday) == 16 * HOUR
    assert calendar.add(friday, 9 * HOUR) == datetime(2026, 3, 9, 10, tzinfo=ny).astimezone(UTC)


def test_a_24x7_calendar_counts_real_time_on_a_london_dst_day() -> None:
    calendar = BusinessCalendar.always_open("Europe/London")
    london = ZoneInfo("Europe/London")
    # The clocks went forward on 29 March 2026: that local day had 23 hours.
    day = datetime(2026, 3, 29, tzinfo=london)
    assert calendar.seconds_between(day, day + timedelta(days=1)) == 23 * HOUR


def test_pauses_stop_the_clock() -> None:
    start = utc(2026, 3, 2, 9)
    pauses = [(utc(2026, 3, 2, 10), utc(2026, 3, 2, 13))]
    assert elapsed(NINE_TO_FIVE, start, utc(2026, 3, 2, 15), pauses) == 3 * HOUR
    assert due(NINE_TO_FIVE, start, 4 * HOUR, pauses) == utc(2026, 3, 2, 16)


def test_an_open_pause_freezes_the_clock_and_the_due_time_is_unknown() -> None:
    start = utc(2026, 3, 2, 9)
    pauses = [(utc(2026, 3, 2, 10), None)]
    assert elapsed(NINE_TO_FIVE, start, utc(2026, 3, 4, 12), pauses) == HOUR
    assert due(NINE_TO_FIVE, start, 4 * HOUR, pauses) is None
    assert due(NINE_TO_FIVE, start, 0.5 * HOUR, pauses) == utc(2026, 3, 2, 9, 30), "ran out before the pause"


def test_a_pause_outside_business_hours_changes_nothing() -> None:
    start = utc(2026, 3, 6, 16)
    weekend = [(utc(2026, 3, 7, 9), utc(2026, 3, 8, 18))]
    assert elapsed(NINE_TO_FIVE, start, utc(2026, 3, 9, 10), weekend) == 2 * HOUR


def test_split_shifts_and_night_shifts_are_windows() -> None:
    night = BusinessCalendar(timezone="UTC", windows=(((0, 360), (1320, 1440)),) * 7)  # 22:00–06:00
    assert night.seconds_between(utc(2026, 3, 2, 21), utc(2026, 3, 3, 7)) == 8 * HOUR


@pytest.mark.parametrize(
    "windows",
    [((),) * 7, (((600, 540),),) * 7, (((0, 1500),),) * 7, (((540, 720), (700, 800)),) * 7, ((),) * 6],
)
def test_unusable_calendars_are_refused(windows: tuple[tuple[tuple[int, int], ...], ...]) -> None:
    with pytest.raises(CalendarError):
        BusinessCalendar(timezone="UTC", windows=windows)


def test_unknown_timezones_and_naive_times_are_refused() -> None:
    with pytest.raises(CalendarError):
        BusinessCalendar.weekdays(time(9), time(17), timezone="Mars/Olympus")
    with pytest.raises(CalendarError):
        NINE_TO_FIVE.add(datetime(2026, 3, 2, 9), HOUR)
