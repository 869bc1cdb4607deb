import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from distribution.auth_tokens import api_token_create, hash_secret
from distribution.models import ApiToken, Operator
from tests.api_support import ApiClient, json_of


@pytest.fixture
def supervisor(db):
    return get_user_model().objects.create_user("boss", is_staff=True)


@pytest.fixture
def clerk(db):
    return get_user_model().objects.create_user("clerk")


def test_a_valid_token_is_let_in(client, db):
    response = ApiClient(client).get("/api/operators/")

    assert response.status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer crm_not-a-real-token",
        "Basic dXNlcjpwYXNz",
        "Token SECRET",
        "SECRET",
        "Bearer SECRETx",
        "Bearer " + "a" * 10_000,
        "Bearer \x7f\x01",
    ],
)
def test_a_missing_or_wrong_token_is_a_json_401(client, db, header):
    _token, secret = api_token_create(name="bot")
    headers = {} if header is None else {"Authorization": header.replace("SECRET", secret)}

    response = client.get("/api/operators/", headers=headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Bearer" in json_of(response)["detail"]


def test_a_write_with_a_wrong_token_is_a_401_and_changes_nothing(client, db):
    response = ApiClient(client, secret="crm_wrong").post("/api/operators/", {"name": "Ann"})

    assert response.status_code == 401
    assert not Operator.objects.exists()


def test_a_revoked_token_is_a_401(client, db):
    token, secret = api_token_create(name="old bot")
    api = ApiClient(client, secret)
    assert api.get("/api/stats/").status_code == 200

    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())

    assert api.get("/api/stats/").status_code == 401


def test_the_secret_is_stored_only_as_a_hash(db):
    token, secret = api_token_create(name="bot")

    stored = ApiToken.objects.filter(pk=token.pk).values()[0]
    assert secret not in {str(value) for value in stored.values()}
    assert token.token_hash == hash_secret(secret)


def test_a_call_marks_the_token_as_used(client, db):
    token, secret = api_token_create(name="bot")
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(days=1))

    ApiClient(client, secret).get("/api/stats/")

    token.refresh_from_db()
    assert timezone.now() - token.last_used_at < timedelta(minutes=1)


def test_the_token_printed_by_create_api_token_opens_the_api(client, db):
    out = StringIO()

    call_command("create_api_token", "telegram-bot", stdout=out)

    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert ApiToken.objects.get().name == "telegram-bot"
    assert ApiClient(client, lines[0]).get("/api/operators/").status_code == 200


def test_a_supervisor_session_may_read_the_api(client, supervisor):
    client.force_login(supervisor)

    assert client.get("/api/operators/").status_code == 200


def test_a_session_of_a_non_supervisor_is_a_401(client, clerk):
    client.force_login(clerk)

    assert client.get("/api/operators/").status_code == 401


def test_a_session_write_without_the_csrf_token_is_a_403(supervisor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)

    response = client.post("/api/operators/", {"name": "Ann"}, content_type="application/json")

    assert response.status_code == 403
    assert "CSRF" in json_of(response)["detail"]
    assert not Operator.objects.exists()


def test_a_session_write_with_the_csrf_token_is_accepted(supervisor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)
    client.get("/api/docs")  # The docs page hands out the CSRF cookie.

    response = client.post(
        "/api/operators/",
        {"name": "Ann"},
        content_type="application/json",
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )

    assert response.status_code == 201


def test_a_bearer_write_needs_no_csrf_token(db):
    client = Client(enforce_csrf_checks=True)

    response = ApiClient(client).post("/api/operators/", {"name": "Ann"})

    assert response.status_code == 201


def test_the_openapi_document_needs_credentials(client, db):
    response = client.get("/api/openapi.json")

    assert response.status_code == 401
    assert "detail" in json_of(response)


def test_the_openapi_document_is_served_to_a_token_and_to_a_supervisor(client, supervisor):
    with_token = ApiClient(Client()).get("/api/openapi.json")
    client.force_login(supervisor)
    with_session = client.get("/api/openapi.json")

    assert with_token.status_code == with_session.status_code == 200
    assert json_of(with_token)["paths"] == json_of(with_session)["paths"]


def test_the_docs_page_sends_anonymous_visitors_to_the_login_page(client, db):
    response = client.get("/api/docs")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_docs_page_is_forbidden_to_non_supervisors(client, clerk):
    client.force_login(clerk)

    assert client.get("/api/docs").status_code == 403


def test_the_docs_page_loads_only_local_assets_and_no_inline_code(client, supervisor):
    client.force_login(supervisor)

    response = client.get("/api/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(asset.endswith(".js") for asset in assets)
    assert all(asset.startswith("/static/") for asset in assets)
    # Under the CSP (script-src 'self', style-src 'self') only external scripts run;
    # a JSON data block is not a script.
    for attributes, _content in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
        assert "src=" in attributes or 'type="application/json"' in attributes
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_every_operation_documents_401_and_each_error_it_can_answer(client, db):
    document = json_of(ApiClient(client).get("/api/openapi.json"))

    operations = [
        (path, method, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    # With POST /api/contacts/{id}/reopen and POST /api/sources/{id}/route-preview.
    assert len(operations) == 23
    for path, method, operation in operations:
        codes = set(operation["responses"])
        assert "401" in codes, (method, path)
        if "{" in path:
            assert "404" in codes, (method, path)
        if method in {"post", "patch", "put"}:
            assert {"403", "413", "422"} <= codes, (method, path)
        if path in {"/api/operators/", "/api/sources/"} and method == "post":
            assert "409" in codes
        assert operation["security"] == [{"BearerToken": []}, {"SupervisorSession": []}]
    schemes = document["components"]["securitySchemes"]
    assert schemes["BearerToken"] == {"type": "http", "scheme": "bearer"}
