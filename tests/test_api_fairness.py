"""GET /api/sources/{id}/fairness: the fairness report as JSON."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.api_support import ApiClient, json_of, query_count
from tests.fairness_support import assign, candidate, noon, unlogged

PERIOD = {"since": "2024-05-06", "until": "2024-05-06"}


@pytest.fixture
def api(client, db) -> ApiClient:
    return ApiClient(client)


@pytest.fixture
def world(make_operator, make_source):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source("Telegram", weights={ann: 1, bob: 3})
    both = [candidate(ann, 1), candidate(bob, 3)]
    assign(source, ann, both, times=20)
    assign(source, bob, both, times=20)
    unlogged(source, bob, times=8)
    assign(source, bob, both, reason="sticky", times=3)
    return source, ann, bob


def test_the_report_as_json(api, world):
    source, ann, bob = world

    response = api.get(f"/api/sources/{source.pk}/fairness", PERIOD)

    assert response.status_code == 200
    body = json_of(response)
    test = body.pop("test")
    assert body == {
        "source_id": source.pk,
        "since": "2024-05-06",
        "until": "2024-05-06",
        "total": 48,
        "draws": 40,
        "by_current_weights": 8,
        "sticky": 3,
        "reassigned": 0,
        "operators": [
            {
                "operator_id": ann.pk,
                "name": "Ann",
                "weight": 1,
                "contacts": 20,
                "share": pytest.approx(20 / 48),
                "expected": pytest.approx(12),
                "expected_share": pytest.approx(0.25),
            },
            {
                "operator_id": bob.pk,
                "name": "Bob",
                "weight": 3,
                "contacts": 28,
                "share": pytest.approx(28 / 48),
                "expected": pytest.approx(36),
                "expected_share": pytest.approx(0.75),
            },
        ],
    }
    assert test["verdict"] == "unlikely"
    assert test["statistic"] == pytest.approx(64 / 12 + 64 / 36)
    assert test["df"] == 1
    assert test["p_value"] == pytest.approx(0.00766, abs=1e-5)
    assert test["unlikely_below"] == 0.01
    assert test["verdict_text"].startswith("Unlikely under the weights")


def test_not_enough_data_has_no_p_value(api, make_operator, make_source):
    ann = make_operator("Ann")
    source = make_source(weights={ann: 1})

    test = json_of(api.get(f"/api/sources/{source.pk}/fairness", PERIOD))["test"]

    assert test["verdict"] == "not_enough_data"
    assert test["statistic"] is test["p_value"] is test["df"] is None


def test_without_dates_the_report_covers_the_last_seven_days(api, make_operator, make_source):
    ann = make_operator("Ann")
    source = make_source(weights={ann: 1})
    today = timezone.localdate()
    assign(source, ann, [candidate(ann, 1)], times=2, at=noon(today - timedelta(days=6)))
    assign(source, ann, [candidate(ann, 1)], times=5, at=noon(today - timedelta(days=7)))

    body = json_of(api.get(f"/api/sources/{source.pk}/fairness"))

    assert (body["since"], body["until"]) == (str(today - timedelta(days=6)), str(today))
    assert body["draws"] == 2
    only_until = json_of(api.get(f"/api/sources/{source.pk}/fairness", {"until": "2024-05-06"}))
    assert only_until["since"] == "2024-04-30"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2024-05-07", "until": "2024-05-06"}, "until"),
        ({"since": "2023-01-01", "until": "2024-05-06"}, "until"),
        ({"since": "2024-02-30"}, "since"),
        ({"since": "20240506"}, "since"),
        ({"until": "2024-05-06T00:00"}, "until"),
        ({"until": "1715000000"}, "until"),
        ({"until": "0001-01-02"}, "until"),
        ({"since": "9999-12-31", "until": "9999-12-31"}, "since"),
        ({"since": ""}, "since"),
    ],
)
def test_bad_dates_are_a_422_that_names_the_field(api, world, params, field):
    source, _, _ = world

    response = api.get(f"/api/sources/{source.pk}/fairness", params)

    assert response.status_code == 422
    assert field in json_of(response)["errors"]


def test_an_unknown_source_is_a_404(api, db):
    assert api.get("/api/sources/999/fairness", PERIOD).status_code == 404


def test_the_report_needs_a_token(client, world):
    source, _, _ = world
    assert client.get(f"/api/sources/{source.pk}/fairness", PERIOD).status_code == 401


def test_the_report_costs_the_same_queries_however_many_operators(api, make_operator, make_source):
    def source_with(n: int):
        ops = [make_operator() for _ in range(n)]
        source = make_source(weights=dict.fromkeys(ops, 1))
        for op in ops:
            assign(source, op, [candidate(o, 1) for o in ops], times=5)
        return source

    small, large = source_with(2), source_with(10)

    few = query_count(lambda: api.get(f"/api/sources/{small.pk}/fairness", PERIOD))
    many = query_count(lambda: api.get(f"/api/sources/{large.pk}/fairness", PERIOD))
    assert few == many
