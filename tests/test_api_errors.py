"""What the API answers around its endpoints: unknown paths, wrong methods, the error shape."""

import pytest
from django.test import Client

from distribution.models import Contact, Operator
from tests.api_support import ApiClient, json_of
from tests.views_support import as_supervisor


@pytest.fixture
def api(client, db) -> ApiClient:
    return ApiClient(client)


@pytest.mark.parametrize("path", ["/api/", "/api/nothing", "/api/operators/1/extra"])
def test_an_unknown_path_is_a_json_404(api, path):
    response = api.get(path)

    assert response.status_code == 404
    assert "/api/docs" in json_of(response)["detail"]


def test_a_post_without_the_trailing_slash_is_a_404_that_names_the_right_path(api):
    response = api.post("/api/operators", {"name": "Ann"})

    assert response.status_code == 404
    assert "/api/operators/" in json_of(response)["detail"]
    assert not Operator.objects.exists()


def test_an_id_path_with_a_trailing_slash_is_a_404_that_names_the_right_path(api, make_operator):
    operator = make_operator()

    response = api.get(f"/api/operators/{operator.pk}/")

    assert response.status_code == 404
    assert f"/api/operators/{operator.pk}?" in json_of(response)["detail"]


def test_a_method_the_path_does_not_serve_is_a_json_405_with_allow(api, make_operator):
    operator = make_operator()

    response = api.client.delete(f"/api/operators/{operator.pk}", headers=api.headers)

    assert response.status_code == 405
    assert set(response["Allow"].split(", ")) == {"GET", "PATCH"}
    assert response["Allow"] in json_of(response)["detail"]
    assert Operator.objects.filter(pk=operator.pk).exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/operators/"),
        ("patch", "/api/operators/OPERATOR"),
        ("post", "/api/sources/"),
        ("post", "/api/sources/SOURCE/weights"),
        ("post", "/api/contacts/"),
    ],
)
def test_every_body_that_is_not_json_is_a_422_naming_the_body(
    api, make_operator, make_source, method, path
):
    path = path.replace("OPERATOR", str(make_operator().pk))
    path = path.replace("SOURCE", str(make_source().pk))

    response = getattr(api, method)(path, raw=b"\xff{not json")

    assert response.status_code == 422
    body = json_of(response)
    assert set(body) == {"detail", "errors"}
    assert list(body["errors"]) == ["body"]


@pytest.fixture
def csrf_api(db) -> ApiClient:
    """A client that checks CSRF as browsers' requests are checked in production."""
    return ApiClient(Client(enforce_csrf_checks=True))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/operators"),
        ("post", "/api/"),
        ("delete", "/api/operators/1/"),
        ("put", "/api/nothing"),
    ],
)
def test_an_unsafe_request_to_an_unknown_path_is_a_json_404_not_a_csrf_page(csrf_api, method, path):
    response = getattr(csrf_api.client, method)(
        path, "{}", content_type="application/json", headers=csrf_api.headers
    )

    assert response.status_code == 404
    assert "detail" in json_of(response)
    assert not Operator.objects.exists()


def test_a_supervisor_session_without_csrf_on_an_unknown_path_gets_json(db):
    client = Client(enforce_csrf_checks=True)
    as_supervisor(client)

    response = client.post("/api/operators", "{}", content_type="application/json")

    assert response.status_code in {403, 404}
    assert "detail" in json_of(response)


def _typos(pk: int) -> list[str]:
    text = str(pk)
    return [f"{text[0]}_{text[1:]}", f"0{text}", f"%2B{text}", f"%20{text}", f"{text}.0"]


@pytest.fixture
def eleven_contacts(make_operator, make_source, register) -> list[Contact]:
    source = make_source(weights={make_operator(limit=100): 1})
    return [register(source) for _ in range(11)]


@pytest.mark.parametrize("typo", range(5))
def test_a_non_canonical_path_id_acts_on_no_record(api, eleven_contacts, typo):
    target = eleven_contacts[-1]
    path_id = _typos(target.pk)[typo]

    response = api.post(f"/api/contacts/{path_id}/close")

    assert response.status_code in {404, 422}
    assert "detail" in json_of(response)
    assert not Contact.objects.filter(status=Contact.Status.CLOSED).exists()


@pytest.mark.parametrize("path_id", ["1_0", "01", "%2B1", "%201", "1.0", "%D9%A1", "%C2%B2"])
def test_a_non_canonical_path_id_reads_no_record(api, make_operator, path_id):
    make_operator()

    response = api.get(f"/api/operators/{path_id}")

    assert response.status_code in {404, 422}
    assert "detail" in json_of(response)


@pytest.mark.parametrize(
    "query", ["source_id=1_1", "operator_id=0_1", "source_id=%D9%A1", "limit=1_0", "offset=%2B1"]
)
def test_a_non_canonical_number_in_the_query_is_a_422(api, eleven_contacts, query):
    response = api.client.get(f"/api/contacts/?{query}", headers=api.headers)

    assert response.status_code == 422
    assert "errors" in json_of(response)


@pytest.mark.parametrize("path", ["/api/operators/", "/api/operators/OPERATOR", "/api/stats/"])
def test_head_on_a_get_endpoint_answers_like_get_without_a_body(api, make_operator, path):
    path = path.replace("OPERATOR", str(make_operator().pk))

    response = api.client.head(path, headers=api.headers)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.content == b""


def test_head_needs_a_token_like_get(client, db):
    response = client.head("/api/operators/")

    assert response.status_code == 401


def test_head_where_get_is_not_served_is_a_405(api, make_operator, make_source, register):
    contact = register(make_source(weights={make_operator(): 1}))

    response = api.client.head(f"/api/contacts/{contact.pk}/close", headers=api.headers)

    assert response.status_code == 405
    assert Contact.objects.get(pk=contact.pk).is_open


@pytest.mark.parametrize("path", ["/api/operators/", "/api/stats/", "/api/nothing"])
def test_api_answers_are_never_stored_by_caches(api, path):
    response = api.get(path)

    assert "no-store" in response["Cache-Control"]


def test_an_unauthenticated_api_answer_is_not_stored_either(client, db):
    assert "no-store" in client.get("/api/operators/")["Cache-Control"]
