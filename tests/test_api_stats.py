import pytest

from distribution import services
from tests.api_support import ApiClient, json_of


@pytest.fixture
def api(client, db) -> ApiClient:
    return ApiClient(client)


def test_stats_of_an_empty_crm_are_zero(api):
    response = api.get("/api/stats/")

    assert response.status_code == 200
    assert json_of(response) == {
        "totals": {"leads": 0, "contacts": 0, "open_contacts": 0, "unassigned_contacts": 0},
        "operators": [],
        "sources": [],
    }


def test_stats_count_contacts_per_operator_and_source(api, make_operator, make_source, register):
    ann = make_operator("Ann", limit=2)
    bob = make_operator("Bob", limit=0)
    source = make_source("Web", weights={ann: 3, bob: 1})
    first = register(source, "a@example.com")
    register(source, "b@example.com")
    register(source, "c@example.com")  # Ann is full, Bob has no room: queued.
    services.contact_close(contact_id=first.pk)  # Ann gets the queued one.

    body = json_of(api.get("/api/stats/"))

    assert body["totals"] == {
        "leads": 3,
        "contacts": 3,
        "open_contacts": 2,
        "unassigned_contacts": 0,
    }
    assert body["operators"] == [
        {
            "id": ann.pk,
            "name": "Ann",
            "is_active": True,
            "workload_limit": 2,
            "open_contacts": 2,
            "total_contacts": 3,
        },
        {
            "id": bob.pk,
            "name": "Bob",
            "is_active": True,
            "workload_limit": 0,
            "open_contacts": 0,
            "total_contacts": 0,
        },
    ]
    assert body["sources"] == [
        {
            "id": source.pk,
            "name": "Web",
            "total_contacts": 3,
            "unassigned_contacts": 0,
            "operators": [
                {
                    "operator_id": ann.pk,
                    "weight": 3,
                    "contacts": 3,
                    "share": 1.0,
                    "expected_share": 0.75,
                },
                {
                    "operator_id": bob.pk,
                    "weight": 1,
                    "contacts": 0,
                    "share": 0.0,
                    "expected_share": 0.25,
                },
            ],
        }
    ]


def test_stats_count_queued_contacts_as_unassigned(api, make_source, register):
    source = make_source("Ads")
    register(source)

    body = json_of(api.get("/api/stats/"))

    assert body["totals"]["unassigned_contacts"] == 1
    assert body["sources"][0]["unassigned_contacts"] == 1
    assert body["sources"][0]["operators"] == []


def test_stats_need_a_token(client, db):
    response = client.get("/api/stats/")

    assert response.status_code == 401
