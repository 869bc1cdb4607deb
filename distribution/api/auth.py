"""
Who may call the API: a bot with a bearer token, or a supervisor with its session.

Bearer requests need no CSRF token: a browser never adds an Authorization header on
its own, so a forged cross-site request cannot carry one. Session requests can be
forged that way, so an unsafe method with a session must pass Django's CSRF check.
A request with a bearer header never reaches the session: crm/middleware.py skips the
session and login for it, so its request.user is anonymous.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja.errors import HttpError
from ninja.openapi.views import openapi_json
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from distribution.auth_tokens import api_token_authenticate, bearer_secret
from distribution.models import ApiToken
from distribution.permissions import is_supervisor, supervisor_required

from .errors import unauthorized

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


class BearerToken(HttpBearer):
    """`Authorization: Bearer <secret>` with a live (not revoked) API token."""

    def __call__(self, request: HttpRequest) -> ApiToken | None:
        # Ninja's version logs a header with another scheme in DEBUG, which could write
        # someone's Basic credentials to the log; this one only reads it.
        secret = bearer_secret(request)
        if secret is None:
            return None
        return self.authenticate(request, secret)

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return api_token_authenticate(token)


class SupervisorSession(APIKeyCookie):
    """The session of a logged-in supervisor, as on the web pages (for /api/docs)."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        # csrf=True also makes the docs page send the CSRF token with its requests.
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        # Unlike ninja's SessionAuth, check CSRF only once we know a supervisor is
        # there: a bot with a wrong token must get 401, not a CSRF 403.
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if not is_supervisor(request.user):
            return None
        if request.method not in SAFE_METHODS and check_csrf(request):
            raise HttpError(403, "CSRF check failed: send the X-CSRFToken header.")
        return request.user


bearer_token = BearerToken()
supervisor_session = SupervisorSession()
API_AUTH = [bearer_token, supervisor_session]


def _is_authenticated(request: HttpRequest) -> bool:
    return bool(bearer_token(request)) or is_supervisor(request.user)


def docs_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The OpenAPI document needs API credentials; the docs page is a supervisors' page."""
    if getattr(view, "func", None) is not openapi_json:
        return supervisor_required(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _is_authenticated(request):
            return unauthorized(request)
        return view(request, *args, **kwargs)

    return wrapper
