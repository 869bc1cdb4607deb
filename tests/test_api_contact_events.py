"""GET /api/contacts/{id}/events: a contact's decision log, oldest first."""

import pytest

from tests.api_support import ApiClient, json_of, query_count
from tests.log_support import log_story


@pytest.fixture
def api(client, db) -> ApiClient:
    return ApiClient(client)


def test_events_answer_the_log_oldest_first_with_actors_and_candidates(
    api, make_operator, make_source, register
):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    contact = register(make_source(weights={ann: 1}))
    log_story(contact, ann, bob)

    response = api.get(f"/api/contacts/{contact.pk}/events")

    assert response.status_code == 200
    body = json_of(response)
    assert body["count"] == 4
    registered, assigned, reassigned, closed = body["items"]
    assert registered == {
        "at": "2026-03-02T09:00:00Z",
        "kind": "registered",
        "operator_id": None,
        "previous_operator_id": None,
        "actor": {"type": "system", "name": "system"},
        "reason": "",
        "candidates": [],
    }
    assert (assigned["kind"], assigned["operator_id"], assigned["reason"]) == (
        "assigned",
        ann.pk,
        "weighted",
    )
    assert assigned["candidates"] == [
        {
            "operator_id": ann.pk,
            "weight": 3,
            "open_contacts": 1,
            "workload_limit": 10,
            "eligible": True,
            "why_not": None,
        },
        {
            "operator_id": bob.pk,
            "weight": 1,
            "open_contacts": 5,
            "workload_limit": 5,
            "eligible": False,
            "why_not": "full",
        },
    ]
    assert (reassigned["operator_id"], reassigned["previous_operator_id"]) == (bob.pk, ann.pk)
    assert reassigned["actor"] == {"type": "supervisor", "name": "boss"}
    assert closed["kind"] == "closed"


def test_a_contact_without_events_answers_an_empty_list(api, make_source, register):
    contact = register(make_source())
    contact.events.all().delete()  # As for a contact from before the log.
    assert json_of(api.get(f"/api/contacts/{contact.pk}/events")) == {"items": [], "count": 0}


def test_events_of_an_unknown_contact_are_a_json_404(api, db):
    response = api.get("/api/contacts/31337/events")
    assert response.status_code == 404
    assert "detail" in json_of(response)


def test_events_cost_a_fixed_number_of_queries(api, make_operator, make_source, register):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    contact = register(make_source(weights={ann: 1}))
    log_story(contact, ann, bob)
    url = f"/api/contacts/{contact.pk}/events"
    first = query_count(lambda: api.get(url))

    log_story(contact, bob, ann, replace=False)
    log_story(contact, ann, make_operator(), replace=False)

    assert query_count(lambda: api.get(url)) == first
    assert json_of(api.get(url))["count"] == 12
