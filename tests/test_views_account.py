"""The account pages: only those the product uses, for those who use the product."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache

from tests.views_support import as_clerk, as_supervisor

RESET_PATHS = [
    "/accounts/password_reset/",
    "/accounts/password_reset/done/",
    "/accounts/reset/MQ/set-password/",
    "/accounts/reset/done/",
]


@pytest.mark.parametrize("path", RESET_PATHS)
def test_password_reset_is_not_served_without_e_mail(client, db, path):
    get_user_model().objects.create_user("boss", "boss@example.com", "pw-1-abcdef", is_staff=True)

    assert client.get(path).status_code == 404
    assert client.post(path, {"email": "boss@example.com"}).status_code == 404
    assert mail.outbox == []


@pytest.mark.parametrize("path", ["/accounts/password_change/", "/accounts/password_change/done/"])
def test_password_change_is_refused_to_a_user_who_is_not_a_supervisor(client, db, path):
    as_clerk(client)

    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/accounts/password_change/", "/accounts/password_change/done/"])
def test_password_change_sends_an_anonymous_visitor_to_log_in(client, db, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_supervisor_changes_its_password(client, db):
    user = get_user_model().objects.create_user("boss", password="old-pass-word-1", is_staff=True)
    client.force_login(user)

    assert client.get("/accounts/password_change/").status_code == 200
    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": "old-pass-word-1",
            "new_password1": "new-pass-word-2",
            "new_password2": "new-pass-word-2",
        },
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("new-pass-word-2")


@pytest.fixture
def e_mail_configured(settings):
    cache.clear()  # The reset throttle counts in the cache.
    settings.PASSWORD_RESET_BY_EMAIL = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_with_e_mail_a_supervisor_can_ask_for_a_reset_link(client, db, e_mail_configured):
    get_user_model().objects.create_user("boss", "boss@example.com", "pw-1-abcdef", is_staff=True)

    response = client.post("/accounts/password_reset/", {"email": "boss@example.com"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1


def test_reset_requests_are_throttled_per_client(client, db, e_mail_configured, settings):
    get_user_model().objects.create_user("boss", "boss@example.com", "pw-1-abcdef", is_staff=True)
    limit = settings.PASSWORD_RESET_RATE

    answers = [
        client.post("/accounts/password_reset/", {"email": "boss@example.com"}).status_code
        for _ in range(limit + 2)
    ]

    assert answers[:limit] == [302] * limit
    assert answers[limit:] == [429, 429]
    assert len(mail.outbox) == limit


def test_the_supervisor_page_links_to_the_password_change(client, db):
    as_supervisor(client)

    assert b'href="/accounts/password_change/"' in client.get("/").content
