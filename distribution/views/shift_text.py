"""How an operator's shift reads on the pages: on shift or not, and when that next changes,
in the operator's own time zone and relative to now ("until 17:30 (in 2 h)")."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .. import allocation
from ..models import Operator


def in_words(delta: timedelta) -> str:
    """A short, rounded-down distance to a future moment: "in 2 h 5 min", "in 3 d 1 h"."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "in less than a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"in {days} d" + (f" {hours} h" if hours else "")
    if hours:
        return f"in {hours} h" + (f" {minutes} min" if minutes else "")
    return f"in {minutes} min"


@dataclass(frozen=True)
class ShiftText:
    on_shift: bool
    time_zone: str
    # When on_shift next changes, in the operator's zone ("17:30", or "Mon 09:00" when it
    # is not today there), and how far that is; None when it never changes (no hours) or
    # when the stored moment has passed and the worker has not stored the next one yet.
    when: str | None
    relative: str | None

    @property
    def always(self) -> bool:
        return self.on_shift and self.when is None

    @classmethod
    def of(cls, operator: Operator, now: datetime) -> "ShiftText":
        on_shift = allocation.is_on_shift(operator, now)
        changes_at = operator.shift_changes_at
        if changes_at is None or changes_at <= now:
            return cls(on_shift, operator.time_zone, None, None)
        zone = ZoneInfo(operator.time_zone)
        local = changes_at.astimezone(zone)
        same_day = local.date() == now.astimezone(zone).date()
        when = f"{local:%H:%M}" if same_day else f"{local:%a %H:%M}"
        return cls(on_shift, operator.time_zone, when, in_words(changes_at - now))
