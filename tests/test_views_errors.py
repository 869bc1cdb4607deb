"""The error pages (403, 404, 500), the favicon, the logged-out message, the skip link, and the
links to the admin and the API docs that only supervisors get."""

import pytest
from django.contrib.staticfiles import finders
from django.test import Client, RequestFactory
from pytest_django.asserts import assertContains, assertNotContains

from distribution import selectors
from distribution.views import errors
from tests.views_support import as_operator, as_supervisor

MAIN_NAV = '<nav class="mainnav" aria-label="Main">'
ADMIN_LINK = '<a class="nav-aux" href="/admin/">Admin</a>'
DOCS_LINK = '<a class="nav-aux" href="/api/docs">API docs</a>'
SKIP_LINK = '<a class="skip-link" href="#main">Skip to content</a>'


@pytest.fixture
def operator_client(client, make_operator):
    return as_operator(client, make_operator("Ann"))


def test_an_unknown_page_is_a_404_with_the_supervisors_navigation(client, db):
    response = as_supervisor(client).get("/no-such-page/")

    assertContains(response, "Page not found", status_code=404)
    assertContains(response, MAIN_NAV, status_code=404)
    assertContains(response, '<a class="btn" href="/">Dashboard</a>', status_code=404, html=True)


def test_an_unknown_page_is_a_404_with_the_operators_navigation(operator_client):
    response = operator_client.get("/no-such-page/")

    assertContains(response, MAIN_NAV, status_code=404)
    assertContains(response, '<a class="btn" href="/my/">My work</a>', status_code=404, html=True)
    assertNotContains(response, "Dashboard", status_code=404)


def test_an_unknown_page_offers_a_stranger_the_login(client, db):
    response = client.get("/no-such-page/")

    assertContains(
        response, '<a class="btn" href="/accounts/login/">Log in</a>', status_code=404, html=True
    )
    assertNotContains(response, MAIN_NAV, status_code=404)


def test_an_unknown_id_is_the_styled_404(client, db):
    response = as_supervisor(client).get("/leads/987654/")

    assertContains(response, "Page not found", status_code=404)


def test_an_unknown_api_path_stays_json(client, db):
    response = client.get("/api/no-such-thing/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


def test_a_refused_page_is_a_403_with_the_navigation(operator_client):
    response = operator_client.get("/operators/")

    assertContains(response, "Not allowed", status_code=403)
    assertContains(response, MAIN_NAV, status_code=403)
    assertContains(response, SKIP_LINK, status_code=403, html=True)


def test_the_500_page_renders_without_the_database():
    # No `db` fixture: pytest-django fails any query this test makes.
    request = RequestFactory().get("/operators/")

    response = errors.server_error(request)

    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html
    assert MAIN_NAV in html and SKIP_LINK in html
    assert 'href="/static/css/app.css"' in html


def test_a_crash_shows_the_500_page(client, db, monkeypatch):
    def crash(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "lead_list", crash)
    as_supervisor(client)
    client.raise_request_exception = False

    response = client.get("/leads/")

    assertContains(response, "Something went wrong", status_code=500)
    assertContains(response, MAIN_NAV, status_code=500)


def test_a_crash_under_the_api_stays_json():
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        response = errors.server_error(RequestFactory().get("/api/leads/"))

    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.content == b'{"detail": "Internal server error."}'


def test_the_favicon_is_an_svg_and_favicon_ico_leads_to_it(client, db):
    page = client.get("/accounts/login/")
    ico = client.get("/favicon.ico")

    assertContains(
        page, '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">', html=True
    )
    assert ico.status_code == 302
    assert ico["Location"] == "/static/favicon.svg"
    assert finders.find("favicon.svg")


def test_logging_out_says_so_on_the_login_page(client, db):
    as_supervisor(client)

    response = client.post("/accounts/logout/", follow=True)

    assert response.redirect_chain == [("/accounts/login/", 302)]
    assertContains(response, "You have been logged out.")
    # Once: the message does not come back on the next page.
    assertNotContains(client.get("/accounts/login/"), "You have been logged out.")


def test_supervisors_get_links_to_the_admin_and_the_api_docs(client, db):
    response = as_supervisor(client).get("/")

    assertContains(response, ADMIN_LINK, html=True)
    assertContains(response, DOCS_LINK, html=True)


def test_operators_and_strangers_get_no_admin_or_api_docs_links(operator_client):
    workspace = operator_client.get("/my/")
    login = Client().get("/accounts/login/")

    for response in (workspace, login):
        assertNotContains(response, 'href="/admin/"')
        assertNotContains(response, 'href="/api/docs"')


def test_every_page_starts_with_the_skip_link_to_main(client, db):
    html = as_supervisor(client).get("/operators/").content.decode()

    body = html[html.index("<body") :]
    first_link = body.index("<a ")
    assert body[first_link:].startswith(SKIP_LINK)
    assert '<main class="content" id="main" tabindex="-1">' in html
