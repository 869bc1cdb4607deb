"""
The dry run: who would get a source's next contact now, and why not the others
(allocation.preview, POST /api/sources/{id}/route-preview, the source page's button).
It writes nothing.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from distribution import allocation, services
from distribution.models import Source

from .api_support import ApiClient, json_of
from .views_support import HTMX, as_supervisor, is_fragment

pytestmark = pytest.mark.django_db


def set_routing(source: Source, **fields) -> None:
    Source.objects.filter(pk=source.pk).update(**fields)


def writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        or "FOR UPDATE" in q["sql"].upper()
    ]


def test_the_dry_run_writes_nothing_and_agrees_with_the_next_assignment(
    make_operator, make_source, register
):
    operators = [make_operator(limit=50) for _ in range(3)]
    source = make_source(weights=dict(zip(operators, [1, 2, 3], strict=True)))
    set_routing(source, mode="balanced")
    away = make_operator(limit=50)
    services.source_set_weight(source_id=source.pk, operator_id=away.pk, weight=5)
    services.operator_update(operator_id=away.pk, presence="away")

    for _ in range(12):
        with CaptureQueriesContext(connection) as ctx:
            preview = allocation.preview(source.pk)
        assert writes(ctx.captured_queries) == []
        assert preview.reason == "balanced"
        assert preview.probability is None
        assert {c.operator_id: c.why_not for c in preview.candidates}[away.pk] == "away"
        assert register(source).operator_id == preview.operator_id


def test_random_mode_gives_each_eligible_candidate_its_probability(make_operator, make_source):
    light, heavy, full = make_operator(), make_operator(), make_operator(limit=0)
    source = make_source(weights={light: 1, heavy: 3, full: 4})

    preview = allocation.preview(source.pk)

    assert preview.operator_id is None  # A draw among two.
    assert preview.reason == "weighted"
    assert preview.probability == {light.pk: 0.25, heavy.pk: 0.75, full.pk: 0.0}


def test_a_lead_identifier_shows_its_sticky_owner(make_operator, make_source, register):
    owner, other = make_operator(), make_operator()
    source = make_source(weights={owner: 1, other: 1})
    set_routing(source, sticky_days=3)
    register(source, "back@example.com")
    first = Source.objects.get(pk=source.pk).contacts.get().operator_id

    preview = allocation.preview(source.pk, lead_identifier=" BACK@example.com")

    assert (preview.operator_id, preview.reason) == (first, "sticky")
    assert allocation.preview(source.pk).reason == "weighted"


def test_nobody_eligible_is_queued(make_operator, make_source):
    source = make_source(weights={make_operator(limit=0): 1})

    preview = allocation.preview(source.pk)

    assert (preview.operator_id, preview.reason) == (None, "queued")


# --- the API -----------------------------------------------------------------------


@pytest.fixture
def api(client):
    return ApiClient(client)


def test_the_api_answers_the_candidates_with_their_probability(api, make_operator, make_source):
    light, heavy = make_operator(), make_operator(limit=0)
    source = make_source(weights={light: 1, heavy: 3})

    answer = json_of(api.post(f"/api/sources/{source.pk}/route-preview"))

    assert answer == {
        "operator_id": light.pk,
        "reason": "weighted",
        "candidates": [
            {
                "operator_id": light.pk,
                "weight": 1,
                "open_contacts": 0,
                "workload_limit": 10,
                "eligible": True,
                "why_not": None,
                "probability": 1.0,
            },
            {
                "operator_id": heavy.pk,
                "weight": 3,
                "open_contacts": 0,
                "workload_limit": 0,
                "eligible": False,
                "why_not": "full",
                "probability": 0.0,
            },
        ],
    }


def test_the_api_takes_a_lead_identifier(api, make_operator, make_source, register):
    owner = make_operator()
    source = make_source(weights={owner: 1, make_operator(): 1})
    set_routing(source, sticky_days=3, mode="balanced")
    register(source, "back@example.com")

    answer = json_of(
        api.post(f"/api/sources/{source.pk}/route-preview", {"lead_identifier": "back@example.com"})
    )

    assert (answer["operator_id"], answer["reason"]) == (owner.pk, "sticky")
    assert {c["probability"] for c in answer["candidates"]} == {None}


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/sources/999999/route-preview", None, 404),
        ("/api/sources/{id}/route-preview", {"lead_identifier": ""}, 422),
        ("/api/sources/{id}/route-preview", {"lead_identifier": 5}, 422),
        ("/api/sources/{id}/route-preview", {"other": 1}, 422),
    ],
)
def test_the_api_refuses_bad_input_clearly(api, make_source, path, body, status):
    source = make_source()

    response = api.post(path.format(id=source.pk), body)

    assert response.status_code == status
    assert "detail" in json_of(response)


# --- the source page ----------------------------------------------------------------


def test_the_source_page_offers_the_dry_run(client, make_source):
    source = make_source()
    as_supervisor(client)

    response = client.get(f"/sources/{source.pk}/")

    assert response.status_code == 200
    assert "Who would get the next contact now?" in response.content.decode()


def test_the_button_shows_the_choice_and_why_not_the_others(client, make_operator, make_source):
    alice, bob = make_operator("Alice"), make_operator("Bob")
    source = make_source(weights={alice: 1, bob: 3})
    services.operator_update(operator_id=bob.pk, presence="offline")
    as_supervisor(client)

    response = client.post(f"/sources/{source.pk}/route-preview/", **HTMX)

    assert response.status_code == 200
    assert is_fragment(response)
    html = response.content.decode()
    assert "<strong>Alice</strong>" in html
    assert "100%" in html
    assert "no: offline" in html


def test_without_javascript_the_button_answers_the_whole_page(client, make_operator, make_source):
    source = make_source(weights={make_operator("Alice"): 1, make_operator("Bob"): 1})
    as_supervisor(client)

    response = client.post(f"/sources/{source.pk}/route-preview/")

    html = response.content.decode()
    assert "<html" in html
    assert "50%" in html


def test_the_dry_run_page_needs_a_supervisor_and_a_post(client, make_source):
    source = make_source()

    assert client.post(f"/sources/{source.pk}/route-preview/").status_code == 302
    as_supervisor(client)
    assert client.get(f"/sources/{source.pk}/route-preview/").status_code == 405
    assert client.post("/sources/999999/route-preview/").status_code == 404
