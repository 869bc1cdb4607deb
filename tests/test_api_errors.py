"""What the API answers around its endpoints: unknown paths, wrong methods, the error shape."""

import pytest

from distribution.models import Operator
from tests.api_support import ApiClient, json_of


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
