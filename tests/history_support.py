"""History written straight into the tables, as bench/seed.py writes it: many closed
contacts at once, far quicker than through the services. The tallies are rebuilt after
it, as the seed does, so that every page counts it."""

from datetime import timedelta

from django.utils import timezone

from distribution import tallies
from distribution.models import Contact, Lead, Operator, Source


def add_history(source: Source, operators: list[Operator], n: int, *, days: int = 30) -> None:
    """`n` closed contacts of `source`, spread over the `days` before now, round robin over
    `operators`, from n // 2 + 1 new leads."""
    now = timezone.now()
    first = Lead.objects.count()
    leads = Lead.objects.bulk_create(
        Lead(
            identifier=f"past{first + i}@example.com", identifier_key=f"past{first + i}@example.com"
        )
        for i in range(n // 2 + 1)
    )
    step = timedelta(days=days) / max(n, 1)
    contacts = []
    for i in range(n):
        at = now - timedelta(days=days) + step * i
        contacts.append(
            Contact(
                lead=leads[i // 2],
                source=source,
                operator=operators[i % len(operators)],
                status=Contact.Status.CLOSED,
                created_at=at,
                assigned_at=at,
                closed_at=at + timedelta(minutes=5),
            )
        )
    Contact.objects.bulk_create(contacts)
    tallies.rebuild()
