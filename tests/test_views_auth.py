"""Who may see the supervisors' pages, logging in and out, and what every page promises."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from pytest_django.asserts import assertContains

from distribution.models import Contact, Operator
from tests.views_support import HTMX, as_clerk, as_supervisor

PAGES = [
    "/",
    "/operators/",
    "/sources/",
    "/contacts/",
    "/contacts/new/",
    "/leads/",
]
POST_ONLY = [
    ("distribution:operator_create", {}),
    ("distribution:operator_set_active", {"operator_id": 1}),
    ("distribution:operator_set_limit", {"operator_id": 1}),
    ("distribution:operator_rename", {"operator_id": 1}),
    ("distribution:source_create", {}),
    ("distribution:source_rename", {"source_id": 1}),
    ("distribution:source_weight_set", {"source_id": 1}),
    ("distribution:source_weight_remove", {"source_id": 1, "operator_id": 1}),
    ("distribution:contact_close", {"contact_id": 1}),
    ("distribution:contact_reassign", {"contact_id": 1}),
]


@pytest.fixture
def supervisor_client(client, db):
    return as_supervisor(client)


@pytest.fixture
def clerk_client(client, db):
    return as_clerk(client)


@pytest.fixture
def world(make_operator, make_source, register):
    """One of everything, so that detail pages have something to show."""
    operator = make_operator("Ann")
    source = make_source("Bot", weights={operator: 1})
    contact = register(source, "x@example.com")
    return {
        "pages": [
            *PAGES,
            f"/sources/{source.pk}/",
            f"/leads/{contact.lead_id}/",
        ],
        "operator": operator,
        "source": source,
        "contact": contact,
    }


def test_anonymous_visitor_is_sent_to_login_with_next(client, world):
    for path in world["pages"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == f"/accounts/login/?next={path}"


def test_anonymous_htmx_request_redirects_the_whole_window(client, world):
    response = client.get(
        "/contacts/", HTTP_HX_CURRENT_URL="http://testserver/contacts/?page=2", **HTMX
    )
    assert response["HX-Redirect"] == "/accounts/login/?next=/contacts/%3Fpage%3D2"


def test_logged_in_non_supervisor_gets_403(clerk_client, world):
    for path in world["pages"]:
        response = clerk_client.get(path)
        assert response.status_code == 403, path
        assert b"supervisors only" in response.content


def test_inactive_staff_user_is_treated_as_anonymous(client, world):
    user = get_user_model().objects.create_user("gone", is_staff=True, is_active=False)
    client.force_login(user)
    assert client.get("/").status_code == 302


def test_supervisor_sees_every_page(supervisor_client, world):
    for path in world["pages"]:
        response = supervisor_client.get(path)
        assert response.status_code == 200, path
        assert b'name="htmx-config"' in response.content


def test_changes_are_refused_on_get(supervisor_client, world):
    for name, kwargs in POST_ONLY:
        response = supervisor_client.get(reverse(name, kwargs=kwargs))
        assert response.status_code == 405, name


def test_anonymous_post_changes_nothing(client, world):
    operator, contact = world["operator"], world["contact"]
    response = client.post(
        reverse("distribution:operator_set_active", args=[operator.pk]), {"is_active": "false"}
    )
    assert response.status_code == 302
    client.post(reverse("distribution:contact_close", args=[contact.pk]))
    assert Operator.objects.get(pk=operator.pk).is_active
    assert Contact.objects.get(pk=contact.pk).status == Contact.Status.OPEN


def test_non_supervisor_post_is_refused_and_changes_nothing(clerk_client, world):
    operator = world["operator"]
    response = clerk_client.post(
        reverse("distribution:operator_set_limit", args=[operator.pk]), {"workload_limit": 99}
    )
    assert response.status_code == 403
    assert Operator.objects.get(pk=operator.pk).workload_limit == 10


def test_login_form_has_labels_and_logs_a_supervisor_in(client, db):
    get_user_model().objects.create_user("boss", password="s3cret-pass-word", is_staff=True)
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assertContains(page, '<label for="id_username">Username</label>', html=True)
    assertContains(page, '<label for="id_password">Password</label>', html=True)
    response = client.post(
        "/accounts/login/", {"username": "boss", "password": "s3cret-pass-word", "next": "/leads/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/leads/"
    assert client.get("/leads/").status_code == 200


def test_wrong_password_shows_an_error_on_the_login_page(client, db):
    get_user_model().objects.create_user("boss", password="s3cret-pass-word", is_staff=True)
    response = client.post("/accounts/login/", {"username": "boss", "password": "nope"})
    assert response.status_code == 200
    assert b"correct username and password" in response.content
    assert client.get("/").status_code == 302


def test_logout_is_a_post_form(supervisor_client, world):
    page = supervisor_client.get("/").content.decode()
    assert re.search(r'<form class="logout" method="post" action="/accounts/logout/">', page)


def test_pages_carry_csrf_for_htmx_and_no_inline_code(supervisor_client, world):
    for path in world["pages"]:
        html = supervisor_client.get(path).content.decode()
        assert re.search(r'<body hx-headers=\'\{"X-CSRFToken": "[^"]+"\}\'>', html), path
        assert "style=" not in html, path
        assert not re.search(r"<[^>]*\son[a-z]+=", html), path
        scripts = re.findall(r"<script([^>]*)>", html)
        assert scripts and all("src=" in attrs for attrs in scripts), path


def test_logout_by_get_asks_to_confirm_and_keeps_the_session(supervisor_client, world):
    page = supervisor_client.get("/accounts/logout/")

    assert page.status_code == 200
    assert 'method="post" action="/accounts/logout/"' in page.content.decode()
    assert supervisor_client.get("/").status_code == 200


def test_logout_by_post_ends_the_session(supervisor_client, world):
    response = supervisor_client.post("/accounts/logout/")

    assert response.status_code == 302
    assert supervisor_client.get("/").status_code == 302


@pytest.mark.parametrize(
    "path", ["/", "/operators/", "/sources/", "/contacts/", "/contacts/new/", "/leads/"]
)
def test_pages_that_show_data_are_never_stored_by_caches(client, db, path):
    as_supervisor(client)

    response = client.get(path)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
