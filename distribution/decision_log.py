"""
The decision log: every event in a contact's life (registered, assigned and why, queued,
reassigned, timed out, requeued, responded, closed, reopened), who caused it, and for
every automatic decision each operator considered with its weight, load and limit and why
it was passed over; and every change supervisors make to operators' and sources' settings.

The engine and the services write it here, in the transaction that made the change, so
the log never tells of something that did not happen. Nothing edits or deletes an entry.

`capture()` lets the caller of a service see what that call wrote (the views turn it
into "Limit 35 -> 42: 7 queued contacts assigned to Chen").
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from .actors import Actor
from .models import ContactEvent, SettingChange

# Why an operator was passed over, besides its own state (allocation.refusal: "inactive",
# "away", "offline", "off shift").
FULL = "full"
NO_WEIGHT = "no weight"
MISSED = "missed the response time"


@dataclass(frozen=True)
class Candidate:
    """One operator as the engine saw it when it decided."""

    operator_id: int
    weight: int | None  # None: no weight for the source (a sticky owner can lack one)
    open_contacts: int
    workload_limit: int
    why_not: str | None = None  # None: eligible

    @property
    def eligible(self) -> bool:
        return self.why_not is None

    def as_json(self) -> dict[str, Any]:
        return {
            "operator_id": self.operator_id,
            "weight": self.weight,
            "open_contacts": self.open_contacts,
            "workload_limit": self.workload_limit,
            "eligible": self.eligible,
            "why_not": self.why_not,
        }


@dataclass
class Captured:
    """What was written while capture() was open, in order."""

    contact_events: list[ContactEvent] = field(default_factory=list)
    setting_changes: list[SettingChange] = field(default_factory=list)


_captures: ContextVar[tuple[Captured, ...]] = ContextVar("decision_log_captures", default=())


@contextmanager
def capture() -> Iterator[Captured]:
    """Collect the log entries written inside the block (nested blocks each see theirs)."""
    captured = Captured()
    token = _captures.set((*_captures.get(), captured))
    try:
        yield captured
    finally:
        _captures.reset(token)


def contact_event(
    contact_id: int,
    kind: str,
    *,
    actor: Actor,
    at: datetime | None = None,
    operator_id: int | None = None,
    previous_operator_id: int | None = None,
    reason: str = "",
    candidates: Iterable[Candidate] = (),
    detail: str = "",
) -> ContactEvent:
    """An unsaved event; write it (with others) through record()."""
    return ContactEvent(
        contact_id=contact_id,
        kind=kind,
        at=at or timezone.now(),
        operator_id=operator_id,
        previous_operator_id=previous_operator_id,
        actor_type=actor.type,
        actor_name=actor.name,
        reason=reason,
        candidates=[candidate.as_json() for candidate in candidates],
        detail=detail,
    )


def setting_change(
    field_name: str,
    old: object,
    new: object,
    *,
    actor: Actor,
    operator_id: int | None = None,
    source_id: int | None = None,
    at: datetime | None = None,
) -> SettingChange:
    """An unsaved settings change; write it (with others) through record()."""
    return SettingChange(
        field=field_name,
        old=_text(old),
        new=_text(new),
        actor_type=actor.type,
        actor_name=actor.name,
        operator_id=operator_id,
        source_id=source_id,
        at=at or timezone.now(),
    )


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def record(entries: Iterable[ContactEvent | SettingChange]) -> None:
    """Write log entries: one INSERT per kind of entry, none for an empty list."""
    entries = list(entries)
    events = [entry for entry in entries if isinstance(entry, ContactEvent)]
    changes = [entry for entry in entries if isinstance(entry, SettingChange)]
    if events:
        ContactEvent.objects.bulk_create(events)
    if changes:
        SettingChange.objects.bulk_create(changes)
    for captured in _captures.get():
        captured.contact_events += events
        captured.setting_changes += changes
