"""What the tests of the supervisors' pages share: logging in, htmx headers, a query counter.

Each test module defines its own small fixtures from these helpers (as the API tests do).
"""

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

HTMX = {"HTTP_HX_REQUEST": "true"}


def as_supervisor(client: Client, username: str = "boss") -> Client:
    user = get_user_model().objects.create_user(username, password="unused-pass-1", is_staff=True)
    # force_login: django-axes refuses client.login(), which has no request to check.
    client.force_login(user)
    return client


def as_clerk(client: Client) -> Client:
    """Logged in as a user who is not a supervisor (not staff)."""
    clerk = get_user_model().objects.create_user("clerk", password="unused-pass-2")
    client.force_login(clerk)
    return client


def queries_for(request: Callable[[], object]) -> int:
    """How many SQL queries one request issues."""
    with CaptureQueriesContext(connection) as captured:
        response = request()
    assert response.status_code == 200
    return len(captured)


def is_fragment(response) -> bool:
    """An htmx fragment: no page around it."""
    html = response.content.decode()
    return "<html" not in html and "<body" not in html


def as_operator(client: Client, operator, username: str = "op") -> Client:
    """Logged in as the login of `operator` (a user linked to it, not staff)."""
    user = get_user_model().objects.create_user(username, password="unused-pass-3")
    operator.user = user
    operator.save(update_fields=["user"])
    client.force_login(user)
    return client
