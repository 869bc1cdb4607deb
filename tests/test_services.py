"""The contract's distribution rules, one behaviour per test, through services.py."""

import random
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from distribution import allocation, selectors, services
from distribution.models import (
    Contact,
    ContactEvent,
    ContactTally,
    Lead,
    Source,
    SourceOperatorConfig,
)

pytestmark = pytest.mark.django_db


def load(operator) -> int:
    return selectors.operator_loads([operator.pk]).get(operator.pk, 0)


# --- who is eligible ---------------------------------------------------------------


def test_contact_goes_to_the_only_eligible_operator(make_operator, make_source, register):
    alice = make_operator("Alice")
    source = make_source(weights={alice: 1})

    contact = register(source)

    assert contact.operator_id == alice.pk
    assert contact.assigned_at is not None
    assert contact.status == Contact.Status.OPEN


def test_inactive_operator_never_receives_contacts(make_operator, make_source, register):
    active = make_operator(limit=100)
    inactive = make_operator(limit=100, active=False)
    source = make_source(weights={active: 1, inactive: 1000})

    contacts = [register(source) for _ in range(30)]

    assert {c.operator_id for c in contacts} == {active.pk}


def test_operator_without_weight_for_the_source_never_receives_contacts(
    make_operator, make_source, register
):
    weighted = make_operator(limit=100)
    other = make_operator(limit=100)
    source = make_source(weights={weighted: 1})
    make_source(weights={other: 1})

    contacts = [register(source) for _ in range(30)]

    assert {c.operator_id for c in contacts} == {weighted.pk}


def test_operator_at_its_limit_never_receives_contacts(make_operator, make_source, register):
    small = make_operator(limit=2)
    big = make_operator(limit=100)
    source = make_source(weights={small: 1000, big: 1})

    contacts = [register(source) for _ in range(20)]

    assert Counter(c.operator_id for c in contacts)[small.pk] == 2
    assert load(small) == 2


def test_operator_with_limit_zero_never_receives_contacts(make_operator, make_source, register):
    zero = make_operator(limit=0)
    source = make_source(weights={zero: 1})

    contact = register(source)

    assert contact.operator_id is None


# --- the queue ---------------------------------------------------------------------


def test_contact_is_queued_when_nobody_is_eligible(make_operator, make_source, register):
    alice = make_operator(limit=1)
    source = make_source(weights={alice: 1})
    register(source)

    queued = register(source)

    assert queued.operator_id is None
    assert queued.assigned_at is None
    assert list(selectors.queue()) == [queued]


def test_contact_is_queued_when_the_source_has_no_weights(make_source, register):
    source = make_source()

    contact = register(source)

    assert contact.operator_id is None
    assert selectors.queue_length() == 1


def test_closing_a_contact_assigns_the_oldest_queued_contact(make_operator, make_source, register):
    alice = make_operator(limit=1)
    source = make_source(weights={alice: 1})
    first = register(source)
    oldest = register(source)
    newer = register(source)

    services.contact_close(contact_id=first.pk)

    oldest.refresh_from_db()
    newer.refresh_from_db()
    assert oldest.operator_id == alice.pk
    assert oldest.assigned_at is not None
    assert newer.operator_id is None
    assert load(alice) == 1


def test_closing_drains_queued_contacts_of_every_source_the_operator_serves(
    make_operator, make_source, register
):
    alice = make_operator(limit=1)
    source_a = make_source(weights={alice: 1})
    source_b = make_source(weights={alice: 1})
    busy = register(source_a)
    queued_b = register(source_b)
    register(source_a)  # Queued after queued_b, so it waits longer.

    services.contact_close(contact_id=busy.pk)

    queued_b.refresh_from_db()
    assert queued_b.operator_id == alice.pk


def test_activating_an_operator_drains_the_queue(make_operator, make_source, register):
    alice = make_operator(limit=5, active=False)
    source = make_source(weights={alice: 1})
    queued = [register(source) for _ in range(7)]
    assert selectors.queue_length() == 7

    services.operator_update(operator_id=alice.pk, is_active=True)

    assert load(alice) == 5
    assert selectors.queue_length() == 2
    # Oldest first: the first five are the ones assigned.
    assigned = set(Contact.objects.filter(operator=alice).values_list("pk", flat=True))
    assert assigned == {c.pk for c in queued[:5]}


def test_raising_a_limit_drains_the_queue(make_operator, make_source, register):
    alice = make_operator(limit=1)
    source = make_source(weights={alice: 1})
    for _ in range(4):
        register(source)

    services.operator_update(operator_id=alice.pk, workload_limit=3)

    assert load(alice) == 3
    assert selectors.queue_length() == 1


def test_adding_a_weight_drains_the_queue(make_operator, make_source, register):
    alice = make_operator(limit=10)
    source = make_source()
    queued = register(source)

    services.source_set_weight(source_id=source.pk, operator_id=alice.pk, weight=1)

    queued.refresh_from_db()
    assert queued.operator_id == alice.pk


def test_queued_contacts_drain_by_weight(make_operator, make_source, register):
    light = make_operator(limit=10_000)
    heavy = make_operator(limit=10_000)
    source = make_source()
    for _ in range(800):
        register(source)

    services.source_set_weights(
        source_id=source.pk, weights=[(light.pk, 1), (heavy.pk, 3)], rng=random.Random(3)
    )

    assert selectors.queue_length() == 0
    sigma = (800 * 0.75 * 0.25) ** 0.5
    assert abs(load(heavy) - 600) < 4 * sigma
    assert load(light) + load(heavy) == 800


def test_lowering_a_limit_below_the_load_keeps_contacts_but_stops_new_ones(
    make_operator, make_source, register
):
    alice = make_operator(limit=5)
    source = make_source(weights={alice: 1})
    for _ in range(4):
        register(source)

    services.operator_update(operator_id=alice.pk, workload_limit=2)
    first_close = Contact.objects.filter(operator=alice).first()
    services.contact_close(contact_id=first_close.pk)
    after_close = register(source)

    assert load(alice) == 3
    assert after_close.operator_id is None
    alice.refresh_from_db()
    assert alice.workload_limit == 2


def test_deactivating_an_operator_keeps_its_open_contacts(make_operator, make_source, register):
    alice = make_operator(limit=5)
    source = make_source(weights={alice: 1})
    contact = register(source)

    services.operator_update(operator_id=alice.pk, is_active=False)

    contact.refresh_from_db()
    assert contact.operator_id == alice.pk
    assert register(source).operator_id is None


# --- closing and reassigning -------------------------------------------------------


def test_closing_a_closed_contact_changes_nothing(make_operator, make_source, register):
    source = make_source(weights={make_operator(): 1})
    contact = register(source)
    closed = services.contact_close(contact_id=contact.pk)

    again = services.contact_close(contact_id=contact.pk)

    assert again.status == Contact.Status.CLOSED
    assert again.closed_at == closed.closed_at


def test_closing_a_queued_contact_removes_it_from_the_queue(make_source, register):
    contact = register(make_source())

    services.contact_close(contact_id=contact.pk)

    assert selectors.queue_length() == 0


def test_reassign_moves_the_contact_and_frees_the_old_operator(
    make_operator, make_source, register
):
    alice = make_operator(limit=1)
    bob = make_operator(limit=5)
    source = make_source(weights={alice: 1})
    contact = register(source)
    queued = register(source)

    services.contact_reassign(contact_id=contact.pk, operator_id=bob.pk)

    contact.refresh_from_db()
    queued.refresh_from_db()
    assert contact.operator_id == bob.pk
    # Alice's freed slot went to the queued contact.
    assert queued.operator_id == alice.pk


def test_reassign_refuses_an_operator_at_its_limit(make_operator, make_source, register):
    alice = make_operator(limit=1)
    bob = make_operator(limit=1)
    source = make_source(weights={alice: 1, bob: 1})
    first, second = register(source), register(source)
    target = bob if first.operator_id == alice.pk else alice

    with pytest.raises(ValidationError) as exc:
        services.contact_reassign(contact_id=first.pk, operator_id=target.pk)

    assert "operator_id" in exc.value.message_dict
    first.refresh_from_db()
    assert first.operator_id != target.pk
    assert load(target) == 1 and second.operator_id == target.pk


def test_reassign_refuses_an_inactive_operator_and_a_closed_contact(
    make_operator, make_source, register
):
    alice = make_operator()
    sleeper = make_operator(active=False)
    contact = register(make_source(weights={alice: 1}))

    with pytest.raises(ValidationError):
        services.contact_reassign(contact_id=contact.pk, operator_id=sleeper.pk)
    services.contact_close(contact_id=contact.pk)
    with pytest.raises(ValidationError):
        services.contact_reassign(contact_id=contact.pk, operator_id=alice.pk)

    contact.refresh_from_db()
    assert contact.operator_id == alice.pk


def _inactive_operator_over_a_lowered_limit(make_operator, make_source, register):
    """X (limit 3) holds 3 contacts, a 4th waits; then X is deactivated with limit 1."""
    x = make_operator("X", limit=3)
    source = make_source(weights={x: 1})
    held = [register(source) for _ in range(3)]
    queued = register(source)
    assert queued.operator_id is None
    services.operator_update(operator_id=x.pk, is_active=False, workload_limit=1)
    return x, held, queued


def test_closing_a_contact_of_an_inactive_operator_gives_it_nothing_from_the_queue(
    make_operator, make_source, register
):
    x, held, queued = _inactive_operator_over_a_lowered_limit(make_operator, make_source, register)

    services.contact_close(contact_id=held[0].pk)

    queued.refresh_from_db()
    assert queued.operator_id is None
    assert load(x) == 2


def test_reassigning_away_from_an_inactive_operator_gives_it_nothing_from_the_queue(
    make_operator, make_source, register
):
    x, held, queued = _inactive_operator_over_a_lowered_limit(make_operator, make_source, register)
    bob = make_operator("Bob", limit=5)

    services.contact_reassign(contact_id=held[0].pk, operator_id=bob.pk)

    queued.refresh_from_db()
    assert queued.operator_id is None
    assert load(x) == 2


def test_closing_below_a_lowered_limit_still_over_it_gives_nothing(
    make_operator, make_source, register
):
    x = make_operator("X", limit=3)
    source = make_source(weights={x: 1})
    held = [register(source) for _ in range(3)]
    queued = register(source)
    services.operator_update(operator_id=x.pk, workload_limit=1)

    services.contact_close(contact_id=held[0].pk)

    queued.refresh_from_db()
    assert queued.operator_id is None
    assert load(x) == 2


# --- leads -------------------------------------------------------------------------


def test_identifiers_are_trimmed_and_compared_case_insensitively(make_source, register):
    source = make_source()

    first = register(source, " Alice@Example.com ")
    second = register(source, "alice@example.com")

    assert first.lead_id == second.lead_id
    assert Lead.objects.count() == 1
    assert Lead.objects.get().identifier == "Alice@Example.com"


def test_two_spellings_of_one_phone_number_are_one_lead(make_source, register):
    source = make_source()

    first = register(source, "+44 7700 918827", lead_name="Ann")
    second = register(source, "+447700918827")
    third = register(source, "0044 (7700) 918-827")

    assert first.lead_id == second.lead_id == third.lead_id
    lead = Lead.objects.get()
    assert (lead.identifier, lead.identifier_key, lead.name) == (
        "+44 7700 918827",
        "+447700918827",
        "Ann",
    )


def test_a_national_spelling_is_the_same_lead_in_the_configured_region(
    settings, make_source, register
):
    settings.CRM_PHONE_REGION = "GB"
    source = make_source()

    first = register(source, "020 7946 0000")
    second = register(source, "+44 20 7946 0000")

    assert first.lead_id == second.lead_id
    assert Lead.objects.get().identifier_key == "+442079460000"


def test_empty_or_too_long_identifier_is_refused_and_stores_nothing(make_source, register):
    source = make_source()

    for bad in ["", "   ", "x" * 256]:
        with pytest.raises(ValidationError) as exc:
            register(source, bad)
        assert "lead_identifier" in exc.value.message_dict
    assert Contact.objects.count() == 0
    assert Lead.objects.count() == 0


def test_unknown_source_is_refused_and_stores_nothing(db):
    with pytest.raises(ValidationError) as exc:
        services.contact_register(lead_identifier="a@b.c", source_id=999_999)

    assert "source_id" in exc.value.message_dict
    assert Lead.objects.count() == 0


def test_lead_name_fills_in_a_missing_name_but_never_overwrites(make_source, register):
    source = make_source()
    register(source, "x@y.z")
    register(source, "x@y.z", lead_name="Xavier")
    register(source, "X@Y.Z", lead_name="Someone else")

    assert Lead.objects.get().name == "Xavier"


def test_a_registration_starts_over_when_the_weights_moved(
    make_operator, make_source, register, weights_moving
):
    operator = make_operator()
    source = make_source(weights={operator: 1})
    attempts = weights_moving(times=services.REGISTER_ATTEMPTS - 1)

    contact = register(source, "moved@example.com")

    assert len(attempts) == services.REGISTER_ATTEMPTS
    assert contact.operator_id == operator.pk
    assert Lead.objects.get().identifier == "moved@example.com"
    assert Contact.objects.count() == 1


def test_a_registration_gives_up_when_the_weights_keep_moving_and_stores_nothing(
    make_operator, make_source, register, weights_moving
):
    operator = make_operator()
    source = make_source(weights={operator: 1})
    attempts = weights_moving(times=10**6)

    with pytest.raises(services.WeightsKeptMoving):
        register(source, "moved@example.com")

    assert len(attempts) == services.REGISTER_ATTEMPTS
    assert not Lead.objects.exists()
    assert not Contact.objects.exists()
    assert not ContactEvent.objects.exists()
    assert not ContactTally.objects.exists()


# --- weights -----------------------------------------------------------------------


def test_set_weights_replaces_the_whole_set(make_operator, make_source):
    a, b, c = make_operator(), make_operator(), make_operator()
    source = make_source(weights={a: 1, b: 2})

    services.source_set_weights(source_id=source.pk, weights=[(b.pk, 5), (c.pk, 1)])

    weights = dict(source.weights.values_list("operator_id", "weight"))
    assert weights == {b.pk: 5, c.pk: 1}


@pytest.mark.parametrize(
    "bad",
    [
        "duplicate",
        "unknown",
        "zero",
        "too_heavy",
    ],
)
def test_a_bad_weight_set_changes_nothing(make_operator, make_source, bad):
    a, b = make_operator(), make_operator()
    source = make_source(weights={a: 1})
    entries = {
        "duplicate": [(b.pk, 1), (b.pk, 2)],
        "unknown": [(b.pk, 1), (987_654, 1)],
        "zero": [(b.pk, 0)],
        "too_heavy": [(b.pk, 1001)],
    }[bad]

    with pytest.raises(ValidationError) as exc:
        services.source_set_weights(source_id=source.pk, weights=entries)

    assert "weights" in exc.value.message_dict
    assert dict(source.weights.values_list("operator_id", "weight")) == {a.pk: 1}


def test_removing_a_weight_stops_new_contacts_to_that_operator(
    make_operator, make_source, register
):
    a, b = make_operator(limit=100), make_operator(limit=100)
    source = make_source(weights={a: 1, b: 1})

    services.source_set_weight(source_id=source.pk, operator_id=a.pk, weight=None)
    contacts = [register(source) for _ in range(20)]

    assert {c.operator_id for c in contacts} == {b.pk}
    assert not SourceOperatorConfig.objects.filter(operator=a).exists()


# --- names -------------------------------------------------------------------------


def test_operator_names_are_unique_case_insensitively(make_operator):
    make_operator("Alice")

    with pytest.raises(services.NameTaken) as exc:
        services.operator_create(name=" alice ")

    assert "name" in exc.value.message_dict


def test_renaming_a_source_to_a_taken_name_is_refused(make_source):
    make_source("Telegram")
    web = make_source("Web")

    with pytest.raises(services.NameTaken):
        services.source_update(source_id=web.pk, name="TELEGRAM")

    web.refresh_from_db()
    assert web.name == "Web"


@pytest.mark.parametrize("limit", [-1, 100_001])
def test_operator_limit_out_of_range_is_refused(make_operator, limit):
    alice = make_operator(limit=3)

    with pytest.raises(ValidationError) as exc:
        services.operator_update(operator_id=alice.pk, workload_limit=limit)

    assert "workload_limit" in str(exc.value.message_dict)
    alice.refresh_from_db()
    assert alice.workload_limit == 3


# --- the weighted draw -------------------------------------------------------------


def test_weighted_choice_follows_the_weights_within_a_binomial_bound():
    rng = random.Random(42)
    draws = 4000
    hits = Counter(allocation.choose_operator([(1, 1), (2, 3)], rng=rng) for _ in range(draws))

    # Operator 2 should win with p = 3/4. Four standard deviations of a binomial
    # count (sigma = sqrt(n p (1-p)) ~ 27.4) bound a fair draw with probability > 0.9999.
    expected = draws * 3 / 4
    sigma = (draws * 0.75 * 0.25) ** 0.5
    assert abs(hits[2] - expected) < 4 * sigma
    assert hits[1] + hits[2] == draws


def test_registrations_follow_the_weights_within_a_binomial_bound(
    make_operator, make_source, register
):
    light = make_operator(limit=10_000)
    heavy = make_operator(limit=10_000)
    source = make_source(weights={light: 1, heavy: 3})
    rng = random.Random(7)

    operators = Counter(register(source, rng=rng).operator_id for _ in range(4000))

    sigma = (4000 * 0.75 * 0.25) ** 0.5
    assert abs(operators[heavy.pk] - 3000) < 4 * sigma
    assert operators[light.pk] + operators[heavy.pk] == 4000


def test_choose_operator_with_no_candidates_returns_none():
    assert allocation.choose_operator([], rng=random.Random(1)) is None


# --- cost that does not grow with history ------------------------------------------


def _registration_queries(source, register, identifier: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        register(source, identifier)
    return len(ctx.captured_queries)


# Queries of one registration, BEGIN and COMMIT included (allocation.lock_arrival): the
# locking statement (source, weighted operators, the lead and the sticky owner as columns;
# on SQLite the loads too), on PostgreSQL the read after the locks (weights, balances,
# loads, and a new lead's insert), on SQLite a new lead's insert, the contact, the tallies'
# upsert and the events in one INSERT. Balanced mode adds the UPDATE of the round robin's
# state; sticky costs nothing more.
REGISTRATION_QUERIES = {
    ("sqlite", "random", True): 7,
    ("sqlite", "random", False): 6,
    ("sqlite", "balanced", True): 8,
    ("sqlite", "balanced", False): 7,
    ("sqlite", "sticky", True): 7,
    ("sqlite", "sticky", False): 6,
    ("postgresql", "random", True): 7,
    ("postgresql", "random", False): 7,
    ("postgresql", "balanced", True): 8,
    ("postgresql", "balanced", False): 8,
    ("postgresql", "sticky", True): 7,
    ("postgresql", "sticky", False): 7,
}


@pytest.mark.parametrize("mode", ["random", "balanced", "sticky"])
@pytest.mark.parametrize("new_lead", [True, False])
def test_registration_issues_the_same_queries_with_10_and_1000_contacts(
    make_operator, make_source, register, new_lead, mode
):
    operators = [make_operator(limit=100_000) for _ in range(3)]
    source = make_source(weights={op: 1 for op in operators})
    Source.objects.filter(pk=source.pk).update(
        mode="balanced" if mode == "balanced" else "random",
        sticky_days=30 if mode == "sticky" else None,
    )
    unrelated = make_source(weights={make_operator(limit=100_000): 1 for _ in range(5)})
    for _ in range(10):
        register(unrelated)
    register(source, "returning@example.com")
    small = _registration_queries(
        source, register, "new1@example.com" if new_lead else "returning@example.com"
    )

    # History, written directly: what a registration reads must not grow with it.
    old_leads = Lead.objects.bulk_create(
        Lead(identifier=f"old{n}@example.com", identifier_key=f"old{n}@example.com")
        for n in range(990)
    )
    Contact.objects.bulk_create(Contact(lead=lead, source=unrelated) for lead in old_leads)
    for _ in range(50):
        make_operator()
    for _ in range(20):
        register(source, "returning@example.com")
    large = _registration_queries(
        source, register, "new2@example.com" if new_lead else "returning@example.com"
    )

    assert Contact.objects.count() >= 1000
    assert small == large
    assert large == REGISTRATION_QUERIES[connection.vendor, mode, new_lead]


@pytest.mark.parametrize("field", ["lead_identifier", "message", "lead_name"])
def test_nul_characters_are_refused_and_store_nothing(make_source, field):
    source = make_source()
    values = {"lead_identifier": "a@b.c", "message": "", "lead_name": ""} | {field: "a\x00b"}

    with pytest.raises(ValidationError) as exc:
        services.contact_register(source_id=source.pk, **values)

    assert field in exc.value.message_dict
    assert Lead.objects.count() == 0
