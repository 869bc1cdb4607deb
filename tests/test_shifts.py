"""Working hours as pure functions: on shift or not, and when that next changes."""

from datetime import UTC, datetime, time, timedelta

import pytest

from distribution import shifts

NINE_TO_FIVE_MONDAY = [(0, time(9), time(17))]


@pytest.mark.parametrize(
    ("zone", "utc_start"),
    [
        # Monday 2026-11-30, 09:00 local time in each zone, as UTC.
        ("Europe/Berlin", datetime(2026, 11, 30, 8, 0, tzinfo=UTC)),
        ("America/New_York", datetime(2026, 11, 30, 14, 0, tzinfo=UTC)),
        ("Asia/Kolkata", datetime(2026, 11, 30, 3, 30, tzinfo=UTC)),
        ("Pacific/Auckland", datetime(2026, 11, 29, 20, 0, tzinfo=UTC)),
    ],
)
def test_a_shift_starts_at_its_local_time_in_every_zone(zone, utc_start):
    just_before = utc_start - timedelta(seconds=1)

    assert shifts.is_on_shift(NINE_TO_FIVE_MONDAY, zone, utc_start)
    assert not shifts.is_on_shift(NINE_TO_FIVE_MONDAY, zone, just_before)
    assert shifts.next_change(NINE_TO_FIVE_MONDAY, zone, just_before) == utc_start


def test_the_end_of_a_range_is_not_on_shift_and_is_the_next_change():
    monday_noon_utc = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    end = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)

    assert shifts.next_change(NINE_TO_FIVE_MONDAY, "UTC", monday_noon_utc) == end
    assert not shifts.is_on_shift(NINE_TO_FIVE_MONDAY, "UTC", end)


def test_a_shift_follows_daylight_saving_time():
    # Europe/Berlin moves to summer time on Sunday 2026-03-29: 09:00 is 08:00 UTC on the
    # Monday before and 07:00 UTC on the Monday after.
    hours = [(0, time(9), time(17))]
    assert shifts.is_on_shift(hours, "Europe/Berlin", datetime(2026, 3, 23, 8, 0, tzinfo=UTC))
    assert not shifts.is_on_shift(hours, "Europe/Berlin", datetime(2026, 3, 30, 6, 59, tzinfo=UTC))
    assert shifts.is_on_shift(hours, "Europe/Berlin", datetime(2026, 3, 30, 7, 0, tzinfo=UTC))
    assert shifts.next_change(
        hours, "Europe/Berlin", datetime(2026, 3, 28, 0, 0, tzinfo=UTC)
    ) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_adjacent_ranges_and_midnight_make_one_shift():
    # Monday 22:00 to Tuesday 06:00, written as two ranges; 00:00 as an end is midnight.
    hours = [(0, time(22), time(0)), (1, time(0), time(6))]
    monday_late = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)

    assert shifts.is_on_shift(hours, "UTC", monday_late)
    assert shifts.next_change(hours, "UTC", monday_late) == datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def test_no_hours_means_always_on_shift_and_never_a_change():
    now = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)

    assert shifts.is_on_shift([], "Europe/Berlin", now)
    assert shifts.next_change([], "Europe/Berlin", now) is None


def test_overlapping_ranges_are_found():
    hours = [(2, time(9), time(12)), (2, time(11), time(14)), (3, time(9), time(12))]

    assert shifts.overlaps(hours) == [((2, time(9), time(12)), (2, time(11), time(14)))]
    assert shifts.overlaps([(2, time(9), time(12)), (2, time(12), time(14))]) == []
