"""What the fairness tests share: contacts of a source with (or without) the assignment
events the engine records, written straight into the decision log, and counted in the
tallies as a registration counts them (so that the pages around them stay truthful)."""

from datetime import date, datetime

from django.utils import timezone

from distribution import tallies
from distribution.actors import SYSTEM
from distribution.decision_log import Candidate, contact_event, record
from distribution.models import Contact, ContactEvent, Lead, Operator, Source

DAY = date(2024, 5, 6)


def noon(day: date = DAY) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=12))


def lead() -> Lead:
    n = Lead.objects.count()
    return Lead.objects.create(identifier=f"lead{n}@example.com", identifier_key=f"lead{n}")


def _count(source: Source, operator: Operator, times: int) -> None:
    """The tallies of `times` new open contacts of a new lead (what contact_register adds)."""
    moves = tallies.Moves()
    moves[tallies.key_of(source.pk, operator.pk, Contact.Status.OPEN)] += times
    moves.add(source.pk, None, tallies.LEAD)
    tallies.write(moves)


def candidate(op: Operator, weight: int | None, why_not: str | None = None) -> Candidate:
    return Candidate(op.pk, weight, open_contacts=0, workload_limit=10, why_not=why_not)


def assign(
    source: Source,
    operator: Operator,
    candidates: list[Candidate],
    *,
    reason: str = "weighted",
    at: datetime | None = None,
    times: int = 1,
) -> None:
    """`times` contacts of `source` given to `operator`, each with its assignment event."""
    at = at or noon()
    customer = lead()
    contacts = Contact.objects.bulk_create(
        Contact(lead=customer, source=source, operator=operator, assigned_at=at, created_at=at)
        for _ in range(times)
    )
    _count(source, operator, times)
    _count(source, operator, times)
    record(
        contact_event(
            c.pk,
            ContactEvent.Kind.ASSIGNED,
            actor=SYSTEM,
            at=at,
            operator_id=operator.pk,
            reason=reason,
            candidates=candidates,
        )
        for c in contacts
    )


def unlogged(source: Source, operator: Operator, *, times: int, at: datetime | None = None):
    """Contacts assigned before the decision log existed: no event tells of them."""
    at = at or noon()
    customer = lead()
    Contact.objects.bulk_create(
        Contact(lead=customer, source=source, operator=operator, assigned_at=at, created_at=at)
        for _ in range(times)
    )
    _count(source, operator, times)
