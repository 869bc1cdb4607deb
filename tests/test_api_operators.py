from datetime import UTC, datetime, time
from typing import get_args

import pytest
import time_machine

from distribution import services
from distribution.api import schemas
from distribution.models import Contact, Operator, Presence, ShiftHours
from tests.api_support import ApiClient, json_of, query_count

OPERATOR_KEYS = {
    "id",
    "name",
    "is_active",
    "workload_limit",
    "open_contacts",
    "presence",
    "on_shift",
}


@pytest.fixture
def api(client, db) -> ApiClient:
    return ApiClient(client)


def test_create_operator_answers_201_with_the_operator(api):
    response = api.post("/api/operators/", {"name": "Ann", "workload_limit": 3})

    assert response.status_code == 201
    body = json_of(response)
    assert set(body) == OPERATOR_KEYS
    assert body["name"] == "Ann"
    assert body["is_active"] is True
    assert body["workload_limit"] == 3
    assert body["open_contacts"] == 0
    assert Operator.objects.get(pk=body["id"]).workload_limit == 3


def test_create_operator_defaults_to_active_with_limit_10(api):
    body = json_of(api.post("/api/operators/", {"name": "Bob"}))

    assert body["is_active"] is True
    assert body["workload_limit"] == 10


def test_create_operator_trims_the_name(api):
    body = json_of(api.post("/api/operators/", {"name": "  Cleo  "}))

    assert body["name"] == "Cleo"


def test_a_taken_name_in_any_case_is_a_409_naming_the_field(api, make_operator):
    make_operator("Dora")

    response = api.post("/api/operators/", {"name": "DORA"})

    assert response.status_code == 409
    assert "name" in json_of(response)["errors"]
    assert Operator.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Eve", "workload_limit": -1}, "workload_limit"),
        ({"name": "Eve", "workload_limit": 100_001}, "workload_limit"),
        ({"name": "Eve", "workload_limit": 10**30}, "workload_limit"),
        ({"name": "Eve", "workload_limit": "10"}, "workload_limit"),
        ({"name": "Eve", "workload_limit": 2.5}, "workload_limit"),
        ({"name": "Eve", "is_active": "yes"}, "is_active"),
        ({"name": "Eve", "is_active": None}, "is_active"),
        ({"name": 42}, "name"),
        ({"name": "Eve\x00"}, "name"),
        ({"name": "Eve", "colour": "red"}, "colour"),
        ([], "body"),
        ("Eve", "body"),
    ],
)
def test_an_invalid_operator_is_a_422_naming_the_field(api, body, field):
    response = api.post("/api/operators/", body)

    assert response.status_code == 422
    assert field in json_of(response)["errors"]
    assert not Operator.objects.exists()


def test_list_operators_pages_with_limit_and_offset(api, make_operator):
    for name in ["Ann", "Bob", "Cleo", "Dora", "Eve"]:
        make_operator(name)

    body = json_of(api.get("/api/operators/", {"limit": 2, "offset": 1}))

    assert body["count"] == 5
    assert [item["name"] for item in body["items"]] == ["Bob", "Cleo"]
    assert set(body["items"][0]) == OPERATOR_KEYS


def test_list_operators_shows_each_load(api, make_operator, make_source, register):
    ann = make_operator("Ann")
    make_operator("Bob")
    source = make_source(weights={ann: 1})
    register(source)
    register(source)

    body = json_of(api.get("/api/operators/"))

    assert {item["name"]: item["open_contacts"] for item in body["items"]} == {"Ann": 2, "Bob": 0}


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"offset": -1}, {"limit": "x"}])
def test_list_operators_refuses_bad_paging_with_422(api, params):
    response = api.get("/api/operators/", params)

    assert response.status_code == 422
    assert set(json_of(response)["errors"]) == set(params)


def test_list_operators_takes_the_same_number_of_queries_for_more_rows(api, make_operator):
    def request():
        return api.get("/api/operators/")

    make_operator()
    few = query_count(request)
    for _ in range(20):
        make_operator()

    assert query_count(request) == few


def test_get_operator_answers_the_operator(api, make_operator):
    operator = make_operator("Ann", limit=4)

    response = api.get(f"/api/operators/{operator.pk}")

    assert response.status_code == 200
    assert json_of(response) == {
        "id": operator.pk,
        "name": "Ann",
        "is_active": True,
        "workload_limit": 4,
        "open_contacts": 0,
        "presence": "available",
        "on_shift": True,
    }


@pytest.mark.parametrize("operator_id", ["999999", "-1", "0", "abc", str(2**64), "1.5"])
def test_get_unknown_operator_is_a_json_404(api, operator_id):
    response = api.get(f"/api/operators/{operator_id}")

    assert response.status_code == 404
    assert "detail" in json_of(response)


def test_patch_operator_changes_only_the_given_fields(api, make_operator):
    operator = make_operator("Ann", limit=4)

    response = api.patch(f"/api/operators/{operator.pk}", {"is_active": False})

    assert response.status_code == 200
    body = json_of(response)
    assert (body["name"], body["is_active"], body["workload_limit"]) == ("Ann", False, 4)
    operator.refresh_from_db()
    assert operator.is_active is False


def test_patch_with_an_empty_object_changes_nothing(api, make_operator):
    operator = make_operator("Ann", limit=4)

    response = api.patch(f"/api/operators/{operator.pk}", {})

    assert response.status_code == 200
    assert json_of(response)["workload_limit"] == 4


def test_raising_a_limit_assigns_queued_contacts(api, make_operator, make_source, register):
    operator = make_operator("Ann", limit=0)
    source = make_source(weights={operator: 1})
    contact = register(source)
    assert contact.operator_id is None

    body = json_of(api.patch(f"/api/operators/{operator.pk}", {"workload_limit": 1}))

    assert body["open_contacts"] == 1
    assert Contact.objects.get(pk=contact.pk).operator_id == operator.pk


def test_patch_to_a_taken_name_is_a_409_and_keeps_the_old_name(api, make_operator):
    make_operator("Ann")
    bob = make_operator("Bob")

    response = api.patch(f"/api/operators/{bob.pk}", {"name": "ann"})

    assert response.status_code == 409
    assert "name" in json_of(response)["errors"]
    bob.refresh_from_db()
    assert bob.name == "Bob"


def test_a_patch_refused_for_its_name_changes_none_of_its_fields(api, make_operator):
    make_operator("Ann")
    bob = make_operator("Bob", limit=4)

    response = api.patch(
        f"/api/operators/{bob.pk}", {"name": "ANN", "workload_limit": 9, "is_active": False}
    )

    assert response.status_code == 409
    bob.refresh_from_db()
    assert (bob.name, bob.workload_limit, bob.is_active) == ("Bob", 4, True)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"workload_limit": -5}, "workload_limit"),
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"is_active": 1}, "is_active"),
        ({"limit": 3}, "limit"),
    ],
)
def test_an_invalid_patch_is_a_422_and_changes_nothing(api, make_operator, body, field):
    operator = make_operator("Ann", limit=4)

    response = api.patch(f"/api/operators/{operator.pk}", body)

    assert response.status_code == 422
    assert field in json_of(response)["errors"]
    operator.refresh_from_db()
    assert (operator.name, operator.is_active, operator.workload_limit) == ("Ann", True, 4)


def test_patch_unknown_operator_is_a_404(api):
    response = api.patch("/api/operators/424242", {"is_active": False})

    assert response.status_code == 404
    assert "detail" in json_of(response)


@pytest.mark.parametrize(
    ("first", "second"), [("Émile", "émile"), ("ÉMILE", "émile"), ("Straße", "STRASSE")]
)
def test_names_that_differ_only_in_case_beyond_ascii_are_a_409_on_every_database(
    api, first, second
):
    assert api.post("/api/operators/", {"name": first}).status_code == 201

    response = api.post("/api/operators/", {"name": second})

    assert response.status_code == 409
    assert "name" in json_of(response)["errors"]
    assert Operator.objects.count() == 1


def test_renaming_to_a_name_taken_in_another_case_beyond_ascii_is_a_409(api, make_operator):
    make_operator("Émile")
    other = make_operator("Zoé")

    response = api.patch(f"/api/operators/{other.pk}", {"name": "émile"})

    assert response.status_code == 409
    other.refresh_from_db()
    assert other.name == "Zoé"


# --- presence, requeue and working hours ------------------------------------------


def test_patch_presence_changes_it_and_answers_the_operator(api, make_operator):
    operator = make_operator("Ann")

    response = api.patch(f"/api/operators/{operator.pk}", {"presence": "away"})

    assert response.status_code == 200
    assert json_of(response)["presence"] == "away"
    operator.refresh_from_db()
    assert operator.presence == Presence.AWAY


def test_going_away_keeps_open_contacts_by_default(api, make_operator, make_source, register):
    ann, bob = make_operator("Ann"), make_operator("Bob", active=False)
    source = make_source(weights={ann: 1, bob: 1})
    contact = register(source)
    services.operator_update(operator_id=bob.pk, is_active=True)

    body = json_of(api.patch(f"/api/operators/{ann.pk}", {"presence": "offline"}))

    assert body["open_contacts"] == 1
    assert Contact.objects.get(pk=contact.pk).operator_id == ann.pk


def test_going_away_with_requeue_hands_open_contacts_to_those_eligible(
    api, make_operator, make_source, register
):
    ann, bob = make_operator("Ann"), make_operator("Bob", active=False)
    source = make_source(weights={ann: 1, bob: 1})
    contacts = [register(source), register(source)]
    services.operator_update(operator_id=bob.pk, is_active=True)
    assert {c.operator_id for c in contacts} == {ann.pk}

    response = api.patch(
        f"/api/operators/{ann.pk}", {"presence": "away", "requeue_open_contacts": True}
    )

    assert response.status_code == 200
    assert json_of(response)["open_contacts"] == 0
    assert set(Contact.objects.values_list("operator_id", flat=True)) == {bob.pk}


def test_requeue_on_deactivation_queues_contacts_nobody_can_take(
    api, make_operator, make_source, register
):
    ann = make_operator("Ann")
    contact = register(make_source(weights={ann: 1}))

    body = json_of(
        api.patch(f"/api/operators/{ann.pk}", {"is_active": False, "requeue_open_contacts": True})
    )

    assert body["open_contacts"] == 0
    assert Contact.objects.get(pk=contact.pk).is_queued


def test_requeue_while_staying_eligible_moves_nothing(api, make_operator, make_source, register):
    ann = make_operator("Ann")
    contact = register(make_source(weights={ann: 1}))

    body = json_of(
        api.patch(f"/api/operators/{ann.pk}", {"workload_limit": 5, "requeue_open_contacts": True})
    )

    assert body["open_contacts"] == 1
    assert Contact.objects.get(pk=contact.pk).operator_id == ann.pk


def test_becoming_available_drains_the_queue_to_the_operator(
    api, make_operator, make_source, register
):
    ann = make_operator("Ann")
    services.operator_update(operator_id=ann.pk, presence="away")
    contact = register(make_source(weights={ann: 1}))
    assert contact.is_queued

    body = json_of(api.patch(f"/api/operators/{ann.pk}", {"presence": "available"}))

    assert body["open_contacts"] == 1
    assert Contact.objects.get(pk=contact.pk).operator_id == ann.pk


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"presence": "busy"}, "presence"),
        ({"presence": None}, "presence"),
        ({"presence": "AWAY"}, "presence"),
        ({"presence": "away", "requeue_open_contacts": "yes"}, "requeue_open_contacts"),
        ({"presence": "away", "requeue_open_contacts": None}, "requeue_open_contacts"),
        ({"presence": "away", "on_shift": False}, "on_shift"),
    ],
)
def test_a_bad_presence_patch_is_a_422_and_changes_nothing(
    api, make_operator, make_source, register, body, field
):
    ann = make_operator("Ann")
    contact = register(make_source(weights={ann: 1}))

    response = api.patch(f"/api/operators/{ann.pk}", body)

    assert response.status_code == 422
    assert field in json_of(response)["errors"]
    ann.refresh_from_db()
    assert ann.presence == Presence.AVAILABLE
    assert Contact.objects.get(pk=contact.pk).operator_id == ann.pk


def schedule_url(operator) -> str:
    return f"/api/operators/{operator.pk}/schedule"


def test_an_operator_without_hours_has_an_empty_schedule_and_is_on_shift(api, make_operator):
    ann = make_operator("Ann")

    assert json_of(api.get(schedule_url(ann))) == {"time_zone": "UTC", "hours": []}
    assert json_of(api.get(f"/api/operators/{ann.pk}"))["on_shift"] is True


def test_put_schedule_stores_it_and_get_answers_it(api, make_operator):
    ann = make_operator("Ann")
    schedule = {
        "time_zone": "Europe/Berlin",
        "hours": [
            {"weekday": 4, "start": "13:00", "end": "18:00"},
            {"weekday": 0, "start": "09:00", "end": "17:30"},
            {"weekday": 0, "start": "18:00", "end": "00:00"},
        ],
    }

    response = api.put(schedule_url(ann), schedule)

    assert response.status_code == 200
    expected = {
        "time_zone": "Europe/Berlin",
        "hours": [
            {"weekday": 0, "start": "09:00", "end": "17:30"},
            {"weekday": 0, "start": "18:00", "end": "00:00"},
            {"weekday": 4, "start": "13:00", "end": "18:00"},
        ],
    }
    assert json_of(response) == expected
    assert json_of(api.get(schedule_url(ann))) == expected
    assert list(ShiftHours.objects.filter(operator=ann).values_list("weekday", "start", "end")) == [
        (0, time(9, 0), time(17, 30)),
        (0, time(18, 0), time(0, 0)),
        (4, time(13, 0), time(18, 0)),
    ]


def test_24_00_as_an_end_is_midnight(api, make_operator):
    ann = make_operator("Ann")

    body = json_of(
        api.put(
            schedule_url(ann),
            {"time_zone": "UTC", "hours": [{"weekday": 6, "start": "20:00", "end": "24:00"}]},
        )
    )

    assert body["hours"] == [{"weekday": 6, "start": "20:00", "end": "00:00"}]
    assert ShiftHours.objects.get(operator=ann).end == time(0, 0)


def test_on_shift_reads_the_hours_in_the_operators_zone(api, make_operator):
    ann = make_operator("Ann")
    # Every day but Wednesday, all day.
    hours = [{"weekday": day, "start": "00:00", "end": "00:00"} for day in range(7) if day != 2]

    # Wednesday 09:00 UTC: 10:00 on Wednesday in Berlin, 23:00 on Tuesday in Honolulu.
    with time_machine.travel(datetime(2025, 3, 12, 9, 0, tzinfo=UTC), tick=False):
        api.put(schedule_url(ann), {"time_zone": "Europe/Berlin", "hours": hours})
        assert json_of(api.get(f"/api/operators/{ann.pk}"))["on_shift"] is False
        assert json_of(api.get("/api/operators/"))["items"][0]["on_shift"] is False

        api.put(schedule_url(ann), {"time_zone": "Pacific/Honolulu", "hours": hours})
        assert json_of(api.get(f"/api/operators/{ann.pk}"))["on_shift"] is True


def test_an_empty_schedule_removes_the_hours(api, make_operator):
    ann = make_operator("Ann")
    api.put(
        schedule_url(ann),
        {"time_zone": "Asia/Tokyo", "hours": [{"weekday": 1, "start": "09:00", "end": "10:00"}]},
    )

    response = api.put(schedule_url(ann), {"time_zone": "Asia/Tokyo", "hours": []})

    assert json_of(response) == {"time_zone": "Asia/Tokyo", "hours": []}
    assert not ShiftHours.objects.filter(operator=ann).exists()
    assert json_of(api.get(f"/api/operators/{ann.pk}"))["on_shift"] is True


def hours(*ranges) -> list[dict]:
    return [{"weekday": d, "start": s, "end": e} for d, s, e in ranges]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"time_zone": "Mars/Olympus", "hours": []}, "time_zone", "time zone"),
        ({"time_zone": "", "hours": []}, "time_zone", "time zone"),
        ({"time_zone": "utc", "hours": []}, "time_zone", "time zone"),
        ({"time_zone": "UTC\x00", "hours": []}, "time_zone", ""),
        ({"time_zone": "x" * 65, "hours": []}, "time_zone", ""),
        ({"time_zone": 1, "hours": []}, "time_zone", ""),
        ({"hours": []}, "time_zone", ""),
        ({"time_zone": "UTC"}, "hours", ""),
        ({"time_zone": "UTC", "hours": hours((7, "09:00", "10:00"))}, "hours.0.weekday", ""),
        ({"time_zone": "UTC", "hours": hours((-1, "09:00", "10:00"))}, "hours.0.weekday", ""),
        ({"time_zone": "UTC", "hours": hours(("1", "09:00", "10:00"))}, "hours.0.weekday", ""),
        ({"time_zone": "UTC", "hours": hours((1, "9:00", "10:00"))}, "hours.0.start", "HH:MM"),
        ({"time_zone": "UTC", "hours": hours((1, "09:60", "10:00"))}, "hours.0.start", "HH:MM"),
        ({"time_zone": "UTC", "hours": hours((1, "24:00", "10:00"))}, "hours.0.start", "HH:MM"),
        ({"time_zone": "UTC", "hours": hours((1, "09:00:00", "10:00"))}, "hours.0.start", ""),
        ({"time_zone": "UTC", "hours": hours((1, "09:00", "25:00"))}, "hours.0.end", "HH:MM"),
        ({"time_zone": "UTC", "hours": hours((1, "09:00", "24:01"))}, "hours.0.end", "HH:MM"),
        ({"time_zone": "UTC", "hours": hours((1, "09:00", 10))}, "hours.0.end", ""),
        ({"time_zone": "UTC", "hours": hours((1, "10:00", "09:00"))}, "hours", "before it starts"),
        ({"time_zone": "UTC", "hours": hours((1, "10:00", "10:00"))}, "hours", "before it starts"),
        (
            {"time_zone": "UTC", "hours": hours((1, "09:00", "12:00"), (1, "11:00", "13:00"))},
            "hours",
            "overlap",
        ),
        (
            {"time_zone": "UTC", "hours": hours((1, "20:00", "00:00"), (1, "22:00", "23:00"))},
            "hours",
            "overlap",
        ),
        (
            {"time_zone": "UTC", "hours": [{"weekday": 1, "start": "09:00"}]},
            "hours.0.end",
            "",
        ),
        (
            {"time_zone": "UTC", "hours": hours((1, "09:00", "10:00")), "extra": 1},
            "extra",
            "",
        ),
        ({"time_zone": "UTC", "hours": hours(*[(1, "09:00", "10:00")] * 200)}, "hours", ""),
    ],
)
def test_a_bad_schedule_is_a_422_that_says_what_and_changes_nothing(
    api, make_operator, body, field, words
):
    ann = make_operator("Ann")
    before = {"time_zone": "Europe/Paris", "hours": hours((2, "08:00", "12:00"))}
    api.put(schedule_url(ann), before)

    response = api.put(schedule_url(ann), body)

    assert response.status_code == 422
    errors = json_of(response)["errors"]
    assert field in errors, errors
    assert words.lower() in " ".join(errors[field]).lower()
    assert json_of(api.get(schedule_url(ann))) == before


@pytest.mark.parametrize("method", ["get", "put"])
def test_the_schedule_of_an_unknown_operator_is_a_404(api, method):
    response = getattr(api, method)(
        "/api/operators/424242/schedule", {"time_zone": "UTC", "hours": []}
    )

    assert response.status_code == 404
    assert "detail" in json_of(response)


def test_list_operators_with_schedules_takes_the_same_number_of_queries(api, make_operator):
    def request():
        return api.get("/api/operators/")

    services.operator_set_schedule(
        operator_id=make_operator().pk, time_zone="UTC", hours=[(0, time(9), time(17))]
    )
    few = query_count(request)
    for _ in range(10):
        services.operator_set_schedule(
            operator_id=make_operator().pk, time_zone="UTC", hours=[(1, time(9), time(17))]
        )

    assert query_count(request) == few


def test_the_api_names_the_same_presences_and_outcomes_as_the_models():
    assert set(get_args(schemas.PresenceName)) == set(Presence.values)
    assert set(get_args(schemas.OutcomeName)) == set(Contact.Outcome.values)
