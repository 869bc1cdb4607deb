"""
Working hours: whether an operator's weekly schedule includes a moment, and when that
next changes. Pure functions of the hours, the operator's time zone and the moment; the
services store the answers on the operator (on_shift, shift_changes_at), which is what
the engine reads (docs/distribution.md, "Working hours").

A range is a weekday (0 = Monday) and a start and end time in the operator's zone; an end
of 00:00 means midnight at the end of that day. No ranges at all means always on shift.
Daylight-saving gaps and folds follow zoneinfo: a range is read in local wall-clock time.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

Hours = tuple[int, time, time]  # (weekday, start, end)

MIDNIGHT = time(0, 0)


@lru_cache(maxsize=1)
def time_zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_time_zone(name: str) -> bool:
    return name in time_zone_names()


def ends_after(start: time, end: time) -> bool:
    """A range is well-formed: it ends after it starts (00:00 as an end is midnight)."""
    return end == MIDNIGHT or start < end


def overlaps(hours: Iterable[Hours]) -> list[tuple[Hours, Hours]]:
    """Pairs of ranges on the same weekday that share a moment."""
    by_day: dict[int, list[Hours]] = {}
    for entry in hours:
        by_day.setdefault(entry[0], []).append(entry)
    found = []
    for ranges in by_day.values():
        ranges.sort(key=lambda h: h[1])
        for before, after in zip(ranges, ranges[1:], strict=False):
            if before[2] == MIDNIGHT or after[1] < before[2]:
                found.append((before, after))
    return found


def _contains(hours: Iterable[Hours], local: datetime) -> bool:
    moment = local.time()
    return any(
        weekday == local.weekday() and start <= moment and (end == MIDNIGHT or moment < end)
        for weekday, start, end in hours
    )


def is_on_shift(hours: list[Hours], zone: str, now: datetime) -> bool:
    if not hours:
        return True
    return _contains(hours, now.astimezone(ZoneInfo(zone)))


def next_change(hours: list[Hours], zone: str, now: datetime) -> datetime | None:
    """The first moment after `now` at which is_on_shift changes, or None if it never does."""
    if not hours:
        return None
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    current = is_on_shift(hours, zone, now)
    edges = []
    for offset in range(9):  # Every range's edges over more than a week.
        day = today + timedelta(days=offset)
        for weekday, start, end in hours:
            if weekday != day.weekday():
                continue
            edges.append(datetime.combine(day, start, tzinfo=tz))
            end_day = day + timedelta(days=1) if end == MIDNIGHT else day
            edges.append(datetime.combine(end_day, end, tzinfo=tz))
    for edge in sorted(e.astimezone(UTC) for e in edges):
        if edge > now and is_on_shift(hours, zone, edge) != current:
            return edge
    return None
