"""
How a number typed by someone is read: from a query string, a form field or a URL.

Python's int() is generous: it reads digits of other scripts ("١٠" is 10, while "²"
passes str.isdigit() and then fails), underscores ("1_0" is 10), a sign and spaces
around. A typo read that generously can select another record, so every number that
comes from outside is read here, one way: ASCII digits, within 64 bits.
"""

import re
from datetime import date

from .models import MAX_ID

_INTEGER = re.compile(r"-?[0-9]+")
# An id is written the way we write it: no sign, no leading zero.
_ID = re.compile(r"[1-9][0-9]*")
# A date as ISO 8601 writes it; date.fromisoformat alone also reads "20240506" and
# "2024-W19-1".
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MIN_INT64, _MAX_INT64 = -(2**63), 2**63 - 1


def parse_int(value: object) -> int | None:
    """The integer written in ASCII digits (an optional minus first) within 64 bits, or None."""
    if not isinstance(value, str) or not _INTEGER.fullmatch(value):
        return None
    number = int(value)
    return number if _MIN_INT64 <= number <= _MAX_INT64 else None


def parse_id(value: object) -> int | None:
    """A row id as we write it (digits, no leading zero, at most MAX_ID), or None."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def parse_date(value: object) -> date | None:
    """A calendar date written YYYY-MM-DD in ASCII digits, or None (also for 2024-02-30)."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
