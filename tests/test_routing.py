"""
The routing policies of a source (allocation.py): balanced mode (a smooth weighted round
robin), the sticky owner of a returning lead, and the response time after which the
worker routes a contact again; each decision in the log with its candidates.
"""

import math
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from distribution import services
from distribution.models import Contact, ContactEvent, Source, SourceOperatorConfig

from .test_concurrency import run_in_threads

# Monday 2026-11-30, noon UTC.
NOON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def set_routing(source: Source, **fields) -> None:
    # The routing settings' service belongs to the source page's work; the engine only
    # reads the row.
    Source.objects.filter(pk=source.pk).update(**fields)


def last_event(contact: Contact) -> ContactEvent:
    return ContactEvent.objects.filter(contact=contact).order_by("at", "id").last()


def why_not(event: ContactEvent) -> dict[int, str | None]:
    return {c["operator_id"]: c["why_not"] for c in event.candidates}


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


# --- balanced ----------------------------------------------------------------------


@pytest.mark.django_db
def test_balanced_keeps_every_count_within_one_of_its_share(make_operator, make_source, register):
    light, heavy = make_operator(limit=1000), make_operator(limit=1000)
    source = make_source(weights={light: 1, heavy: 3})
    set_routing(source, mode="balanced")
    counts: Counter[int] = Counter()

    for n in range(1, 41):
        contact = register(source)
        counts[contact.operator_id] += 1
        assert abs(counts[light.pk] - n / 4) <= 1
        assert abs(counts[heavy.pk] - 3 * n / 4) <= 1
        assert last_event(contact).reason == "balanced"


@pytest.mark.django_db
@settings(max_examples=25, deadline=None)
@given(
    weights=st.lists(st.integers(min_value=1, max_value=20), min_size=1, max_size=5),
    assignments=st.integers(min_value=1, max_value=40),
)
def test_balanced_stays_within_one_of_the_share_for_any_weights(weights, assignments):
    with transaction.atomic():
        operators = [
            services.operator_create(name=f"Op {i}", workload_limit=1000)
            for i in range(len(weights))
        ]
        source = services.source_create(name="Balanced")
        services.source_set_weights(
            source_id=source.pk,
            weights=[(op.pk, w) for op, w in zip(operators, weights, strict=True)],
        )
        set_routing(source, mode="balanced")
        counts: Counter[int] = Counter()
        total = sum(weights)
        for n in range(1, assignments + 1):
            contact = services.contact_register(lead_identifier=f"l{n}", source_id=source.pk)
            counts[contact.operator_id] += 1
            for op, weight in zip(operators, weights, strict=True):
                assert abs(counts[op.pk] - n * weight / total) <= 1
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_an_operator_back_from_an_absence_gets_no_flood(make_operator, make_source, register):
    steady, returning = make_operator(limit=1000), make_operator(limit=1000)
    source = make_source(weights={steady: 1, returning: 3})
    set_routing(source, mode="balanced")
    for _ in range(7):
        register(source)
    services.operator_update(operator_id=returning.pk, presence="away")
    for _ in range(50):
        assert register(source).operator_id == steady.pk

    services.operator_update(operator_id=returning.pk, presence="available")
    got = 0
    for n in range(1, 21):
        got += register(source).operator_id == returning.pk
        assert got <= math.ceil(n * 3 / 4)


@pytest.mark.django_db
def test_a_weight_change_starts_the_round_robin_afresh(make_operator, make_source, register):
    a, b = make_operator(limit=1000), make_operator(limit=1000)
    source = make_source(weights={a: 1, b: 2})
    set_routing(source, mode="balanced")
    for _ in range(4):
        register(source)
    assert set(SourceOperatorConfig.objects.values_list("balance", flat=True)) != {0}

    services.source_set_weight(source_id=source.pk, operator_id=a.pk, weight=2)

    assert set(SourceOperatorConfig.objects.values_list("balance", flat=True)) == {0}


@pytest.mark.django_db
def test_balanced_ties_go_to_the_lowest_operator_id(make_operator, make_source, register):
    first, second = make_operator(limit=10), make_operator(limit=10)
    source = make_source(weights={second: 1, first: 1})
    set_routing(source, mode="balanced")

    assert [register(source).operator_id for _ in range(4)] == [first.pk, second.pk] * 2


# --- sticky ------------------------------------------------------------------------


@pytest.fixture
def sticky(make_operator, make_source, register):
    """A sticky source (7 days) whose lead's first contact went to `owner`."""
    owner, other = make_operator("Owner", limit=5), make_operator("Other", limit=5)
    source = make_source(weights={owner: 1, other: 1})
    set_routing(source, mode="balanced", sticky_days=7)
    first = register(source, "returning@example.com")
    assert first.operator_id == owner.pk  # The lowest id, by the round robin's tie.
    return source, owner, other


@pytest.mark.django_db
def test_a_returning_lead_goes_back_to_its_operator(clock, sticky, register):
    source, owner, _ = sticky
    clock.shift(timedelta(days=6))

    again = [register(source, " RETURNING@example.com ") for _ in range(3)]

    assert {contact.operator_id for contact in again} == {owner.pk}
    assert {last_event(contact).reason for contact in again} == {"sticky"}


@pytest.mark.django_db
@pytest.mark.parametrize("absence", ["away", "full", "off shift", "no weight"])
def test_a_returning_lead_goes_by_the_rule_when_its_operator_cannot_take_it(
    clock, sticky, register, absence
):
    source, owner, other = sticky
    if absence == "away":
        services.operator_update(operator_id=owner.pk, presence="away")
    elif absence == "full":
        services.operator_update(operator_id=owner.pk, workload_limit=1)
    elif absence == "off shift":
        services.operator_set_schedule(
            operator_id=owner.pk, time_zone="UTC", hours=[(1, time(9), time(17))]
        )
    else:
        services.source_set_weight(source_id=source.pk, operator_id=owner.pk, weight=None)

    again = register(source, "returning@example.com")

    assert again.operator_id == other.pk
    event = last_event(again)
    assert event.reason == "balanced"
    assert why_not(event)[owner.pk] == absence


@pytest.mark.django_db
def test_outside_the_window_a_lead_goes_by_the_rule(clock, sticky, register):
    source, owner, other = sticky
    clock.shift(timedelta(days=7, seconds=1))

    again = register(source, "returning@example.com")

    assert last_event(again).reason == "balanced"
    assert again.operator_id == other.pk  # The round robin's turn, not the owner's.


@pytest.mark.django_db
def test_the_owner_of_a_contact_from_another_source_counts(
    clock, make_operator, make_source, register
):
    owner, other = make_operator("Owner"), make_operator("Other")
    web = make_source(weights={owner: 1})
    phone = make_source(weights={owner: 1, other: 1000})
    set_routing(phone, sticky_days=30)
    register(web, "lead@example.com")

    assert register(phone, "lead@example.com").operator_id == owner.pk


# --- the response time -------------------------------------------------------------


def tick() -> int:
    return services.contacts_time_out()


@pytest.fixture
def timed(make_operator, make_source):
    """A balanced source with a 10-minute response time and two operators."""
    first, second = make_operator("First", limit=5), make_operator("Second", limit=5)
    source = make_source(weights={first: 1, second: 1})
    set_routing(source, mode="balanced", response_minutes=10)
    return source, first, second


@pytest.mark.django_db
def test_a_contact_not_responded_to_in_time_is_routed_again(clock, timed, register):
    source, first, second = timed
    contact = register(source)
    assert contact.operator_id == first.pk

    clock.shift(timedelta(minutes=9, seconds=59))
    assert tick() == 0
    clock.shift(timedelta(seconds=1))
    assert tick() == 1

    contact.refresh_from_db()
    assert contact.operator_id == second.pk
    assert contact.missed_by == [first.pk]
    timed_out, assigned = ContactEvent.objects.filter(contact=contact).order_by("at", "id")[2:]
    assert (timed_out.kind, timed_out.operator_id) == ("timed_out", first.pk)
    assert (assigned.kind, assigned.reason, assigned.operator_id) == (
        "assigned",
        "balanced",
        second.pk,
    )
    assert why_not(assigned)[first.pk] == "missed the response time"
    assert tick() == 0  # Its new operator has its own ten minutes.


@pytest.mark.django_db
def test_a_responded_contact_stays(clock, timed, register):
    source, first, _ = timed
    contact = register(source)
    services.contact_respond(contact_id=contact.pk)

    clock.shift(timedelta(hours=1))

    assert tick() == 0
    contact.refresh_from_db()
    assert contact.operator_id == first.pk


@pytest.mark.django_db
def test_with_everyone_missed_it_waits_in_its_original_place(clock, timed, register, make_operator):
    source, first, second = timed
    contact = register(source)
    clock.shift(timedelta(minutes=10))
    tick()
    clock.shift(timedelta(minutes=10))
    tick()

    contact.refresh_from_db()
    assert contact.operator_id is None
    assert last_event(contact).kind == "queued"
    assert set(why_not(last_event(contact)).values()) == {"missed the response time"}
    # A newer contact, queued behind it, and room on an operator that missed it: the drain
    # never hands it back, and hands the newer one instead.
    services.operator_update(operator_id=first.pk, workload_limit=0)
    services.operator_update(operator_id=second.pk, workload_limit=0)
    newer = register(source)
    services.operator_update(operator_id=first.pk, workload_limit=5)
    contact.refresh_from_db()
    newer.refresh_from_db()
    assert (contact.operator_id, newer.operator_id) == (None, first.pk)
    # Someone new takes the oldest first.
    fresh = make_operator("Fresh", limit=1)
    services.operator_update(operator_id=first.pk, workload_limit=0)
    register(source)  # Queued behind the one that waits.
    services.source_set_weight(source_id=source.pk, operator_id=fresh.pk, weight=1)
    contact.refresh_from_db()
    assert contact.operator_id == fresh.pk


@pytest.mark.django_db
def test_a_missed_contacts_slot_drains_the_queue_to_its_operator(
    clock, make_operator, make_source, register
):
    only = make_operator("Only", limit=1)
    source = make_source(weights={only: 1})
    set_routing(source, response_minutes=5)
    missed, waiting = register(source), register(source)

    clock.shift(timedelta(minutes=5))
    tick()

    missed.refresh_from_db()
    waiting.refresh_from_db()
    assert (missed.operator_id, waiting.operator_id) == (None, only.pk)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_time_a_contact_out_once(make_operator, make_source):
    with time_machine.travel(NOON, tick=False) as clock:
        operators = [make_operator(limit=20) for _ in range(4)]
        source = make_source(weights={op: 1 for op in operators})
        set_routing(source, response_minutes=10)
        for n in range(20):
            services.contact_register(lead_identifier=f"lead{n}", source_id=source.pk)
        clock.shift(timedelta(minutes=10))
        done: list[int] = []

        errors = run_in_threads(2, lambda i: done.append(services.contacts_time_out()))

    assert errors == []
    assert sum(done) == 20
    timed_out = ContactEvent.objects.filter(kind="timed_out")
    assert timed_out.count() == 20
    assert timed_out.values("contact_id").distinct().count() == 20
    for contact in Contact.objects.all():
        assert len(contact.missed_by) == 1
        assert contact.operator_id not in contact.missed_by


@pytest.mark.django_db
def test_a_source_without_weights_logs_the_sticky_owner_with_its_state_and_load(
    clock, make_operator, make_source, register
):
    owner = make_operator("Owner", limit=5)
    web = make_source(weights={owner: 1})
    phone = make_source()  # No weight at all: the registration's fallback path.
    set_routing(phone, sticky_days=7)
    register(web, "returning@example.com")
    register(web, "someone.else@example.com")
    services.operator_update(operator_id=owner.pk, presence="away")

    again = register(phone, "returning@example.com")

    assert again.operator_id is None
    assert last_event(again).candidates == [
        {
            "operator_id": owner.pk,
            "weight": None,
            "open_contacts": 2,
            "workload_limit": 5,
            "eligible": False,
            "why_not": "away",
        }
    ]
