"""
The decision log as the engine and the services write it: every event of a contact's
life with its actor, and for each automatic decision every operator considered and why it
was passed over; supervisors' changes to operators and weights.
"""

from datetime import time

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from distribution import services
from distribution.actors import SYSTEM, Actor
from distribution.management.commands.run_worker import tick
from distribution.models import ActorType, ContactEvent, Operator, SettingChange

from .api_support import ApiClient, json_of
from .views_support import as_supervisor

pytestmark = pytest.mark.django_db

BOSS = Actor(ActorType.SUPERVISOR, "boss")


def events_of(contact_id: int) -> list[ContactEvent]:
    return list(ContactEvent.objects.filter(contact_id=contact_id).order_by("at", "id"))


def kinds(contact_id: int) -> list[str]:
    return [event.kind for event in events_of(contact_id)]


def why_not(event: ContactEvent) -> dict[int, str | None]:
    return {c["operator_id"]: c["why_not"] for c in event.candidates}


def test_a_registration_logs_the_choice_with_every_operator_considered(
    make_operator, make_source, register
):
    free = make_operator("Free", limit=5)
    full = make_operator("Full", limit=0)
    away = make_operator("Away")
    services.operator_update(operator_id=away.pk, presence="away")
    sleeping = make_operator("Sleeping", active=False)
    make_operator("Unweighted")
    source = make_source(weights={free: 2, full: 1, away: 1, sleeping: 1})

    contact = register(source, actor=BOSS)

    registered, assigned = events_of(contact.pk)
    assert (registered.kind, assigned.kind) == ("registered", "assigned")
    assert assigned.operator_id == free.pk
    assert assigned.reason == "weighted"
    assert (assigned.actor_type, assigned.actor_name) == ("supervisor", "boss")
    assert why_not(assigned) == {
        free.pk: None,
        full.pk: "full",
        away.pk: "away",
        sleeping.pk: "inactive",
    }
    assert assigned.candidates[0] == {
        "operator_id": free.pk,
        "weight": 2,
        "open_contacts": 0,
        "workload_limit": 5,
        "eligible": True,
        "why_not": None,
    }


def test_a_queued_registration_logs_why_nobody_took_it(make_operator, make_source, register):
    busy = make_operator(limit=1)
    source = make_source(weights={busy: 1})
    register(source)

    queued = register(source)

    assert kinds(queued.pk) == ["registered", "queued"]
    event = events_of(queued.pk)[1]
    assert event.operator_id is None
    assert event.candidates == [
        {
            "operator_id": busy.pk,
            "weight": 1,
            "open_contacts": 1,
            "workload_limit": 1,
            "eligible": False,
            "why_not": "full",
        }
    ]


def test_a_registration_writes_its_events_in_one_insert(make_operator, make_source, register):
    source = make_source(weights={make_operator(): 1})

    with CaptureQueriesContext(connection) as ctx:
        register(source)

    inserts = [q["sql"] for q in ctx.captured_queries if "INSERT" in q["sql"].upper()]
    assert len([sql for sql in inserts if "contactevent" in sql.lower()]) == 1


def test_closing_logs_the_outcome_and_the_contact_it_drains(make_operator, make_source, register):
    alice = make_operator("Alice", limit=1)
    source = make_source(weights={alice: 1})
    first = register(source)
    waiting = register(source)

    services.contact_close(contact_id=first.pk, outcome="won", actor=BOSS)

    closed = events_of(first.pk)[-1]
    assert (closed.kind, closed.detail, closed.operator_id) == ("closed", "won", alice.pk)
    drained = events_of(waiting.pk)[-1]
    assert (drained.kind, drained.reason, drained.operator_id) == ("assigned", "drained", alice.pk)
    assert drained.candidates[0]["open_contacts"] == 0  # Its load when the drain decided.
    assert drained.actor_name == "boss"


def test_responding_and_reassigning_are_logged(make_operator, make_source, register):
    alice, bob = make_operator("Alice"), make_operator("Bob")
    source = make_source(weights={alice: 1})
    contact = register(source)

    services.contact_respond(contact_id=contact.pk, actor=BOSS)
    services.contact_reassign(contact_id=contact.pk, operator_id=bob.pk, actor=BOSS)

    responded, reassigned = events_of(contact.pk)[-2:]
    assert (responded.kind, responded.operator_id) == ("responded", alice.pk)
    assert reassigned.kind == "reassigned"
    assert (reassigned.operator_id, reassigned.previous_operator_id) == (bob.pk, alice.pk)


def test_a_requeue_logs_who_left_and_where_each_contact_went(make_operator, make_source, register):
    alice, bob = make_operator("Alice"), make_operator("Bob", limit=0)
    source = make_source(weights={alice: 1, bob: 1})
    contact = register(source)
    services.operator_update(operator_id=bob.pk, workload_limit=5)

    services.operator_update(
        operator_id=alice.pk, presence="away", requeue_open_contacts=True, actor=BOSS
    )

    requeued, drained = events_of(contact.pk)[-2:]
    assert (requeued.kind, requeued.previous_operator_id) == ("requeued", alice.pk)
    assert (drained.kind, drained.reason, drained.operator_id) == ("assigned", "drained", bob.pk)
    assert why_not(drained) == {alice.pk: "away", bob.pk: None}


def test_every_assignment_of_the_worker_is_by_the_system(make_operator, make_source, register):
    alice = make_operator(limit=0)
    source = make_source(weights={alice: 1})
    contact = register(source)
    # Room that no write drained, as after a crash: the worker's sweep finds it.
    Operator.objects.filter(pk=alice.pk).update(workload_limit=1)

    tick()

    drained = events_of(contact.pk)[-1]
    assert (drained.kind, drained.actor_type, drained.actor_name) == (
        "assigned",
        "system",
        "system",
    )


def test_operator_changes_are_logged_field_by_field(make_operator):
    alice = make_operator("Alice", limit=3)

    services.operator_update(
        operator_id=alice.pk, workload_limit=5, presence="away", name=" Alice ", actor=BOSS
    )

    changes = list(SettingChange.objects.filter(operator=alice).values_list("field", "old", "new"))
    # The trimmed name is the same name: no entry for it.
    assert changes == [("workload_limit", "3", "5"), ("presence", "available", "away")]
    assert set(SettingChange.objects.values_list("actor_name", flat=True)) == {"boss"}


def test_working_hours_are_logged_as_short_text(make_operator):
    alice = make_operator("Alice")

    with time_machine.travel("2026-11-30 12:00Z", tick=False):
        services.operator_set_schedule(
            operator_id=alice.pk,
            time_zone="Europe/Berlin",
            hours=[(1, time(10), time(18)), (0, time(9), time(17))],
            actor=BOSS,
        )

    changes = dict(
        (field, (old, new))
        for field, old, new in SettingChange.objects.values_list("field", "old", "new")
    )
    assert changes == {
        "working hours": ("", "Mon 09:00-17:00, Tue 10:00-18:00"),
        "time_zone": ("UTC", "Europe/Berlin"),
    }


def test_weight_changes_are_one_entry_per_operator_whose_weight_changed(make_operator, make_source):
    alice, bob, carol = make_operator("Alice"), make_operator("Bob"), make_operator("Carol")
    source = make_source(weights={alice: 1, bob: 2})
    SettingChange.objects.all().delete()

    services.source_set_weights(
        source_id=source.pk, weights=[(alice.pk, 1), (carol.pk, 4)], actor=BOSS
    )

    rows = SettingChange.objects.order_by("operator_id").values_list(
        "operator_id", "source_id", "field", "old", "new"
    )
    assert list(rows) == [
        (bob.pk, source.pk, "weight", "2", ""),
        (carol.pk, source.pk, "weight", "", "4"),
    ]


def test_the_api_logs_its_token_as_the_actor(client, make_operator, make_source):
    source = make_source(weights={make_operator(): 1})
    api = ApiClient(client)

    answer = json_of(
        api.post("/api/contacts/", {"lead_identifier": "a@b.c", "source_id": source.pk})
    )

    assert {(e.actor_type, e.actor_name) for e in events_of(answer["id"])} == {("token", "tests")}


def test_a_page_logs_the_supervisor_as_the_actor(client, make_operator, make_source, register):
    source = make_source(weights={make_operator(): 1})
    contact = register(source)
    as_supervisor(client, "chief")

    client.post(f"/contacts/{contact.pk}/close/")

    assert (events_of(contact.pk)[-1].kind, events_of(contact.pk)[-1].actor_name) == (
        "closed",
        "chief",
    )


def test_the_system_is_the_default_actor(make_operator, make_source, register):
    source = make_source(weights={make_operator(): 1})

    contact = register(source)

    assert {(e.actor_type, e.actor_name) for e in events_of(contact.pk)} == {
        (SYSTEM.type, SYSTEM.name)
    }
