"""seed_demo: a small team's week, written through the services, once, the same every time."""

import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, Q
from django.test import override_settings
from django.utils import timezone

from distribution import invariants
from distribution.management.commands.seed_demo import DAYS, DEMO_LOGINS, Timeline
from distribution.models import (
    Contact,
    ContactEvent,
    Lead,
    Operator,
    Presence,
    SettingChange,
    ShiftHours,
    Source,
    SourceOperatorConfig,
)

pytestmark = pytest.mark.django_db

# What the test suites leave behind: "qa390@example.com", "test-lead-7", "O1", "OOOO...".
LEFTOVER = re.compile(r"^(qa|test)|^o+\d*$|^customer\d+@", re.IGNORECASE)
# A Wednesday morning: every operator's working hours include it (none is off shift).
WEDNESDAY = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """One demo week for the tests of this module (seeding takes seconds), rolled back
    at the end. The clock stays on the week's Wednesday, so that shifts read as seeded."""
    with (
        django_db_blocker.unblock(),
        time_machine.travel(WEDNESDAY, tick=True),
        override_settings(DEBUG=True),
        transaction.atomic(),
    ):
        seed()
        yield timezone.now()
        transaction.set_rollback(True)


@pytest.fixture
def week(seeded):
    return seeded


def test_the_demo_team_has_logins_settings_hours_and_someone_away(week):
    operators = list(Operator.objects.all())
    sources = list(Source.objects.all())

    assert 7 <= len(operators) <= 10
    assert {op.user.username for op in operators if op.user} == set(DEMO_LOGINS.values())
    assert [op.name for op in operators if op.presence == Presence.AWAY] == ["Grace O'Neill"]
    zones = set(Operator.objects.filter(hours__isnull=False).values_list("time_zone", flat=True))
    assert len(zones) >= 2 and ShiftHours.objects.count() >= 10
    assert 4 <= len(sources) <= 6
    assert [s.mode for s in sources].count("balanced") == 1
    assert sum(s.sticky_days is not None for s in sources) == 1
    assert sum(s.response_minutes is not None for s in sources) == 1
    assert all(SourceOperatorConfig.objects.filter(source=s).count() >= 2 for s in sources)


def test_the_week_has_history_returning_leads_and_a_queue(week):
    contacts = Contact.objects.all()
    days = {c.created_at.date() for c in contacts}
    returning = Lead.objects.annotate(n=Count("contacts")).filter(n__gte=2)
    queued = contacts.filter(status=Contact.Status.OPEN, operator__isnull=True)

    assert 300 <= contacts.count() <= 400
    assert len(days) >= DAYS
    assert all(week - timedelta(days=DAYS) <= c.created_at <= week for c in contacts)
    closed = contacts.filter(status=Contact.Status.CLOSED)
    assert closed.count() > contacts.count() / 2
    assert {c.outcome for c in closed} == {"won", "lost", "spam", "other"}
    assert closed.exclude(note="").count() > closed.count() / 2
    assert contacts.filter(status=Contact.Status.OPEN, responded_at__isnull=False).exists()
    assert returning.count() >= 20 and returning.filter(n__gte=3).exists()
    # Full or away: the queued contacts' source has nobody with room.
    assert queued.count() >= 2
    assert {c.source.name for c in queued} == {"Instagram"}
    # Each contact's moments are in the order they happened, minutes to days apart.
    # (A contact answered by Grace and then returned to the queue keeps its response.)
    for c in contacts.exclude(responded_at=None).exclude(assigned_at=None):
        assert c.created_at <= c.responded_at and c.created_at <= c.assigned_at
    assert any(c.closed_at - c.created_at > timedelta(hours=4) for c in closed)


def test_identifiers_and_names_look_like_customers_not_test_leftovers(week):
    identifiers = list(Lead.objects.values_list("identifier", flat=True))
    names = list(Operator.objects.values_list("name", flat=True))
    names += list(Source.objects.values_list("name", flat=True))
    names += list(Lead.objects.exclude(name="").values_list("name", flat=True))

    assert [i for i in identifiers + names if LEFTOVER.search(i)] == []
    kinds = {
        "email": r"^[a-z.]+\d*@example\.(com|org|net)$",
        "uk": r"^\+44 7700 900\d{3}$",
        "de": r"^\+49 30 23125 \d{3}$",
        "handle": r"^@[a-z._]+\d*$",
    }
    counts = {k: sum(bool(re.match(p, i)) for i in identifiers) for k, p in kinds.items()}
    assert all(n >= 10 for n in counts.values()), counts
    assert sum(counts.values()) == len(identifiers)


def test_the_demo_keeps_the_engines_invariants(week):
    assert invariants.state_violations() == []
    for operator in Operator.objects.annotate(
        open=Count("contacts", filter=Q(contacts__status="open"))
    ):
        assert operator.open <= operator.workload_limit


def test_seed_demo_runs_once_and_a_second_run_changes_nothing(week):
    def shape():
        return [
            m.objects.count()
            for m in (Operator, Source, Lead, Contact, ContactEvent, SettingChange, ShiftHours)
        ] + [get_user_model().objects.count()]

    before = shape()

    output = seed()

    assert shape() == before
    assert "skipped" in output


def _history() -> list[tuple]:
    return list(
        Contact.objects.order_by("created_at", "id").values_list(
            "lead__identifier", "source__name", "operator__name", "status", "outcome", "note"
        )
    )


def _empty_the_database() -> None:
    ContactEvent.objects.all().delete()
    SettingChange.objects.all().delete()
    Contact.objects.all().delete()
    Lead.objects.all().delete()
    Source.objects.all().delete()
    Operator.objects.all().delete()
    get_user_model().objects.all().delete()


def test_the_same_clock_gives_the_same_week(week):
    first = _history()
    _empty_the_database()

    with time_machine.travel(WEDNESDAY, tick=True), override_settings(DEBUG=True):
        seed()

    assert _history() == first


def test_the_timeline_keeps_the_order_of_what_it_moves():
    start = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    timeline = Timeline()
    written = []
    # Two steps that stand for the same moment, and one that took longer than the gap
    # between its moment and the next.
    with time_machine.travel(WEDNESDAY, tick=False) as clock:
        for minute in (0, 5, 5, 30):
            timeline.mark(start + timedelta(minutes=minute))
            for _ in range(3):
                clock.shift(timedelta(seconds=40))
                written.append(timezone.now())
            clock.shift(timedelta(seconds=1))

    placed = [timeline.place(moment) for moment in written]

    assert placed == sorted(placed) and len(set(placed)) == len(placed)
    assert placed[0] == start + timedelta(seconds=40)
    assert start + timedelta(minutes=30) < placed[-1] <= start + timedelta(minutes=32)
    assert timeline.place(None) is None


@pytest.mark.parametrize("contacts", ["0", "1", "-5", "5001"])
def test_a_week_of_too_few_or_too_many_contacts_is_refused_and_nothing_is_written(contacts):
    before = (Operator.objects.count(), Contact.objects.count())

    with pytest.raises(CommandError, match="--contacts must be between 2 and 5000"):
        call_command("seed_demo", "--contacts", contacts, stdout=StringIO())

    assert (Operator.objects.count(), Contact.objects.count()) == before


def test_the_log_shows_each_routing_policy_and_a_timed_out_contact(week):
    timed_out = ContactEvent.objects.filter(kind=ContactEvent.Kind.TIMED_OUT)
    assert timed_out.count() >= 1
    # Taken back from the source with a response time, never to go back to who missed it.
    contact = timed_out.first().contact
    assert contact.source.response_minutes is not None
    assert contact.operator_id not in contact.missed_by
    reasons = set(
        ContactEvent.objects.filter(kind=ContactEvent.Kind.ASSIGNED).values_list(
            "reason", flat=True
        )
    )
    assert {"balanced", "sticky", "weighted"} <= reasons
