import pytest

from distribution.models import Contact, Source, SourceOperatorConfig
from tests.api_support import ApiClient, json_of, query_count


@pytest.fixture
def api(client, db) -> ApiClient:
    return ApiClient(client)


def weights_of(source: Source) -> dict[int, int]:
    return dict(
        SourceOperatorConfig.objects.filter(source=source).values_list("operator_id", "weight")
    )


def test_create_source_answers_201_with_no_weights(api):
    response = api.post("/api/sources/", {"name": "Telegram"})

    assert response.status_code == 201
    body = json_of(response)
    assert body == {
        "id": body["id"],
        "name": "Telegram",
        "weights": [],
        "mode": "random",
        "sticky_days": None,
        "response_minutes": None,
    }
    assert Source.objects.filter(pk=body["id"], name="Telegram").exists()


def test_a_taken_source_name_is_a_409(api, make_source):
    make_source("Telegram")

    response = api.post("/api/sources/", {"name": "telegram"})

    assert response.status_code == 409
    assert "name" in json_of(response)["errors"]
    assert Source.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "name"), ({"name": ""}, "name"), ({"name": "x" * 201}, "name"), ({"name": 7}, "name")],
)
def test_an_invalid_source_is_a_422(api, body, field):
    response = api.post("/api/sources/", body)

    assert response.status_code == 422
    assert field in json_of(response)["errors"]
    assert not Source.objects.exists()


def test_list_and_get_sources_show_their_weights(api, make_operator, make_source):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source("Web", weights={ann: 3, bob: 1})
    make_source("Ads")

    listed = json_of(api.get("/api/sources/"))
    one = json_of(api.get(f"/api/sources/{source.pk}"))

    assert listed["count"] == 2
    assert [item["name"] for item in listed["items"]] == ["Ads", "Web"]
    assert one == {
        "id": source.pk,
        "name": "Web",
        "weights": [{"operator_id": ann.pk, "weight": 3}, {"operator_id": bob.pk, "weight": 1}],
        "mode": "random",
        "sticky_days": None,
        "response_minutes": None,
    }
    assert listed["items"][1] == one


def test_list_sources_takes_the_same_number_of_queries_for_more_rows(
    api, make_operator, make_source
):
    operators = [make_operator() for _ in range(3)]

    def request():
        return api.get("/api/sources/")

    make_source(weights={operators[0]: 1})
    few = query_count(request)
    for _ in range(10):
        make_source(weights={op: 2 for op in operators})

    assert query_count(request) == few


@pytest.mark.parametrize("source_id", ["999", "-3", "x", str(10**40)])
def test_get_unknown_source_is_a_404(api, source_id):
    response = api.get(f"/api/sources/{source_id}")

    assert response.status_code == 404


def test_set_weights_replaces_the_whole_set(api, make_operator, make_source):
    ann, bob, cleo = make_operator("Ann"), make_operator("Bob"), make_operator("Cleo")
    source = make_source(weights={ann: 1, bob: 1})

    response = api.post(
        f"/api/sources/{source.pk}/weights",
        {"weights": [{"operator_id": bob.pk, "weight": 5}, {"operator_id": cleo.pk, "weight": 2}]},
    )

    assert response.status_code == 200
    assert json_of(response)["weights"] == [
        {"operator_id": bob.pk, "weight": 5},
        {"operator_id": cleo.pk, "weight": 2},
    ]
    assert weights_of(source) == {bob.pk: 5, cleo.pk: 2}


def test_an_empty_weight_set_removes_every_weight(api, make_operator, make_source):
    source = make_source(weights={make_operator(): 1})

    response = api.post(f"/api/sources/{source.pk}/weights", {"weights": []})

    assert response.status_code == 200
    assert json_of(response)["weights"] == []
    assert weights_of(source) == {}


def test_a_new_weight_assigns_queued_contacts(api, make_operator, make_source, register):
    operator = make_operator()
    source = make_source()
    queued = register(source)
    assert queued.operator_id is None

    api.post(
        f"/api/sources/{source.pk}/weights",
        {"weights": [{"operator_id": operator.pk, "weight": 1}]},
    )

    assert Contact.objects.get(pk=queued.pk).operator_id == operator.pk


@pytest.mark.parametrize(
    ("entries", "field"),
    [
        ([("ann", 1), ("ann", 2)], "weights"),
        ([("ann", 1), (999_999, 1)], "weights"),
        ([("ann", 1), ("bob", 0)], "weights.1.weight"),
        ([("ann", 1), ("bob", 1001)], "weights.1.weight"),
        ([("ann", 1), ("bob", "2")], "weights.1.weight"),
        ([("ann", 1), (-4, 1)], "weights.1.operator_id"),
        ([("ann", 1), (2**70, 1)], "weights.1.operator_id"),
    ],
)
def test_a_weight_set_with_one_bad_entry_is_a_422_and_keeps_the_old_set(
    api, make_operator, make_source, entries, field
):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source(weights={ann: 7})
    ids = {"ann": ann.pk, "bob": bob.pk}
    body = {"weights": [{"operator_id": ids.get(op, op), "weight": w} for op, w in entries]}

    response = api.post(f"/api/sources/{source.pk}/weights", body)

    assert response.status_code == 422
    assert field in json_of(response)["errors"]
    assert weights_of(source) == {ann.pk: 7}


@pytest.mark.parametrize(
    "body", [{}, {"weights": None}, {"weights": {"1": 2}}, [{"operator_id": 1, "weight": 1}]]
)
def test_a_weight_body_of_the_wrong_shape_is_a_422(api, make_source, body):
    source = make_source()

    response = api.post(f"/api/sources/{source.pk}/weights", body)

    assert response.status_code == 422
    assert json_of(response)["errors"]


def test_more_weights_than_allowed_are_a_422(api, make_source):
    source = make_source()
    body = {"weights": [{"operator_id": i, "weight": 1} for i in range(1, 1002)]}

    response = api.post(f"/api/sources/{source.pk}/weights", body)

    assert response.status_code == 422
    assert "weights" in json_of(response)["errors"]


def test_set_weights_of_an_unknown_source_is_a_404(api, make_operator):
    operator = make_operator()

    response = api.post(
        "/api/sources/31337/weights", {"weights": [{"operator_id": operator.pk, "weight": 1}]}
    )

    assert response.status_code == 404
    assert not SourceOperatorConfig.objects.exists()


def test_source_names_that_differ_only_in_case_beyond_ascii_are_a_409(api):
    assert api.post("/api/sources/", {"name": "Ärzte"}).status_code == 201

    response = api.post("/api/sources/", {"name": "ärzte"})

    assert response.status_code == 409
    assert Source.objects.count() == 1
