"""The operator role: what an operator's login may open, and where it lands."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, reverse

from distribution import services, urls
from distribution.permissions import is_operator, is_product_user, is_supervisor
from tests.views_support import as_operator

User = get_user_model()

OPEN_TO_ALL = {"healthz"}


def _supervisor_url_names() -> list[str]:
    names = [p.name for p in urls.urlpatterns if isinstance(p, URLPattern) and p.name]
    return [n for n in names if n not in OPEN_TO_ALL and not n.startswith("my")]


def _url(name: str) -> str:
    pattern = next(p for p in urls.urlpatterns if p.name == name)
    # Ids that need not exist: the role is checked before anything is read.
    kwargs = {key: 1 for key in pattern.pattern.converters}
    return reverse(f"distribution:{name}", kwargs=kwargs)


def test_every_page_of_the_app_is_covered_below():
    assert len(_supervisor_url_names()) >= 18
    assert "dashboard" in _supervisor_url_names()


@pytest.fixture
def operator_client(client, make_operator):
    return as_operator(client, make_operator("Ann"))


@pytest.mark.parametrize("name", _supervisor_url_names())
def test_every_supervisor_page_is_403_to_an_operator(operator_client, name):
    url = _url(name)
    response = operator_client.get(url)
    if response.status_code == 405:  # A change: POST only.
        response = operator_client.post(url)
    assert response.status_code == 403, url
    assert b"/my/" in response.content  # The 403 page points the operator to its workspace.


@pytest.mark.parametrize("path", ["/admin/", "/api/docs", "/api/operators/"])
def test_the_admin_and_the_api_are_not_for_operators(operator_client, path):
    assert operator_client.get(path).status_code in {302, 401, 403}
    assert operator_client.get(path).status_code != 200


def test_is_operator_needs_an_active_non_staff_user_linked_to_an_operator(make_operator):
    ann = make_operator("Ann")
    user = User.objects.create_user("ann")
    assert not is_operator(user)
    ann.user = user
    ann.save(update_fields=["user"])
    user = User.objects.get(pk=user.pk)
    assert is_operator(user) and is_product_user(user) and not is_supervisor(user)
    user.is_active = False
    assert not is_operator(user)
    user.is_active, user.is_staff = True, True
    assert not is_operator(user) and is_supervisor(user)


def test_an_operator_logging_in_lands_on_its_workspace(client, make_operator):
    ann = make_operator("Ann")
    services.operator_login_create(
        operator_id=ann.pk, username="ann", password="a-long-pass-phrase"
    )

    response = client.post(
        "/accounts/login/", {"username": "ann", "password": "a-long-pass-phrase"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("distribution:my")


def test_a_supervisor_logging_in_still_lands_on_the_dashboard(client, db):
    User.objects.create_user("boss", password="s3cret-pass-word", is_staff=True)

    response = client.post("/accounts/login/", {"username": "boss", "password": "s3cret-pass-word"})

    assert response["Location"] == reverse("distribution:dashboard")


def test_the_workspace_is_403_to_a_supervisor_and_sends_anonymous_visitors_to_log_in(client, db):
    assert client.get("/my/")["Location"] == "/accounts/login/?next=/my/"
    client.force_login(User.objects.create_user("boss", is_staff=True))
    response = client.get("/my/")
    assert response.status_code == 403
    assert b"for operators" in response.content


def test_an_operator_changes_its_own_password(client, make_operator):
    ann = make_operator("Ann")
    user = services.operator_login_create(
        operator_id=ann.pk, username="ann", password="old-pass-phrase-1"
    )
    client.force_login(user)
    assert b"/accounts/password_change/" in client.get("/my/").content

    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": "old-pass-phrase-1",
            "new_password1": "new-pass-phrase-2",
            "new_password2": "new-pass-phrase-2",
        },
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("new-pass-phrase-2")


def test_a_removed_login_ends_the_operators_session(client, make_operator):
    ann = make_operator("Ann")
    user = services.operator_login_create(
        operator_id=ann.pk, username="ann", password="a-long-pass-phrase"
    )
    client.force_login(user)
    services.operator_login_remove(operator_id=ann.pk)

    assert client.get("/my/")["Location"] == "/accounts/login/?next=/my/"
