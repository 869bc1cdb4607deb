"""
The shapes of the JSON API: what it accepts and what it answers (see docs/api.md).

Input schemas are plain pydantic models, strict and closed: a field of the wrong JSON
type or a field the schema does not name is a 422, so that a typo such as
`workload_limt` is reported instead of silently changing nothing. Output schemas are
ninja schemas, filled from model instances.
"""

import re
from datetime import date, datetime, time
from typing import Annotated, Literal, TypeAlias

from django.utils import timezone
from ninja import Field, Schema
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    WithJsonSchema,
)

from distribution import allocation, shifts
from distribution.models import (
    MAX_ID,
    MAX_IDENTIFIER_LENGTH,
    MAX_MESSAGE_LENGTH,
    MAX_NAME_LENGTH,
    MAX_NOTE_LENGTH,
    MAX_RESPONSE_MINUTES,
    MAX_SEARCH_LENGTH,
    MAX_SHIFT_RANGES,
    MAX_STICKY_DAYS,
    MAX_TIME_ZONE_LENGTH,
    MAX_WEIGHT,
    MAX_WORKLOAD_LIMIT,
    ContactEvent,
    Operator,
)
from distribution.numbers import parse_date, parse_id, parse_int

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Enough for every operator of a team; it also keeps `IN (...)` queries within what
# SQLite accepts as bound parameters.
MAX_WEIGHTS = 1000


def _storable(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and a lone surrogate (JSON allows "\ud800") cannot
    # be encoded as UTF-8 by any driver: both would fail deep in the database layer.
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return value


# Strings the database can store, trimmed before their length is checked.
Storable = AfterValidator(_storable)
Name: TypeAlias = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_LENGTH),
    Storable,
]
SearchText: TypeAlias = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_SEARCH_LENGTH), Storable
]
Identifier: TypeAlias = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_IDENTIFIER_LENGTH),
    Storable,
]
Message: TypeAlias = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_MESSAGE_LENGTH), Storable
]
LeadName: TypeAlias = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_NAME_LENGTH), Storable
]


def _integral(value: object) -> object:
    # JSON Schema counts 3.0 as an integer, and some JSON encoders write whole numbers
    # that way; 3.5, "3" and true stay refused.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _id_text(value: object) -> object:
    # Path and query values arrive as text, which pydantic would read as generously as
    # int() does ("1_0" is 10, "+1" and " 1" are 1): a typo would act on another record.
    if isinstance(value, str):
        number = parse_id(value)
        if number is None:
            raise ValueError("must be an id: ASCII digits, no sign, no leading zero")
        return number
    return value


def _int_text(value: object) -> object:
    if isinstance(value, str):
        number = parse_int(value)
        if number is None:
            raise ValueError("must be a whole number in ASCII digits")
        return number
    return value


def _date_text(value: object) -> object:
    # pydantic would also read "2024-05-06T00:00", "20240506" or a Unix time as a date.
    if isinstance(value, str):
        day = parse_date(value)
        if day is None:
            raise ValueError("must be a date written YYYY-MM-DD")
        return day
    return value


_HH_MM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_HH_MM_PATTERN = "^([01][0-9]|2[0-3]):[0-5][0-9]$"
# As an end, "24:00" is midnight at the end of the day, as "00:00" is (shifts.py).
_END_PATTERN = "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"


def _clock(value: object, *, end: bool = False) -> object:
    if isinstance(value, str) and end and value == "24:00":
        return shifts.MIDNIGHT
    if not isinstance(value, str) or not _HH_MM.fullmatch(value):
        allowed = '"HH:MM" (00:00 to 23:59, or 24:00 for midnight)' if end else '"HH:MM"'
        raise ValueError(f"must be a time of day written {allowed}")
    return time(int(value[:2]), int(value[3:]))


def _time_zone(value: str) -> str:
    if not shifts.is_time_zone(value):
        raise ValueError(
            f"unknown time zone {value!r}: use an IANA name such as Europe/Berlin or UTC"
        )
    return value


Id: TypeAlias = Annotated[int, BeforeValidator(_integral), Field(ge=1, le=MAX_ID)]
# An id in the path or the query string (text), read as numbers.py reads ids.
IdParam: TypeAlias = Annotated[int, BeforeValidator(_id_text), Field(ge=1, le=MAX_ID)]
# A date in the query string, read as numbers.parse_date reads dates.
DateParam: TypeAlias = Annotated[
    date,
    BeforeValidator(_date_text),
    WithJsonSchema({"type": "string", "format": "date", "examples": ["2024-05-06"]}),
]
Limit: TypeAlias = Annotated[int, BeforeValidator(_integral), Field(ge=0, le=MAX_WORKLOAD_LIMIT)]
Weight: TypeAlias = Annotated[int, BeforeValidator(_integral), Field(ge=1, le=MAX_WEIGHT)]
StickyDays: TypeAlias = Annotated[int, BeforeValidator(_integral), Field(ge=1, le=MAX_STICKY_DAYS)]
ResponseMinutes: TypeAlias = Annotated[
    int, BeforeValidator(_integral), Field(ge=1, le=MAX_RESPONSE_MINUTES)
]
Weekday: TypeAlias = Annotated[
    int, BeforeValidator(_integral), Field(ge=0, le=6, description="0 is Monday, 6 Sunday.")
]
ShiftStart: TypeAlias = Annotated[
    time,
    BeforeValidator(_clock),
    WithJsonSchema({"type": "string", "pattern": _HH_MM_PATTERN, "examples": ["09:00"]}),
]
ShiftEnd: TypeAlias = Annotated[
    time,
    BeforeValidator(lambda value: _clock(value, end=True)),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _END_PATTERN,
            "examples": ["17:30"],
            "description": "00:00 (or 24:00) is midnight at the end of the day.",
        }
    ),
]
TimeZoneName: TypeAlias = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_TIME_ZONE_LENGTH),
    Storable,
    AfterValidator(_time_zone),
]
Note: TypeAlias = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_NOTE_LENGTH), Storable
]
# The values of models.Presence and models.Contact.Outcome (a test keeps them equal): a
# Literal refuses "AWAY" in strict mode, where the enums would need a Python instance.
PresenceName: TypeAlias = Literal["available", "away", "offline"]
OutcomeName: TypeAlias = Literal["won", "lost", "spam", "other"]
# models.RoutingMode, models.EventKind and models.ActorType, as Literals for the same reason.
ModeName: TypeAlias = Literal["random", "balanced"]
EventKindName: TypeAlias = Literal[
    "registered",
    "assigned",
    "queued",
    "reassigned",
    "timed_out",
    "requeued",
    "responded",
    "closed",
    "reopened",
]
ActorTypeName: TypeAlias = Literal["supervisor", "operator", "token", "system"]


class Input(BaseModel):
    """A request body: JSON types exactly as documented, no unknown fields."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _no_default_in_schema(schema: dict) -> None:
    # Optional fields of a PATCH have no default value: absent means "unchanged".
    # Without this, pydantic documents `"default": null` on a field that refuses null.
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)


# --- paging ----------------------------------------------------------------------


class PageParams(Schema):
    limit: Annotated[int, BeforeValidator(_int_text)] = Field(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"At most {MAX_LIMIT} items per page."
    )
    offset: Annotated[int, BeforeValidator(_int_text)] = Field(
        0, ge=0, le=MAX_ID, description="How many items to skip."
    )


# --- errors ----------------------------------------------------------------------


class ErrorOut(Schema):
    detail: str = Field(description="What went wrong, for a human.")


class ValidationErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = Field(
        description=(
            "Messages per field. Keys are field names, dotted for nested fields "
            "(`weights.0.weight`); `body` is the body as a whole, `__all__` the request "
            "as a whole."
        )
    )


# --- operators -------------------------------------------------------------------


class OperatorCreateIn(Input):
    name: Name
    is_active: bool = True
    workload_limit: Limit = 10


class OperatorUpdateIn(Input):
    model_config = ConfigDict(json_schema_extra=_no_default_in_schema)

    name: Name = None  # type: ignore[assignment]
    is_active: bool = None  # type: ignore[assignment]
    workload_limit: Limit = None  # type: ignore[assignment]
    presence: PresenceName = None  # type: ignore[assignment]
    requeue_open_contacts: bool = Field(
        False,
        description=(
            "When the change leaves the operator unable to receive contacts (inactive, "
            "away, offline, off shift), return its open contacts to the queue, where they "
            "are handed at once, oldest first, to those eligible. Without it they stay."
        ),
    )


class OperatorOut(Schema):
    id: int
    name: str
    is_active: bool
    workload_limit: int
    open_contacts: int = Field(description="The operator's load: its open contacts.")
    presence: PresenceName
    on_shift: bool = Field(
        description="Its working hours include this moment (always true without hours)."
    )

    @staticmethod
    def resolve_on_shift(operator: Operator) -> bool:
        return allocation.is_on_shift(operator, timezone.now())


class OperatorPage(Schema):
    items: list[OperatorOut]
    count: int


class ShiftIn(Input):
    weekday: Weekday
    start: ShiftStart
    end: ShiftEnd


class ScheduleIn(Input):
    time_zone: TimeZoneName = Field(description="An IANA time zone, e.g. Europe/Berlin.")
    hours: list[ShiftIn] = Field(
        max_length=MAX_SHIFT_RANGES,
        description="Weekly ranges in the time zone; [] removes the schedule (always on shift).",
    )


class ShiftOut(Schema):
    weekday: int
    start: str = Field(examples=["09:00"])
    end: str = Field(examples=["17:30"], description="00:00 is midnight at the end of the day.")

    @staticmethod
    def resolve_start(hours) -> str:
        return f"{hours.start:%H:%M}"

    @staticmethod
    def resolve_end(hours) -> str:
        return f"{hours.end:%H:%M}"


class ScheduleOut(Schema):
    time_zone: str
    hours: list[ShiftOut] = Field(description="By weekday and start; [] when it has none.")


# --- sources ---------------------------------------------------------------------


class SourceCreateIn(Input):
    name: Name


class SourceUpdateIn(Input):
    model_config = ConfigDict(json_schema_extra=_no_default_in_schema)

    name: Name = None  # type: ignore[assignment]
    mode: ModeName = Field(
        None,  # type: ignore[arg-type]
        description="`random`: drawn by weight; `balanced`: smooth weighted round robin.",
    )
    sticky_days: StickyDays | None = Field(
        None,
        description=(
            "A returning lead goes to the operator of its latest contact within this many "
            "days, when that operator is eligible; null turns it off."
        ),
    )
    response_minutes: ResponseMinutes | None = Field(
        None,
        description=(
            "A contact not marked responded within this many minutes of its assignment is "
            "routed again, never to an operator that missed it; null turns it off."
        ),
    )


class WeightIn(Input):
    operator_id: Id
    weight: Weight


class WeightsIn(Input):
    weights: list[WeightIn] = Field(max_length=MAX_WEIGHTS)


class WeightOut(Schema):
    operator_id: int
    weight: int


class SourceOut(Schema):
    id: int
    name: str
    weights: list[WeightOut]
    mode: ModeName
    sticky_days: int | None = Field(description="null: off.")
    response_minutes: int | None = Field(description="null: off.")

    @staticmethod
    def resolve_weights(source) -> list:
        return list(source.weights.all())


class SourcePage(Schema):
    items: list[SourceOut]
    count: int


# --- fairness --------------------------------------------------------------------


class FairnessParams(Schema):
    since: DateParam | None = Field(
        None, description="The first day, YYYY-MM-DD (default: 6 days before `until`)."
    )
    until: DateParam | None = Field(
        None, description="The last day, included, YYYY-MM-DD (default: today)."
    )


class FairnessRowOut(Schema):
    operator_id: int
    name: str
    weight: int | None = Field(description="Its weight for the source now; null: none.")
    contacts: int = Field(description="Contacts it got by draw in the period.")
    share: float = Field(description="contacts / all counted contacts (0 to 1).")
    expected: float = Field(description="The contacts its chances at each draw add up to.")
    expected_share: float = Field(description="expected / all counted contacts (0 to 1).")


class FairnessTestOut(Schema):
    verdict: Literal["consistent", "unlikely", "not_enough_data"]
    verdict_text: str = Field(description="The verdict in words, as the page says it.")
    statistic: float | None = Field(description="Pearson's chi-square; null: not enough data.")
    df: int | None = Field(description="Degrees of freedom: operators taking part - 1.")
    p_value: float | None
    unlikely_below: float = Field(description="The p-value under which a split is unlikely.")


class FairnessOut(Schema):
    source_id: int
    since: date
    until: date = Field(description="Included.")
    total: int = Field(description="Contacts counted: draws + by_current_weights.")
    draws: int = Field(description="Assignments by draw, from the decision log.")
    by_current_weights: int = Field(
        description="Contacts from before the decision log, counted against today's weights."
    )
    sticky: int = Field(description="Sticky assignments in the period (not counted).")
    reassigned: int = Field(description="Reassignments by hand in the period (not counted).")
    operators: list[FairnessRowOut]
    test: FairnessTestOut


# --- the dry run -----------------------------------------------------------------


class RoutePreviewIn(Input):
    lead_identifier: Identifier | None = Field(
        default=None, description="A returning lead: its sticky owner is considered too."
    )


class PreviewCandidateOut(Schema):
    operator_id: int
    weight: int | None = Field(description="null: no weight for the source (a sticky owner).")
    open_contacts: int
    workload_limit: int
    eligible: bool
    why_not: str | None = Field(
        description="inactive, away, offline, off shift, no weight, "
        "missed the response time, full; null when eligible."
    )
    probability: float | None = Field(
        default=None, description="Random mode: the chance of this operator; null otherwise."
    )


class RoutePreviewOut(Schema):
    operator_id: int | None = Field(
        description="The operator the rule would choose; null when queued, or in random "
        "mode when several operators share the draw."
    )
    reason: Literal["weighted", "balanced", "sticky", "queued"]
    candidates: list[PreviewCandidateOut]


# --- contacts and leads ----------------------------------------------------------


class ContactCreateIn(Input):
    lead_identifier: Identifier = Field(
        description="E-mail, phone or messenger id; trimmed, compared case-insensitively."
    )
    source_id: Id
    message: Message = ""
    lead_name: LeadName = ""


class LeadRef(Schema):
    id: int
    identifier: str


class ContactOut(Schema):
    id: int
    lead: LeadRef
    source_id: int
    operator_id: int | None = Field(description="null while the contact waits in the queue.")
    status: Literal["open", "closed"]
    message: str
    created_at: datetime
    assigned_at: datetime | None
    responded_at: datetime | None = Field(description="The first response to the customer.")
    closed_at: datetime | None
    outcome: OutcomeName | None = Field(description="Set when it was closed with one.")
    note: str


class ActorOut(Schema):
    type: ActorTypeName
    name: str = Field(description="The supervisor's or operator's user name, or the token's.")


class CandidateOut(Schema):
    operator_id: int
    weight: int | None = Field(description="null: no weight for the source.")
    open_contacts: int
    workload_limit: int
    eligible: bool
    why_not: str | None = Field(
        description=(
            "Why it was passed over: inactive, away, offline, off shift, full, no weight, "
            "missed the response time; null when eligible."
        )
    )


class ContactEventOut(Schema):
    at: datetime
    kind: EventKindName
    operator_id: int | None = Field(
        description="The operator it went to (or left, for timed_out and requeued)."
    )
    previous_operator_id: int | None
    actor: ActorOut
    reason: str = Field(
        description="For assignments: weighted, balanced, sticky or drained; else empty."
    )
    candidates: list[CandidateOut] = Field(
        description="Every operator considered, for automatic decisions; else []."
    )

    @staticmethod
    def resolve_actor(event: ContactEvent) -> dict:
        return {"type": event.actor_type, "name": event.actor_name}


class ContactEventPage(Schema):
    items: list[ContactEventOut]
    count: int


class ContactCloseIn(Input):
    outcome: OutcomeName | None = None
    note: Note = ""


class NoBody(Input):
    """An operation that takes no data: an empty body, or `{}`."""


class ContactPage(Schema):
    items: list[ContactOut]
    count: int


class ContactFilters(Schema):
    status: Literal["open", "closed"] | None = None
    source_id: IdParam | None = None
    operator_id: IdParam | None = None
    unassigned: bool = Field(False, description="Only contacts without an operator.")


class LeadOut(Schema):
    id: int
    identifier: str
    name: str
    created_at: datetime
    contacts: list[ContactOut] = Field(description="The lead's contacts, newest first.")

    @staticmethod
    def resolve_contacts(lead) -> list:
        return list(lead.contacts.all())


class LeadPage(Schema):
    items: list[LeadOut]
    count: int


# --- statistics ------------------------------------------------------------------


class TotalsOut(Schema):
    leads: int
    contacts: int
    open_contacts: int
    unassigned_contacts: int


class OperatorStatsOut(Schema):
    id: int
    name: str
    is_active: bool
    workload_limit: int
    open_contacts: int
    total_contacts: int


class SourceOperatorStatsOut(Schema):
    operator_id: int
    weight: int
    contacts: int
    share: float = Field(description="contacts / assigned contacts of the source")
    expected_share: float = Field(description="weight / sum of the source's weights")


class SourceStatsOut(Schema):
    id: int
    name: str
    total_contacts: int
    unassigned_contacts: int
    operators: list[SourceOperatorStatsOut]


class StatsOut(Schema):
    totals: TotalsOut
    operators: list[OperatorStatsOut]
    sources: list[SourceStatsOut]
