"""What a bearer-token API request goes through (crm/middleware.py, auth_tokens.py): the
security headers and JSON errors stay, the page machinery (session, CSRF cookie, login,
messages) is skipped, and the token costs one indexed query."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from distribution import selectors, services
from distribution.api.prepared import PreparedGet
from distribution.auth_tokens import api_token_create
from distribution.models import ApiToken, Contact, Operator
from tests.api_support import ApiClient, json_of, query_count


@pytest.fixture
def supervisor(db):
    return get_user_model().objects.create_user("boss", is_staff=True)


def _captured(request) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = request()
    return response, [query["sql"] for query in queries.captured_queries]


def test_a_single_object_get_costs_the_token_and_the_object(client, make_operator):
    operator = make_operator("Ann")
    api = ApiClient(client)

    assert query_count(lambda: api.get(f"/api/operators/{operator.pk}")) == 2


def test_a_registration_adds_only_the_token_lookup_to_its_own_queries(
    client, make_operator, make_source
):
    source = make_source(weights={make_operator("Ann"): 1})
    api = ApiClient(client)
    api.get("/api/stats/")  # The token's first call of the minute also writes last_used_at.
    with CaptureQueriesContext(connection) as own:
        services.contact_register(lead_identifier="first@example.com", source_id=source.pk)

    response, queries = _captured(
        lambda: api.post(
            "/api/contacts/", {"lead_identifier": "second@example.com", "source_id": source.pk}
        )
    )

    assert response.status_code == 201
    assert len(queries) == len(own) + 1
    assert "distribution_apitoken" in queries[0]


def test_the_token_is_marked_used_at_most_once_a_minute(client, db):
    token, secret = api_token_create(name="bot")
    api = ApiClient(client, secret)
    api.get("/api/stats/")
    token.refresh_from_db()
    first_use = token.last_used_at

    _response, queries = _captured(lambda: api.get("/api/stats/"))

    token.refresh_from_db()
    assert token.last_used_at == first_use
    assert not [sql for sql in queries if sql.startswith("UPDATE")]
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first_use - timedelta(minutes=2))
    api.get("/api/stats/")
    token.refresh_from_db()
    assert timezone.now() - token.last_used_at < timedelta(minutes=1)


def test_a_token_request_reads_and_writes_no_session_and_sets_no_cookie(client, supervisor):
    # Even with a logged-in supervisor's cookie beside the token, the session is not read.
    client.force_login(supervisor)
    api = ApiClient(client)
    api.get("/api/operators/")

    response, queries = _captured(lambda: api.post("/api/operators/", {"name": "Ann"}))

    assert response.status_code == 201
    assert not [sql for sql in queries if "django_session" in sql]
    assert response.cookies == {}
    assert Operator.objects.get().name == "Ann"


def test_a_bearer_request_is_judged_by_its_token_alone(supervisor):
    # A wrong token is a 401 even when the same client holds a supervisor's session: the
    # session does not stand in for a token that failed.
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)

    response = ApiClient(client, secret="crm_wrong").get("/api/operators/")

    assert response.status_code == 401
    assert "Bearer" in json_of(response)["detail"]


def test_a_session_write_without_csrf_is_still_refused_beside_the_fast_path(supervisor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)

    response = client.post(
        "/api/contacts/", {"lead_identifier": "x@example.com", "source_id": 1}, "application/json"
    )

    assert response.status_code == 403
    assert "CSRF" in json_of(response)["detail"]
    assert not Contact.objects.exists()


SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("get", "/api/operators/", None, 200),
        ("post", "/api/operators/", {"name": "Ann"}, 201),
        ("get", "/api/operators/999", None, 404),
        ("post", "/api/operators/", {"name": 5}, 422),
        ("get", "/api/nowhere", None, 404),
    ],
)
def test_token_answers_keep_the_security_headers_and_json_errors(
    client, db, method, path, body, status
):
    api = ApiClient(client)
    send = api.get if method == "get" else api.post

    response = send(path, body) if body is not None else send(path)

    assert response.status_code == status
    json_of(response)
    for header, value in SECURITY_HEADERS.items():
        assert response[header] == value
    assert "no-store" in response["Cache-Control"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_a_failed_token_answer_keeps_the_security_headers(client, db):
    response = ApiClient(client, secret="crm_wrong").get("/api/operators/")

    assert response.status_code == 401
    for header, value in SECURITY_HEADERS.items():
        assert response[header] == value
    assert "no-store" in response["Cache-Control"]


def test_token_answers_over_https_carry_hsts(client, db, settings):
    settings.SECURE_HSTS_SECONDS = 3600

    response = client.get(
        "/api/operators/",
        headers={"Authorization": f"Bearer {api_token_create(name='bot')[1]}"},
        secure=True,
    )

    assert response.status_code == 200
    assert response["Strict-Transport-Security"].startswith("max-age=3600")


def test_the_docs_page_with_a_token_still_wants_a_supervisor_login(client, db):
    response = ApiClient(client).get("/api/docs")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_token_request_with_a_disallowed_host_is_refused(client, db):
    api = ApiClient(client)

    response = client.get("/api/operators/", headers={**api.headers, "Host": "evil.example"})

    assert response.status_code == 400


def test_the_one_operator_get_answers_what_the_list_says(client, make_operator, make_source):
    # The GET runs SQL prepared once from the list's queryset (distribution/api/prepared.py):
    # an operator with a login (whose user row the list joins), an inactive one and one
    # with open contacts each read the same as in the list.
    ann, bob = make_operator("Ann", limit=3), make_operator("Bob", active=False)
    services.operator_login_create(operator_id=ann.pk, username="ann", password="x" * 20)
    source = make_source(weights={ann: 1})
    services.contact_register(lead_identifier="a@example.com", source_id=source.pk)
    api = ApiClient(client)
    listed = {item["id"]: item for item in json_of(api.get("/api/operators/"))["items"]}

    for operator in (ann, bob):
        assert json_of(api.get(f"/api/operators/{operator.pk}")) == listed[operator.pk]
    assert listed[ann.pk]["open_contacts"] == 1
    assert listed[bob.pk]["is_active"] is False
    assert api.get(f"/api/operators/{bob.pk + 100}").status_code == 404


def test_a_queryset_that_depends_on_the_moment_is_not_prepared(make_operator):
    ann = make_operator("Ann")
    # Its SQL binds a new time at every build, so a frozen copy would be wrong.
    made_before_now = PreparedGet(lambda: Operator.objects.filter(created_at__lte=timezone.now()))

    assert made_before_now.get(ann.pk) == ann
    assert made_before_now._compiled[connection.vendor] is None
    with pytest.raises(Operator.DoesNotExist):
        made_before_now.get(ann.pk + 1)


def test_a_prepared_get_binds_the_id_it_is_given(make_operator):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    by_id = PreparedGet(lambda: Operator.objects.filter(is_active=True))

    assert [by_id.get(ann.pk).name, by_id.get(bob.pk).name] == ["Ann", "Bob"]
    assert by_id._compiled[connection.vendor] is not None
    with pytest.raises(Operator.DoesNotExist):
        by_id.get(bob.pk + 1)


def test_a_prepared_get_types_fields_and_annotations_as_the_orm_does(make_operator, make_source):
    # Datetimes come back aware, the load as a number, like the queryset's own .get().
    ann = make_operator("Ann", limit=3)
    Operator.objects.filter(pk=ann.pk).update(shift_changes_at=timezone.now() + timedelta(days=1))
    services.contact_register(
        lead_identifier="a@example.com", source_id=make_source(weights={ann: 1}).pk
    )
    by_id = PreparedGet(selectors.operator_list)

    prepared, built = by_id.get(ann.pk), selectors.operator_list().get(pk=ann.pk)

    assert by_id._compiled[connection.vendor] is not None
    fields = [f.attname for f in Operator._meta.concrete_fields]
    assert [getattr(prepared, f) for f in fields] == [getattr(built, f) for f in fields]
    assert prepared.shift_changes_at.tzinfo is not None and prepared.created_at.tzinfo is not None
    assert (prepared.open_contacts, built.open_contacts) == (1, 1)
    assert prepared._state.adding is False and prepared._state.db == connection.alias
