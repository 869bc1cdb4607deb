"""
The engine's promises (I1-I6 in allocation.py's docstring), checked against the database.

Each check returns the violations it found, in words; an empty list means the promise
holds. The stateful test calls them after every step, the concurrency and load tests at
the end of their runs, and `manage.py check_invariants` on a live database.
"""

from collections.abc import Iterable, Mapping

from django.db.models import Count, F, Q
from django.utils import timezone

from . import shifts
from .allocation import Pool, accepts_contacts, is_on_shift, source_weights
from .models import Contact, Lead, Operator, ShiftHours, normalize_identifier
from .selectors import operator_loads


def _pool_of_every_operator() -> Pool:
    """Every operator with its load, unlocked: a reading of the state, not a decision."""
    operators = {op.pk: op for op in Operator.objects.all()}
    return Pool(operators=operators, loads=operator_loads(operators))


def assignment_violations(contact_ids: Iterable[int], *, manual: Iterable[int] = ()) -> list[str]:
    """I1 for contacts that were just given an operator: it accepts contacts, has a weight
    for the contact's source (not needed for a manual reassignment, listed in `manual`) and
    holds no more than its limit now that it has the contact."""
    manual = set(manual)
    contacts = list(Contact.objects.filter(pk__in=list(contact_ids), operator__isnull=False))
    if not contacts:
        return []
    pool = _pool_of_every_operator()
    weights = source_weights({c.source_id for c in contacts})
    violations = []
    for contact in contacts:
        operator = pool.operators[contact.operator_id or 0]  # Assigned: filtered above.
        load = pool.loads.get(operator.pk, 0)
        weighted = any(pk == operator.pk for pk, _ in weights.get(contact.source_id, []))
        problems = [
            "does not accept contacts" if not accepts_contacts(operator) else "",
            f"holds {load} > its limit {operator.workload_limit}"
            if load > operator.workload_limit
            else "",
            "has no weight for its source" if not (weighted or contact.pk in manual) else "",
        ]
        violations += [
            f"I1: contact {contact.pk} went to {operator}, which {problem}"
            for problem in problems
            if problem
        ]
    return violations


def queue_violations() -> list[str]:
    """I2: no source has a queued contact while an operator eligible for it has room."""
    queued = set(
        Contact.objects.filter(status=Contact.Status.OPEN, operator__isnull=True).values_list(
            "source_id", flat=True
        )
    )
    if not queued:
        return []
    pool = _pool_of_every_operator()
    return [
        f"I2: a contact of source {source_id} waits while operator {pk} has room {pool.room(pk)}"
        for source_id, pairs in source_weights(queued).items()
        for pk, _ in pool.eligible(pairs)
    ]


def lead_violations() -> list[str]:
    """I3: one lead per trimmed, case-folded identifier, and every key is its identifier's."""
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


def shift_violations() -> list[str]:
    """I6: the engine's reading of every operator's shift (allocation.is_on_shift) agrees
    with its working hours at the present moment."""
    now = timezone.now()
    hours: dict[int, list[shifts.Hours]] = {}
    for operator_id, weekday, start, end in ShiftHours.objects.values_list(
        "operator_id", "weekday", "start", "end"
    ):
        hours.setdefault(operator_id, []).append((weekday, start, end))
    return [
        f"I6: {op} is read as {'on' if is_on_shift(op, now) else 'off'} shift, "
        f"its hours say otherwise"
        for op in Operator.objects.all()
        if is_on_shift(op, now) != shifts.is_on_shift(hours.get(op.pk, []), op.time_zone, now)
    ]


def state_violations() -> list[str]:
    """I2, I3, I4 and I6: what must hold of any database at rest."""
    return queue_violations() + lead_violations() + contact_state_violations() + shift_violations()
