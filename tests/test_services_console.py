"""The supervisor's console through services.py: reopening a contact, returning one to
the queue, and the bulk actions on selected contacts."""

import pytest
from django.core.exceptions import ValidationError

from distribution import actors, invariants, services
from distribution.models import ActorType, Contact, ContactEvent

pytestmark = pytest.mark.django_db

BOSS = actors.Actor(ActorType.SUPERVISOR, "boss")


def fresh(contact) -> Contact:
    return Contact.objects.get(pk=contact.pk)


# --- reopen ------------------------------------------------------------------------


def test_reopening_gives_the_contact_back_to_its_operator_when_it_has_room(
    make_operator, make_source, register
):
    ann, bob = make_operator("Ann", limit=2), make_operator("Bob", limit=2)
    source = make_source(weights={ann: 1, bob: 1000})
    contact = register(source)
    services.contact_reassign(contact_id=contact.pk, operator_id=ann.pk)
    services.contact_close(contact_id=contact.pk, outcome="won", note="called back")

    reopened = services.contact_reopen(contact_id=contact.pk, actor=BOSS)

    assert reopened.status == Contact.Status.OPEN
    assert reopened.operator_id == ann.pk
    assert (reopened.closed_at, reopened.outcome) == (None, None)
    assert reopened.note == "called back"
    assert fresh(contact).operator_id == ann.pk
    event = ContactEvent.objects.get(contact=contact, kind=ContactEvent.Kind.REOPENED)
    assert (event.operator_id, event.previous_operator_id) == (ann.pk, ann.pk)
    assert (event.actor_type, event.actor_name) == ("supervisor", "boss")
    assert invariants.state_violations() == []


def test_reopening_routes_by_the_rule_when_its_operator_is_full(
    make_operator, make_source, register
):
    ann, bob = make_operator("Ann", limit=1), make_operator("Bob", limit=5)
    source = make_source(weights={ann: 1})
    contact = register(source)
    services.contact_close(contact_id=contact.pk)
    register(source)  # Ann's slot is taken again.
    services.source_set_weight(source_id=source.pk, operator_id=bob.pk, weight=1)

    reopened = services.contact_reopen(contact_id=contact.pk)

    assert reopened.operator_id == bob.pk
    event = ContactEvent.objects.get(contact=contact, kind=ContactEvent.Kind.REOPENED)
    assert (event.operator_id, event.previous_operator_id) == (bob.pk, ann.pk)
    assert event.actor_type == "system"


def test_reopening_passes_over_an_operator_that_no_longer_accepts_contacts(
    make_operator, make_source, register
):
    ann = make_operator("Ann", limit=5)
    source = make_source(weights={ann: 1})
    contact = register(source)
    services.contact_close(contact_id=contact.pk)
    services.operator_update(operator_id=ann.pk, presence="away")

    reopened = services.contact_reopen(contact_id=contact.pk)

    assert reopened.operator_id is None and reopened.assigned_at is None
    assert reopened.is_queued
    event = ContactEvent.objects.get(contact=contact, kind=ContactEvent.Kind.REOPENED)
    assert (event.operator_id, event.previous_operator_id) == (None, ann.pk)
    assert invariants.state_violations() == []


def test_reopening_an_open_contact_is_refused_and_changes_nothing(make_source, register):
    contact = register(make_source())

    with pytest.raises(ValidationError, match="only a closed contact can be reopened"):
        services.contact_reopen(contact_id=contact.pk)

    assert not ContactEvent.objects.filter(kind=ContactEvent.Kind.REOPENED).exists()


def test_reopening_an_unknown_contact_raises_does_not_exist(db):
    with pytest.raises(Contact.DoesNotExist):
        services.contact_reopen(contact_id=999)


# --- return to the queue -------------------------------------------------------------


def test_returning_to_the_queue_hands_the_contact_to_someone_with_room_at_once(
    make_operator, make_source, register, rng
):
    ann, bob = make_operator("Ann", limit=1), make_operator("Bob", limit=1)
    source = make_source(weights={ann: 1})
    contact = register(source)
    services.source_set_weights(source_id=source.pk, weights=[(bob.pk, 1)])

    moved = services.contact_return_to_queue(contact_id=contact.pk, actor=BOSS, rng=rng)

    # Ann lost her weight: the rule gives it to Bob, the only one eligible with room.
    assert moved.operator_id == bob.pk
    event = ContactEvent.objects.get(contact=contact, kind=ContactEvent.Kind.REQUEUED)
    assert event.operator_id == ann.pk and event.actor_name == "boss"
    assert invariants.state_violations() == []


def test_returning_to_the_queue_gives_the_freed_slot_to_the_oldest_waiting_contact(
    make_operator, make_source, register
):
    ann = make_operator("Ann", limit=1)
    bot, ads = make_source(weights={ann: 1}), make_source()
    older = register(ads)  # Nobody serves Ads yet: it waits.
    contact = register(bot)
    services.source_set_weight(source_id=ads.pk, operator_id=ann.pk, weight=1)  # Ann is full.

    moved = services.contact_return_to_queue(contact_id=contact.pk)

    # Oldest first: Ann's freed slot goes to the contact that waited longer.
    assert fresh(older).operator_id == ann.pk
    assert moved.is_queued and fresh(contact).is_queued
    assert invariants.state_violations() == []


@pytest.mark.parametrize(
    ("setup", "message"),
    [("closed", "closed contact"), ("queued", "already in the queue")],
)
def test_returning_a_closed_or_queued_contact_is_refused(make_source, register, setup, message):
    contact = register(make_source())  # Nobody is weighted: queued.
    if setup == "closed":
        services.contact_close(contact_id=contact.pk)
    with pytest.raises(ValidationError, match=message):
        services.contact_return_to_queue(contact_id=contact.pk)


# --- bulk actions ----------------------------------------------------------------------


def test_bulk_close_closes_the_open_ones_and_reports_the_closed_ones(
    make_operator, make_source, register
):
    source = make_source(weights={make_operator(limit=10): 1})
    a, b, c = register(source), register(source), register(source)
    services.contact_close(contact_id=b.pk)

    result = services.contact_bulk_close(
        contact_ids=[a.pk, b.pk, c.pk, 999], outcome="spam", actor=BOSS
    )

    assert [x.pk for x in result.done] == [a.pk, c.pk]
    assert dict(result.refused) == {b.pk: "was already closed", 999: "no longer exists"}
    assert fresh(a).outcome == "spam" and fresh(c).status == Contact.Status.CLOSED


def test_bulk_reassign_moves_what_fits_and_reports_the_refused(
    make_operator, make_source, register
):
    ann, chen = make_operator("Ann", limit=10), make_operator("Chen", limit=2)
    source = make_source(weights={ann: 1})
    contacts = [register(source) for _ in range(3)]

    result = services.contact_bulk_reassign(
        contact_ids=[c.pk for c in contacts], operator_id=chen.pk
    )

    assert [x.pk for x in result.done] == [contacts[0].pk, contacts[1].pk]
    assert result.refused == [(contacts[2].pk, "Chen is at the limit (2).")]
    assert fresh(contacts[2]).operator_id == ann.pk


def test_bulk_return_to_queue_routes_each_again_by_the_rule(make_operator, make_source, register):
    ann, bob = make_operator("Ann", limit=5), make_operator("Bob", limit=5)
    source = make_source(weights={ann: 1})
    contacts = [register(source) for _ in range(2)]
    services.source_set_weights(source_id=source.pk, weights=[(bob.pk, 1)])
    closed = register(source)
    services.contact_close(contact_id=closed.pk)

    result = services.contact_bulk_return_to_queue(
        contact_ids=[c.pk for c in contacts] + [closed.pk]
    )

    assert [fresh(c).operator_id for c in contacts] == [bob.pk, bob.pk]
    assert [x.pk for x in result.done] == [c.pk for c in contacts]
    assert result.refused == [(closed.pk, "is closed")]
    assert invariants.state_violations() == []
