"""PATCH /api/sources/{id}: a source's name and routing settings; every source shows them."""

import pytest

from distribution.models import RoutingMode, SettingChange, Source
from tests.api_support import ApiClient, json_of, query_count


@pytest.fixture
def api(client, db) -> ApiClient:
    return ApiClient(client)


def settings_of(source: Source) -> tuple:
    source.refresh_from_db()
    return (source.name, source.mode, source.sticky_days, source.response_minutes)


def test_every_source_answer_carries_its_routing_settings(api, make_source):
    source = make_source("Web")

    created = json_of(api.post("/api/sources/", {"name": "Bot"}))
    one = json_of(api.get(f"/api/sources/{source.pk}"))
    listed = json_of(api.get("/api/sources/"))["items"]

    defaults = {"mode": "random", "sticky_days": None, "response_minutes": None}
    assert created == {"id": created["id"], "name": "Bot", "weights": [], **defaults}
    assert one == {"id": source.pk, "name": "Web", "weights": [], **defaults}
    assert all(defaults.items() <= item.items() for item in listed)


def test_patch_changes_only_the_fields_it_sends_and_logs_them_by_token(api, make_source):
    source = make_source("Web")

    response = api.patch(f"/api/sources/{source.pk}", {"mode": "balanced", "sticky_days": 30})

    assert response.status_code == 200
    body = json_of(response)
    assert (body["name"], body["mode"], body["sticky_days"], body["response_minutes"]) == (
        "Web",
        "balanced",
        30,
        None,
    )
    assert settings_of(source) == ("Web", "balanced", 30, None)
    logged = SettingChange.objects.filter(source=source).order_by("id")
    assert [(c.field, c.new, c.actor_type, c.actor_name) for c in logged] == [
        ("mode", "balanced", "token", "tests"),
        ("sticky_days", "30", "token", "tests"),
    ]


def test_an_explicit_null_turns_sticky_and_response_off(api, make_source):
    source = make_source("Web")
    api.patch(f"/api/sources/{source.pk}", {"sticky_days": 7, "response_minutes": 15})

    body = json_of(
        api.patch(f"/api/sources/{source.pk}", {"sticky_days": None, "response_minutes": None})
    )

    assert (body["sticky_days"], body["response_minutes"]) == (None, None)
    assert settings_of(source)[2:] == (None, None)


def test_patch_renames_and_a_taken_name_is_a_409(api, make_source):
    make_source("Bot")
    source = make_source("Web")

    assert json_of(api.patch(f"/api/sources/{source.pk}", {"name": " Form "}))["name"] == "Form"
    response = api.patch(f"/api/sources/{source.pk}", {"name": "BOT", "mode": "balanced"})

    assert response.status_code == 409
    assert "name" in json_of(response)["errors"]
    assert settings_of(source) == ("Form", RoutingMode.RANDOM, None, None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mode": "fastest"}, "mode"),
        ({"mode": None}, "mode"),
        ({"sticky_days": 0}, "sticky_days"),
        ({"sticky_days": 366}, "sticky_days"),
        ({"sticky_days": "7"}, "sticky_days"),
        ({"sticky_days": True}, "sticky_days"),
        ({"response_minutes": 0}, "response_minutes"),
        ({"response_minutes": 10081}, "response_minutes"),
        ({"response_minutes": 1.5}, "response_minutes"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_value_is_a_422_by_field_and_changes_nothing(api, make_source, body, field):
    source = make_source("Web")

    response = api.patch(f"/api/sources/{source.pk}", {"response_minutes": 5, **body})

    assert response.status_code == 422
    assert field in json_of(response)["errors"]
    assert settings_of(source) == ("Web", RoutingMode.RANDOM, None, None)
    assert not SettingChange.objects.exists()


def test_an_empty_patch_changes_nothing(api, make_source):
    source = make_source("Web")
    response = api.patch(f"/api/sources/{source.pk}", {})
    assert response.status_code == 200
    assert json_of(response)["mode"] == "random"
    assert not SettingChange.objects.exists()


def test_patching_an_unknown_source_is_a_404(api, db):
    response = api.patch("/api/sources/31337", {"mode": "balanced"})
    assert response.status_code == 404
    assert "detail" in json_of(response)


def test_patch_costs_a_fixed_number_of_queries(api, make_source, make_operator):
    source = make_source("Web", weights={make_operator(): 1, make_operator(): 2})
    flip = iter(["balanced", "random"] * 10)

    def patch():
        return api.patch(f"/api/sources/{source.pk}", {"mode": next(flip)})

    first = query_count(patch)
    make_source(weights={make_operator(): 1})
    assert query_count(patch) == first
