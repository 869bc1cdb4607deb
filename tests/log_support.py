"""Decision-log entries for tests of the pages and the API that show them.

The engine and the services write these in real use; these tests only need rows to read,
so they write them the same way (decision_log.record), with explicit times.
"""

from datetime import datetime, timedelta

from django.utils import timezone

from distribution import decision_log
from distribution.actors import SYSTEM, Actor
from distribution.decision_log import FULL, Candidate
from distribution.models import ActorType, Contact, ContactEvent, Operator

BOSS = Actor(ActorType.SUPERVISOR, "boss")
START = timezone.make_aware(datetime(2026, 3, 2, 9, 0))


def log_story(
    contact: Contact, chosen: Operator, passed: Operator, *, start=START, replace: bool = True
) -> None:
    """Registered, assigned by weight (with `passed` full), then reassigned by hand and
    closed: four events of `contact`, a minute apart from `start`, in place of those it
    has (its registration's), or after them without `replace`."""
    minute = timedelta(minutes=1)
    if replace:
        ContactEvent.objects.filter(contact=contact).delete()
    decision_log.record(
        [
            decision_log.contact_event(contact.pk, "registered", actor=SYSTEM, at=start),
            decision_log.contact_event(
                contact.pk,
                "assigned",
                actor=SYSTEM,
                at=start + minute,
                operator_id=chosen.pk,
                reason=ContactEvent.Reason.WEIGHTED,
                candidates=[
                    Candidate(chosen.pk, 3, 1, 10),
                    Candidate(passed.pk, 1, 5, 5, why_not=FULL),
                ],
            ),
            decision_log.contact_event(
                contact.pk,
                "reassigned",
                actor=BOSS,
                at=start + 2 * minute,
                operator_id=passed.pk,
                previous_operator_id=chosen.pk,
            ),
            decision_log.contact_event(
                contact.pk, "closed", actor=BOSS, at=start + 3 * minute, detail="won"
            ),
        ]
    )
