"""
The engine's promises (I1-I9 in allocation.py's docstring), checked against the database.

Each check returns the violations it found, in words; an empty list means the promise
holds. The stateful test calls them after every step, the concurrency and load tests at
the end of their runs.

The rules are written here a second time on purpose, plainly, from the rows themselves
(the operator's flags, its working hours read at this moment, its open contacts, the
weights), and never through allocation.py: a check that called the engine's own code
would agree with any bug in it.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, F, Q
from django.utils import timezone

from . import shifts
from .allocation import is_on_shift  # The reading I6 puts to the test.
from .models import (
    Contact,
    ContactEvent,
    ContactTally,
    Lead,
    Operator,
    Presence,
    ShiftHours,
    Source,
    SourceOperatorConfig,
    normalize_identifier,
)


@dataclass
class _World:
    """Every operator, its load, its working hours and every weight, as stored now."""

    now: datetime
    operators: dict[int, Operator]
    loads: dict[int, int]
    hours: dict[int, list[shifts.Hours]]
    weights: dict[int, dict[int, int]]  # source id -> {operator id: weight}

    @classmethod
    def read(cls) -> "_World":
        operators = {op.pk: op for op in Operator.objects.all()}
        loads = dict(
            Contact.objects.filter(status=Contact.Status.OPEN, operator__isnull=False)
            .values("operator_id")
            .annotate(n=Count("id"))
            .values_list("operator_id", "n")
            .order_by()
        )
        hours: dict[int, list[shifts.Hours]] = {}
        for operator_id, weekday, start, end in ShiftHours.objects.values_list(
            "operator_id", "weekday", "start", "end"
        ):
            hours.setdefault(operator_id, []).append((weekday, start, end))
        weights: dict[int, dict[int, int]] = {}
        for source_id, operator_id, weight in SourceOperatorConfig.objects.values_list(
            "source_id", "operator_id", "weight"
        ):
            weights.setdefault(source_id, {})[operator_id] = weight
        return cls(timezone.now(), operators, loads, hours, weights)

    def on_shift(self, operator: Operator) -> bool:
        return shifts.is_on_shift(self.hours.get(operator.pk, []), operator.time_zone, self.now)

    def why_not(self, operator: Operator) -> str | None:
        """Why the operator may not receive a contact now (its load aside), or None."""
        if not operator.is_active:
            return "is inactive"
        if operator.presence != Presence.AVAILABLE:
            return f"is {operator.presence}"
        if not self.on_shift(operator):
            return "is off shift"
        return None

    def has_room(self, operator: Operator) -> bool:
        return self.why_not(operator) is None and (
            self.loads.get(operator.pk, 0) < operator.workload_limit
        )


def assignment_violations(
    contact_ids: Iterable[int], *, manual: Iterable[int] = (), world: _World | None = None
) -> list[str]:
    """I1 for contacts that were just given an operator: it accepts contacts (active,
    available, on shift by its hours), has a weight for the contact's source and did not
    miss the contact's response time before (neither needed for a manual reassignment,
    listed in `manual`), and holds no more than its limit now that it has the contact."""
    manual = set(manual)
    contacts = list(Contact.objects.filter(pk__in=list(contact_ids), operator__isnull=False))
    if not contacts:
        return []
    world = world or _World.read()
    violations = []
    for contact in contacts:
        operator = world.operators[contact.operator_id or 0]  # Assigned: filtered above.
        load = world.loads.get(operator.pk, 0)
        weighted = operator.pk in world.weights.get(contact.source_id, {})
        missed = operator.pk in contact.missed_by and contact.pk not in manual
        problems = [
            world.why_not(operator) or "",
            f"holds {load} > its limit {operator.workload_limit}"
            if load > operator.workload_limit
            else "",
            "has no weight for its source" if not (weighted or contact.pk in manual) else "",
            "had missed its response time" if missed else "",
        ]
        violations += [
            f"I1: contact {contact.pk} went to {operator}, which {problem}"
            for problem in problems
            if problem
        ]
    return violations


def queue_violations(world: _World | None = None) -> list[str]:
    """I2: no contact waits in the queue while an operator eligible for its source, and
    that did not miss its response time, has room."""
    queued = list(
        Contact.objects.filter(status=Contact.Status.OPEN, operator__isnull=True).values_list(
            "pk", "source_id", "missed_by"
        )
    )
    if not queued:
        return []
    world = world or _World.read()
    return [
        f"I2: contact {pk} of source {source_id} waits while {world.operators[op]} has room"
        for pk, source_id, missed_by in queued
        for op in sorted(world.weights.get(source_id, {}))
        if op not in missed_by and world.has_room(world.operators[op])
    ]


def lead_violations() -> list[str]:
    """I3: one lead per identifier key (a phone number's E.164 form, otherwise the trimmed,
    case-folded identifier), and every key is its identifier's."""
    duplicates = (
        Lead.objects.values("identifier_key").annotate(n=Count("id")).filter(n__gt=1).order_by()
    )
    violations = [
        f"I3: {row['n']} leads share the key {row['identifier_key']!r}" for row in duplicates
    ]
    for pk, identifier, key in Lead.objects.values_list("pk", "identifier", "identifier_key"):
        if key != normalize_identifier(identifier):
            violations.append(f"I3: lead {pk} has the key {key!r} for {identifier!r}")
    return violations


def contact_state_violations() -> list[str]:
    """I4: status, timestamps and operator agree."""
    bad = Contact.objects.filter(
        Q(status=Contact.Status.CLOSED, closed_at__isnull=True)
        | Q(status=Contact.Status.OPEN, closed_at__isnull=False)
        | Q(operator__isnull=True, assigned_at__isnull=False)
        | Q(operator__isnull=False, assigned_at__isnull=True)
        | Q(assigned_at__lt=F("created_at"))
        | Q(closed_at__lt=F("created_at"))
        | ~Q(status__in=Contact.Status.values)
    )
    return [f"I4: contact {pk} is inconsistent" for pk in bad.values_list("pk", flat=True)]


def registration_violations(answered: Mapping[int, str]) -> list[str]:
    """I5: every answered registration (contact id -> identifier sent) is stored exactly
    once, under its lead, and nothing else is stored."""
    stored = dict(Contact.objects.values_list("pk", "lead__identifier_key"))
    violations = [
        f"I5: contact {pk} was answered but is not stored" for pk in answered if pk not in stored
    ]
    violations += [
        f"I5: contact {pk} is stored but was never answered" for pk in stored if pk not in answered
    ]
    violations += [
        f"I5: contact {pk} was sent for {identifier!r} but stored under {stored[pk]!r}"
        for pk, identifier in answered.items()
        if pk in stored and stored[pk] != normalize_identifier(identifier)
    ]
    return violations


def shift_violations(world: _World | None = None) -> list[str]:
    """I6: the engine's reading of every operator's shift agrees with its working hours at
    the present moment (the engine reads stored flags; this reads the hours)."""
    world = world or _World.read()
    return [
        f"I6: {op} is read as {'on' if is_on_shift(op, world.now) else 'off'} shift, "
        f"its hours say otherwise"
        for op in world.operators.values()
        if is_on_shift(op, world.now) != world.on_shift(op)
    ]


def tally_violations() -> list[str]:
    """I9: every tally equals a count of the contacts themselves (per source, operator or
    none, and status), and each source's "lead" tally the leads whose first contact
    (the lowest id: the one whose registration created the lead) came through it.
    Counted here in Python from the rows, not through tallies.recount."""
    counted: dict[tuple[int, int, str], int] = {}
    first_source: dict[int, int] = {}
    rows = Contact.objects.order_by("id").values_list(
        "lead_id", "source_id", "operator_id", "status"
    )
    for lead_id, source_id, operator_id, status in rows:
        key = (source_id, operator_id or 0, status)
        counted[key] = counted.get(key, 0) + 1
        first_source.setdefault(lead_id, source_id)
    for source_id in first_source.values():
        key = (source_id, 0, "lead")
        counted[key] = counted.get(key, 0) + 1
    stored = {
        (source_id, operator_key, status): n
        for source_id, operator_key, status, n in ContactTally.objects.values_list(
            "source_id", "operator_key", "status", "n"
        )
    }
    return [
        f"I9: the tally of {key} is {stored.get(key, 0)}, the rows count {counted.get(key, 0)}"
        for key in sorted(set(counted) | set(stored))
        if stored.get(key, 0) != counted.get(key, 0)
    ]


def state_violations() -> list[str]:
    """I2, I3, I4, I6 and I9: what must hold of any database at rest."""
    world = _World.read()
    return (
        queue_violations(world)
        + lead_violations()
        + contact_state_violations()
        + shift_violations(world)
        + tally_violations()
    )


def step_violations(
    given: Iterable[int], *, manual: Iterable[int], answered: Mapping[int, str]
) -> list[str]:
    """Everything after one step of a run: I1 for the contacts given an operator in the
    step (`manual`: by hand), I2-I6 from one reading of the operators, and I9."""
    world = _World.read()
    return (
        assignment_violations(given, manual=manual, world=world)
        + queue_violations(world)
        + lead_violations()
        + contact_state_violations()
        + registration_violations(answered)
        + shift_violations(world)
        + tally_violations()
    )


AUTOMATIC = {"weighted", "balanced", "sticky", "drained"}
REFUSALS = {"inactive", "away", "offline", "off shift"}


def decision_violations(
    changed: Iterable[int], *, after_event: int, world: _World | None = None
) -> list[str]:
    """I7, for one step: every contact whose operator changed to another one has exactly
    one new `assigned` or `reassigned` event naming it; and every automatic decision logged
    in the step (events after `after_event`) shows its candidates as the rows say they
    are: each one's weight and limit, and why it was passed over (its own state first,
    then no weight, then a missed response time, then no room by its recorded load); the
    chosen operator eligible, a queued contact's candidates all not."""
    world = world or _World.read()
    new = list(ContactEvent.objects.filter(pk__gt=after_event).order_by("pk"))
    violations = []
    current = dict(Contact.objects.filter(pk__in=list(changed)).values_list("pk", "operator_id"))
    for contact_id, operator_id in current.items():
        moves = [
            e for e in new if e.contact_id == contact_id and e.kind in ("assigned", "reassigned")
        ]
        if operator_id is not None and [e.operator_id for e in moves] != [operator_id]:
            violations.append(
                f"I7: contact {contact_id} went to operator {operator_id} with the events "
                f"{[(e.kind, e.operator_id) for e in moves]}"
            )
    decided = [e for e in new if e.reason in AUTOMATIC or e.kind == "queued"]
    contacts = {c.pk: c for c in Contact.objects.filter(pk__in=[e.contact_id for e in decided])}
    for event in decided:
        contact = contacts[event.contact_id]
        violations += _candidate_violations(event, contact, world)
    return violations


def _candidate_violations(event: ContactEvent, contact: Contact, world: _World) -> list[str]:
    weights = world.weights.get(contact.source_id, {})
    seen = {c["operator_id"]: c for c in event.candidates}
    where = f"I7: {event.kind} event {event.pk} of contact {contact.pk}"
    violations = []
    if event.reason != "drained" and not set(weights) <= set(seen):
        violations.append(f"{where} leaves out weighted operators")
    if event.kind == "queued" and any(c["eligible"] for c in event.candidates):
        violations.append(f"{where} queued it beside an eligible operator")
    if event.operator_id is not None and not seen.get(event.operator_id, {}).get("eligible"):
        violations.append(f"{where} chose an operator it did not show eligible")
    for operator_id, candidate in seen.items():
        operator = world.operators[operator_id]
        refusal = (world.why_not(operator) or "").removeprefix("is ") or None
        expected = (
            refusal
            or ("no weight" if operator_id not in weights else None)
            or ("missed the response time" if operator_id in contact.missed_by else None)
            or ("full" if candidate["open_contacts"] >= operator.workload_limit else None)
        )
        facts = (candidate["weight"], candidate["workload_limit"], candidate["eligible"])
        if candidate["why_not"] != expected or facts != (
            weights.get(operator_id),
            operator.workload_limit,
            expected is None,
        ):
            violations.append(f"{where} shows {operator} as {candidate}, the rows say {expected!r}")
    return violations


def response_violations(world: _World | None = None) -> list[str]:
    """I8, right after the worker's tick: no open contact waits past its source's
    response time with its operator not having responded."""
    now = (world or _World.read()).now
    violations = []
    for source_id, minutes in Source.objects.filter(response_minutes__isnull=False).values_list(
        "pk", "response_minutes"
    ):
        late = Contact.objects.filter(
            source_id=source_id,
            status=Contact.Status.OPEN,
            operator__isnull=False,
            responded_at__isnull=True,
            assigned_at__lte=now - timedelta(minutes=minutes or 0),
        ).values_list("pk", flat=True)
        violations += [f"I8: contact {pk} waits past its response time" for pk in late]
    return violations
