import pytest

from distribution.models import Contact, Operator
from tests.api_support import ApiClient, json_of, query_count

OPERATOR_KEYS = {"id", "name", "is_active", "workload_limit", "open_contacts"}


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
