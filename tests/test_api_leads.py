from datetime import datetime

import pytest

from tests.api_support import ApiClient, json_of, query_count


@pytest.fixture
def api(client, db) -> ApiClient:
    return ApiClient(client)


def test_get_lead_answers_the_lead_with_its_contacts_newest_first(api, make_source, register):
    source = make_source()
    older = register(source, "Dan@Example.com", lead_name="Dan")
    newer = register(source, "dan@example.com")

    response = api.get(f"/api/leads/{older.lead_id}")

    assert response.status_code == 200
    body = json_of(response)
    assert set(body) == {"id", "identifier", "name", "created_at", "contacts"}
    assert (body["id"], body["identifier"], body["name"]) == (
        older.lead_id,
        "Dan@Example.com",
        "Dan",
    )
    assert datetime.fromisoformat(body["created_at"]).tzinfo is not None
    assert [c["id"] for c in body["contacts"]] == [newer.pk, older.pk]
    assert body["contacts"][0]["lead"] == {"id": older.lead_id, "identifier": "Dan@Example.com"}


def test_list_leads_is_newest_first_and_paged(api, make_source, register):
    source = make_source()
    leads = [register(source, f"lead{i}@example.com").lead_id for i in range(4)]

    body = json_of(api.get("/api/leads/", {"limit": 2}))

    assert body["count"] == 4
    assert [item["id"] for item in body["items"]] == [leads[3], leads[2]]


def test_search_finds_part_of_the_identifier_in_any_case(api, make_source, register):
    source = make_source()
    register(source, "Erin@Shop.example")
    register(source, "+1 555 0100")
    register(source, "frank@shop.example")

    body = json_of(api.get("/api/leads/", {"search": " SHOP.example "}))

    assert body["count"] == 2
    assert {item["identifier"] for item in body["items"]} == {
        "Erin@Shop.example",
        "frank@shop.example",
    }


def test_two_spellings_of_one_phone_number_register_one_lead(api, make_source):
    source = make_source()

    ids = [
        json_of(api.post("/api/contacts/", {"lead_identifier": spelling, "source_id": source.pk}))
        for spelling in ("+44 7700 918827", "+447700918827", "0044-7700-918827")
    ]

    assert len({contact["lead"]["id"] for contact in ids}) == 1
    assert ids[2]["lead"]["identifier"] == "+44 7700 918827"


@pytest.mark.parametrize(
    "search", ["+44 7700 918827", "+447700918827", "0044 7700-918827", "7700 918", "07700 918827"]
)
def test_search_finds_a_phone_number_by_any_spelling(api, make_source, register, search):
    source = make_source()
    lead = register(source, "+447700918827").lead_id
    register(source, "+44 20 7946 0000")
    register(source, "ann@example.com")

    body = json_of(api.get("/api/leads/", {"search": search}))

    assert [item["id"] for item in body["items"]] == [lead]


def test_a_search_that_matches_nothing_answers_an_empty_list(api, make_source, register):
    register(make_source(), "gina@example.com")

    assert json_of(api.get("/api/leads/", {"search": "%_"})) == {"items": [], "count": 0}


@pytest.mark.parametrize("search", ["a\x00", "s" * 256])
def test_an_unusable_search_is_a_422(api, search):
    response = api.get("/api/leads/", {"search": search})

    assert response.status_code == 422
    assert "search" in json_of(response)["errors"]


def test_list_leads_takes_the_same_number_of_queries_for_more_rows(api, make_source, register):
    source = make_source()

    def request():
        return api.get("/api/leads/")

    register(source)
    few = query_count(request)
    for i in range(15):
        register(source, f"more{i}@example.com")
        register(source, f"MORE{i}@example.com")

    assert query_count(request) == few


@pytest.mark.parametrize("lead_id", ["999", "-1", "lead", str(2**80)])
def test_get_unknown_lead_is_a_404(api, lead_id):
    response = api.get(f"/api/leads/{lead_id}")

    assert response.status_code == 404
    assert "detail" in json_of(response)


def test_search_is_bounded_in_the_schema_and_the_server_limit_is_documented():
    from distribution.api import api as crm_api
    from distribution.api.schemas import MAX_SEARCH_LENGTH

    document = crm_api.get_openapi_schema()
    parameters = document["paths"]["/api/leads/"]["get"]["parameters"]
    search = next(p for p in parameters if p["name"] == "search")

    assert search["schema"]["maxLength"] == MAX_SEARCH_LENGTH
    # Longer request lines never reach the API: the server refuses them with a 414.
    assert "414" in document["info"]["description"]


def test_list_leads_counts_every_lead_from_the_tallies_and_every_match_of_a_search(
    api, make_source, register
):
    source = make_source()
    for i in range(5):
        register(source, f"match{i}@example.com")
        register(source, f"other{i}@example.org")

    every = json_of(api.get("/api/leads/", {"limit": 2, "offset": 2}))
    matches = json_of(api.get("/api/leads/", {"search": "MATCH", "limit": 2, "offset": 2}))
    short = json_of(api.get("/api/leads/", {"search": "ot", "limit": 2}))

    assert every["count"] == 10
    assert matches["count"] == 5
    assert [item["identifier"] for item in matches["items"]] == [
        "match2@example.com",
        "match1@example.com",
    ]
    assert short["count"] == 5
    assert {item["identifier"][:5] for item in short["items"]} == {"other"}
