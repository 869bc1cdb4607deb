"""The raw sqlite3 floor (bench/floor.py) does a registration's whole work, so that the
benchmark's ratios against it are honest; and its URL behind the real server
(bench/floor_urls.py) answers like a registration.

SQLite only: the floor is written with the sqlite3 module. Transactional: the floor writes
through a connection of its own, which must see (and not wait for) the test's rows.
"""

import random
import sqlite3

import pytest
from django.db import connection
from django.test import override_settings

from bench.floor import raw_register
from distribution import invariants
from distribution.auth_tokens import api_token_create
from distribution.models import Contact, ContactEvent, Lead

pytestmark = [pytest.mark.sqlite, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def floor_db():
    db = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None, timeout=20)
    db.execute("PRAGMA foreign_keys=ON")
    yield db
    db.close()


def _events(contact: Contact) -> list[ContactEvent]:
    return list(contact.events.order_by("id"))


def test_the_floor_writes_what_the_service_writes(
    floor_db, make_operator, make_source, register, rng
):
    ann, bob = make_operator(limit=5), make_operator(limit=5)
    source = make_source(weights={ann: 1, bob: 3})
    by_service = register(source, "served@example.com")

    floor_id = raw_register(floor_db, "  Floored@Example.com ", source.pk, random.Random(2))

    by_floor = Contact.objects.get(pk=floor_id)
    assert by_floor.lead.identifier == "Floored@Example.com"
    assert Lead.objects.filter(identifier_key="floored@example.com").count() == 1
    for contact in (by_service, by_floor):
        contact.refresh_from_db()
        assert contact.status == Contact.Status.OPEN
        assert contact.operator_id in {ann.pk, bob.pk}
        assert contact.assigned_at == contact.created_at
    served, floored = _events(by_service), _events(by_floor)
    assert [e.kind for e in floored] == [e.kind for e in served] == ["registered", "assigned"]
    assert floored[1].reason == served[1].reason == "weighted"
    assert floored[1].operator_id == by_floor.operator_id
    # The same candidates, in the same shape, with the loads the floor decided by.
    assert [c.keys() for c in floored[1].candidates] == [c.keys() for c in served[1].candidates]
    loads = {c["operator_id"]: c["open_contacts"] for c in floored[1].candidates}
    assert loads == {
        ann.pk: int(by_service.operator_id == ann.pk),
        bob.pk: int(by_service.operator_id == bob.pk),
    }
    # The tallies, the leads and everything else at rest hold as after the service.
    assert invariants.state_violations() == []


def test_the_floor_queues_when_nobody_has_room_and_reuses_a_known_lead(
    floor_db, make_operator, make_source, register
):
    ann = make_operator(limit=1)
    source = make_source(weights={ann: 1})
    first = register(source, "known@example.com")

    queued = Contact.objects.get(
        pk=raw_register(floor_db, "KNOWN@example.com", source.pk, random.Random(1))
    )

    assert first.operator_id == ann.pk
    assert queued.operator_id is None and queued.lead_id == first.lead_id
    assert [e.kind for e in _events(queued)] == ["registered", "queued"]
    assert invariants.state_violations() == []


@override_settings(ROOT_URLCONF="bench.floor_urls")
def test_the_floor_url_needs_the_api_token_and_registers(client, make_operator, make_source):
    ann = make_operator(limit=5)
    source = make_source(weights={ann: 1})
    body = {"lead_identifier": "bot@example.com", "source_id": source.pk}
    _token, secret = api_token_create(name="bench")

    refused = client.post("/bench/floor/contacts/", body, content_type="application/json")
    answer = client.post(
        "/bench/floor/contacts/",
        body,
        content_type="application/json",
        headers={"authorization": f"Bearer {secret}"},
    )

    assert refused.status_code == 401
    assert answer.status_code == 201, answer.content
    contact = Contact.objects.get(pk=answer.json()["id"])
    assert (contact.lead.identifier, contact.operator_id) == ("bot@example.com", ann.pk)
    assert invariants.state_violations() == []
