from datetime import datetime
from itertools import product

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from distribution import services
from distribution.models import Contact, Lead
from tests.api_support import ApiClient, json_of, query_count

CONTACT_KEYS = {
    "id",
    "lead",
    "source_id",
    "operator_id",
    "status",
    "message",
    "created_at",
    "assigned_at",
    "responded_at",
    "closed_at",
    "outcome",
    "note",
}


@pytest.fixture
def api(client, db) -> ApiClient:
    return ApiClient(client)


def is_iso_with_zone(value: str) -> bool:
    return datetime.fromisoformat(value).tzinfo is not None


def test_register_answers_201_with_the_assigned_contact(api, make_operator, make_source):
    operator = make_operator()
    source = make_source(weights={operator: 1})

    response = api.post(
        "/api/contacts/",
        {
            "lead_identifier": " Alice@Example.com ",
            "source_id": source.pk,
            "message": "Call me",
            "lead_name": "Alice",
        },
    )

    assert response.status_code == 201
    body = json_of(response)
    assert set(body) == CONTACT_KEYS
    lead = Lead.objects.get()
    assert body["lead"] == {"id": lead.pk, "identifier": "Alice@Example.com"}
    assert body["source_id"] == source.pk
    assert body["operator_id"] == operator.pk
    assert body["status"] == "open"
    assert body["message"] == "Call me"
    assert is_iso_with_zone(body["created_at"])
    assert is_iso_with_zone(body["assigned_at"])
    assert body["closed_at"] is None
    assert body["responded_at"] is None
    assert (body["outcome"], body["note"]) == (None, "")
    assert lead.name == "Alice"


def test_register_without_an_eligible_operator_queues_the_contact(api, make_source):
    source = make_source()

    body = json_of(api.post("/api/contacts/", {"lead_identifier": "bob", "source_id": source.pk}))

    assert body["operator_id"] is None
    assert body["assigned_at"] is None
    assert Contact.objects.get(pk=body["id"]).is_queued


def test_the_same_identifier_in_another_case_is_the_same_lead(api, make_source):
    source = make_source()

    first = json_of(
        api.post("/api/contacts/", {"lead_identifier": "a@x.io", "source_id": source.pk})
    )
    second = json_of(
        api.post("/api/contacts/", {"lead_identifier": "A@X.IO", "source_id": source.pk})
    )

    assert first["lead"]["id"] == second["lead"]["id"]
    assert Lead.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source_id": "SOURCE"}, "lead_identifier"),
        ({"lead_identifier": "", "source_id": "SOURCE"}, "lead_identifier"),
        ({"lead_identifier": "   ", "source_id": "SOURCE"}, "lead_identifier"),
        ({"lead_identifier": "x" * 256, "source_id": "SOURCE"}, "lead_identifier"),
        ({"lead_identifier": "a\x00b", "source_id": "SOURCE"}, "lead_identifier"),
        ({"lead_identifier": "a"}, "source_id"),
        ({"lead_identifier": "a", "source_id": 987_654}, "source_id"),
        ({"lead_identifier": "a", "source_id": -1}, "source_id"),
        ({"lead_identifier": "a", "source_id": 2**64}, "source_id"),
        ({"lead_identifier": "a", "source_id": "1"}, "source_id"),
        ({"lead_identifier": "a", "source_id": "SOURCE", "message": "m" * 10_001}, "message"),
        ({"lead_identifier": "a", "source_id": "SOURCE", "lead_name": "n" * 201}, "lead_name"),
        ({"lead_identifier": "a", "source_id": "SOURCE", "message": None}, "message"),
        ({"lead_identifier": "a", "source_id": "SOURCE", "operator_id": 1}, "operator_id"),
    ],
)
def test_an_invalid_contact_is_a_422_and_stores_nothing(api, make_source, body, field):
    source = make_source()
    body = {key: source.pk if value == "SOURCE" else value for key, value in body.items()}

    response = api.post("/api/contacts/", body)

    assert response.status_code == 422
    assert field in json_of(response)["errors"]
    assert not Contact.objects.exists()
    assert not Lead.objects.exists()


def test_a_registration_whose_weights_keep_moving_is_a_json_503_and_stores_nothing(
    api, make_operator, make_source, weights_moving
):
    source = make_source(weights={make_operator(): 1})
    attempts = weights_moving(times=10**6)
    api.client.raise_request_exception = False

    response = api.post(
        "/api/contacts/", {"lead_identifier": "a@example.com", "source_id": source.pk}
    )

    assert response.status_code == 503
    assert "Retry later" in json_of(response)["detail"]
    assert response["Retry-After"] == "5"
    assert len(attempts) == services.REGISTER_ATTEMPTS
    assert not Contact.objects.exists()
    assert not Lead.objects.exists()


def test_an_identifier_padded_beyond_255_is_accepted_once_trimmed(api, make_source):
    source = make_source()

    response = api.post(
        "/api/contacts/", {"lead_identifier": " " * 100 + "x" * 255, "source_id": source.pk}
    )

    assert response.status_code == 201
    assert json_of(response)["lead"]["identifier"] == "x" * 255


def test_an_identifier_that_grows_when_case_folded_is_accepted(api, make_source):
    # 255 characters, the longest identifier allowed, that fold to 510 ("ß" -> "ss").
    source = make_source()

    first = api.post("/api/contacts/", {"lead_identifier": "ß" * 255, "source_id": source.pk})
    # The capital sharp s folds to "ss" too: the same lead.
    again = api.post("/api/contacts/", {"lead_identifier": "ẞ" * 255, "source_id": source.pk})

    assert first.status_code == 201, first.content[:200]
    assert again.status_code == 201, again.content[:200]
    assert json_of(again)["lead"]["id"] == json_of(first)["lead"]["id"]
    assert len(Lead.objects.get().identifier_key) == 510
    assert Lead._meta.get_field("identifier_key").max_length >= 510


@pytest.mark.parametrize(
    "raw",
    ["{", '{"lead_identifier": "a", "source_id": 1', "null", "[]", '"text"', "1e999"],
)
def test_a_body_that_is_not_a_json_object_is_a_422(api, raw):
    response = api.post("/api/contacts/", raw=raw)

    assert response.status_code == 422
    assert "body" in json_of(response)["errors"]


def test_a_json_body_under_another_content_type_is_read_as_json(api, make_source):
    source = make_source()

    response = api.post(
        "/api/contacts/",
        raw=f'{{"lead_identifier": "a", "source_id": {source.pk}}}',
        content_type="text/plain",
    )

    assert response.status_code == 201


def test_a_form_encoded_body_is_a_422(api, make_source):
    source = make_source()

    response = api.post(
        "/api/contacts/",
        raw=f"lead_identifier=a&source_id={source.pk}",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 422
    assert not Contact.objects.exists()


def test_a_body_beyond_the_upload_limit_is_a_json_413(api, make_source, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    source = make_source()

    response = api.post(
        "/api/contacts/", {"lead_identifier": "a", "source_id": source.pk, "message": "m" * 2000}
    )

    assert response.status_code == 413
    assert "1000 bytes" in json_of(response)["detail"]
    assert not Contact.objects.exists()


def test_list_contacts_is_newest_first_and_paged(api, make_source, register):
    source = make_source()
    contacts = [register(source) for _ in range(5)]

    body = json_of(api.get("/api/contacts/", {"limit": 2, "offset": 1}))

    assert body["count"] == 5
    assert [item["id"] for item in body["items"]] == [contacts[3].pk, contacts[2].pk]
    assert set(body["items"][0]) == CONTACT_KEYS


def test_list_contacts_filters(api, make_operator, make_source, register):
    ann = make_operator("Ann", limit=1)
    web, ads = make_source("Web", weights={ann: 1}), make_source("Ads")
    assigned = register(web)
    queued_web = register(web)
    queued_ads = register(ads)
    closed = register(ads)
    Contact.objects.filter(pk=closed.pk).update(status="closed", closed_at=closed.created_at)

    def ids(**params):
        return {item["id"] for item in json_of(api.get("/api/contacts/", params))["items"]}

    assert ids(status="closed") == {closed.pk}
    assert ids(status="open") == {assigned.pk, queued_web.pk, queued_ads.pk}
    assert ids(source_id=web.pk) == {assigned.pk, queued_web.pk}
    assert ids(operator_id=ann.pk) == {assigned.pk}
    assert ids(unassigned="true") == {queued_web.pk, queued_ads.pk, closed.pk}
    assert ids(unassigned="true", status="open", source_id=ads.pk) == {queued_ads.pk}
    assert ids(unassigned="false") == {assigned.pk, queued_web.pk, queued_ads.pk, closed.pk}
    assert ids(source_id=987_654) == set()


@pytest.fixture
def history(make_operator, make_source, register, rng):
    """Contacts of two sources moved by every service that changes an operator or a status:
    Web's four fill Ann and Bob, Ads' three wait for Bob; Cid has no weight, nobody has one
    for Walk-in, whose contacts stay in the queue."""
    ann, bob, cid = make_operator("Ann", limit=2), make_operator("Bob", limit=2), make_operator()
    web, ads = make_source("Web", weights={ann: 1, bob: 1}), make_source("Ads", weights={bob: 1})
    contacts = [register(web) for _ in range(4)] + [register(ads) for _ in range(3)]
    services.contact_close(contact_id=contacts[0].pk, rng=rng)
    services.contact_close(contact_id=contacts[4].pk, outcome="won", rng=rng)
    services.contact_reassign(contact_id=contacts[1].pk, operator_id=cid.pk, rng=rng)
    services.contact_reopen(contact_id=contacts[0].pk, rng=rng)
    services.contact_return_to_queue(contact_id=contacts[3].pk, rng=rng)
    services.contact_close(contact_id=contacts[5].pk, rng=rng)
    walk_in = make_source("Walk-in")
    services.contact_close(contact_id=register(walk_in).pk, rng=rng)
    register(walk_in)
    return {"sources": [web.pk, ads.pk, walk_in.pk], "operators": [ann.pk, bob.pk, cid.pk]}


def test_list_contacts_counts_every_match_of_every_filter(api, history):
    # The oracle counts the contacts themselves, for every combination of the filters.
    assert Contact.objects.filter(status="closed").exists()
    assert Contact.objects.filter(operator=None).exists()
    for status, source_id, operator_id, unassigned in product(
        [None, "open", "closed"],
        [None, *history["sources"], 987_654],
        [None, *history["operators"]],
        [False, True],
    ):
        params = {"status": status, "source_id": source_id, "operator_id": operator_id}
        params = {name: value for name, value in params.items() if value is not None}
        contacts = Contact.objects.filter(**params)
        if unassigned:
            contacts = contacts.filter(operator=None)
        # limit=1: the first page does not hold every match, so the count is asked for.
        body = json_of(api.get("/api/contacts/", {**params, "unassigned": unassigned, "limit": 1}))

        assert body["count"] == contacts.count(), (params, unassigned)
        assert len(body["items"]) == min(1, contacts.count())


@pytest.mark.parametrize(
    "params",
    [{}, {"status": "open"}, {"source_id": "WEB", "operator_id": "BOB"}, {"unassigned": "true"}],
)
def test_list_contacts_counts_from_the_tallies_not_the_contacts(api, history, params):
    named = {"WEB": history["sources"][0], "BOB": history["operators"][1]}
    params = {name: named.get(value, value) for name, value in params.items()}
    api.get("/api/contacts/")  # The token's first call also writes its last_used_at.

    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/contacts/", {**params, "limit": 1, "offset": 1})

    assert response.status_code == 200
    reads = [query["sql"] for query in queries if '"distribution_contact"' in query["sql"]]
    tallied = [query["sql"] for query in queries if '"distribution_contacttally"' in query["sql"]]
    # The page's rows are the only read of the contacts; the count is one tally query.
    assert len(reads) == 1 and "COUNT(" not in reads[0].upper()
    assert len(tallied) == 1


@pytest.mark.parametrize(
    "params",
    [
        {"status": "pending"},
        {"source_id": "web"},
        {"operator_id": -1},
        {"operator_id": 2**64},
        {"unassigned": "maybe"},
    ],
)
def test_list_contacts_refuses_a_bad_filter_with_422(api, params):
    response = api.get("/api/contacts/", params)

    assert response.status_code == 422
    assert set(json_of(response)["errors"]) == set(params)


def test_list_contacts_takes_the_same_number_of_queries_for_more_rows(
    api, make_operator, make_source, register
):
    source = make_source(weights={make_operator(limit=100): 1})

    def request():
        return api.get("/api/contacts/")

    register(source)
    few = query_count(request)
    for _ in range(30):
        register(source)

    assert query_count(request) == few


def test_get_contact_answers_the_contact(api, make_source, register):
    contact = register(make_source(), "carol@example.com")

    body = json_of(api.get(f"/api/contacts/{contact.pk}"))

    assert body["id"] == contact.pk
    assert body["lead"] == {"id": contact.lead_id, "identifier": "carol@example.com"}
    assert body["status"] == "open"


@pytest.mark.parametrize("contact_id", ["424242", "-1", "one", str(2**63)])
def test_get_unknown_contact_is_a_404(api, contact_id):
    assert api.get(f"/api/contacts/{contact_id}").status_code == 404


def test_close_contact_closes_it_and_hands_the_slot_to_the_queue(
    api, make_operator, make_source, register
):
    operator = make_operator(limit=1)
    source = make_source(weights={operator: 1})
    first, waiting = register(source), register(source)
    assert waiting.operator_id is None

    response = api.post(f"/api/contacts/{first.pk}/close")

    assert response.status_code == 200
    body = json_of(response)
    assert body["status"] == "closed"
    assert is_iso_with_zone(body["closed_at"])
    assert Contact.objects.get(pk=waiting.pk).operator_id == operator.pk


def test_closing_a_closed_contact_changes_nothing(api, make_source, register):
    contact = register(make_source())
    first = json_of(api.post(f"/api/contacts/{contact.pk}/close"))

    second = api.post(f"/api/contacts/{contact.pk}/close")

    assert second.status_code == 200
    assert json_of(second) == first


def test_close_unknown_contact_is_a_404(api):
    response = api.post("/api/contacts/777/close")

    assert response.status_code == 404
    assert "detail" in json_of(response)


@pytest.mark.parametrize("identifier", ["\u200b", "\ufeff", " \u200b\ufeff\u2060 ", "\u00ad"])
def test_an_identifier_made_only_of_invisible_characters_is_a_422(
    api, make_operator, make_source, identifier
):
    source = make_source(weights={make_operator(): 1})

    response = api.post("/api/contacts/", {"lead_identifier": identifier, "source_id": source.pk})

    assert response.status_code == 422
    assert "lead_identifier" in json_of(response)["errors"]
    assert not Lead.objects.exists()
    assert not Contact.objects.exists()


def test_invisible_characters_around_an_identifier_do_not_make_another_lead(
    api, make_operator, make_source
):
    source = make_source(weights={make_operator(): 1})
    api.post("/api/contacts/", {"lead_identifier": "ann@example.com", "source_id": source.pk})

    response = api.post(
        "/api/contacts/", {"lead_identifier": "\ufeffAnn@example.com\u200b", "source_id": source.pk}
    )

    assert response.status_code == 201
    assert Lead.objects.count() == 1


# --- responses and outcomes -------------------------------------------------------


def test_respond_records_the_first_response_once(api, make_operator, make_source, register):
    contact = register(make_source(weights={make_operator(): 1}))

    first = api.post(f"/api/contacts/{contact.pk}/respond")

    assert first.status_code == 200
    body = json_of(first)
    assert is_iso_with_zone(body["responded_at"])
    assert body["status"] == "open"
    stored = Contact.objects.get(pk=contact.pk).responded_at
    assert stored is not None
    second = api.post(f"/api/contacts/{contact.pk}/respond")
    assert second.status_code == 200
    assert json_of(second) == body
    assert Contact.objects.get(pk=contact.pk).responded_at == stored


def test_respond_to_a_queued_contact_is_a_422_and_changes_nothing(api, make_source, register):
    contact = register(make_source())

    response = api.post(f"/api/contacts/{contact.pk}/respond")

    assert response.status_code == 422
    assert "queued" in json_of(response)["detail"] + str(json_of(response)["errors"])
    assert Contact.objects.get(pk=contact.pk).responded_at is None


def test_respond_to_a_contact_closed_unanswered_is_a_422(api, make_operator, make_source, register):
    contact = register(make_source(weights={make_operator(): 1}))
    api.post(f"/api/contacts/{contact.pk}/close")

    response = api.post(f"/api/contacts/{contact.pk}/respond")

    assert response.status_code == 422
    assert "closed" in str(json_of(response)["errors"])
    assert Contact.objects.get(pk=contact.pk).responded_at is None


def test_respond_after_close_of_an_answered_contact_changes_nothing(
    api, make_operator, make_source, register
):
    contact = register(make_source(weights={make_operator(): 1}))
    answered = json_of(api.post(f"/api/contacts/{contact.pk}/respond"))["responded_at"]
    api.post(f"/api/contacts/{contact.pk}/close")

    response = api.post(f"/api/contacts/{contact.pk}/respond")

    assert response.status_code == 200
    assert json_of(response)["responded_at"] == answered


@pytest.mark.parametrize("contact_id", ["424242", "01", "1_0"])
def test_respond_to_an_unknown_contact_is_a_404(api, contact_id):
    assert api.post(f"/api/contacts/{contact_id}/respond").status_code == 404


def test_respond_takes_no_body(api, make_operator, make_source, register):
    contact = register(make_source(weights={make_operator(): 1}))

    response = api.post(f"/api/contacts/{contact.pk}/respond", {"at": "2020-01-01T00:00:00Z"})

    assert response.status_code == 422
    assert Contact.objects.get(pk=contact.pk).responded_at is None


def test_close_with_an_outcome_and_a_note_stores_both(api, make_operator, make_source, register):
    contact = register(make_source(weights={make_operator(): 1}))

    response = api.post(
        f"/api/contacts/{contact.pk}/close", {"outcome": "won", "note": "  Signed the deal  "}
    )

    assert response.status_code == 200
    body = json_of(response)
    assert (body["status"], body["outcome"], body["note"]) == ("closed", "won", "Signed the deal")
    stored = Contact.objects.get(pk=contact.pk)
    assert (stored.outcome, stored.note) == ("won", "Signed the deal")


def test_close_with_only_an_outcome_or_an_empty_body(api, make_operator, make_source, register):
    source = make_source(weights={make_operator(): 1})
    first, second = register(source), register(source)

    assert json_of(api.post(f"/api/contacts/{first.pk}/close", {"outcome": "spam"}))["outcome"] == (
        "spam"
    )
    body = json_of(api.post(f"/api/contacts/{second.pk}/close", {}))
    assert (body["status"], body["outcome"], body["note"]) == ("closed", None, "")


def test_closing_a_closed_contact_again_keeps_its_first_outcome(
    api, make_operator, make_source, register
):
    contact = register(make_source(weights={make_operator(): 1}))
    first = json_of(api.post(f"/api/contacts/{contact.pk}/close", {"outcome": "lost"}))

    second = api.post(f"/api/contacts/{contact.pk}/close", {"outcome": "won", "note": "later"})

    assert second.status_code == 200
    assert json_of(second) == first


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome": "maybe"}, "outcome"),
        ({"outcome": "WON"}, "outcome"),
        ({"outcome": 1}, "outcome"),
        ({"note": "n" * 2001}, "note"),
        ({"note": "a\x00b"}, "note"),
        ({"note": None}, "note"),
        ({"outcome": "won", "status": "open"}, "status"),
        ([], "body"),
    ],
)
def test_a_bad_close_body_is_a_422_and_leaves_the_contact_open(
    api, make_operator, make_source, register, body, field
):
    contact = register(make_source(weights={make_operator(): 1}))

    response = api.post(f"/api/contacts/{contact.pk}/close", body)

    assert response.status_code == 422
    assert field in json_of(response)["errors"]
    assert Contact.objects.get(pk=contact.pk).is_open


def test_reopen_opens_a_closed_contact_again_and_logs_who_did_it(
    api, make_operator, make_source, register
):
    ann = make_operator(limit=1)
    contact = register(make_source(weights={ann: 1}))
    api.post(f"/api/contacts/{contact.pk}/close", {"outcome": "lost", "note": "no answer"})

    response = api.post(f"/api/contacts/{contact.pk}/reopen")

    assert response.status_code == 200
    body = json_of(response)
    assert set(body) == CONTACT_KEYS
    assert (body["status"], body["closed_at"], body["outcome"]) == ("open", None, None)
    assert (body["operator_id"], body["note"]) == (ann.pk, "no answer")
    event = contact.events.get(kind="reopened")
    assert event.actor_type == "token"


def test_reopening_an_open_contact_is_a_422_and_an_unknown_one_a_404(api, make_source, register):
    contact = register(make_source())

    response = api.post(f"/api/contacts/{contact.pk}/reopen")

    assert response.status_code == 422
    assert "only a closed contact can be reopened" in str(json_of(response))
    assert api.post("/api/contacts/777/reopen").status_code == 404
