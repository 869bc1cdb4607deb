"""Project-wide response headers, and the page machinery that API token calls skip."""

from collections.abc import Callable
from typing import Any

from django.contrib.auth import middleware as auth_middleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import middleware as messages_middleware
from django.contrib.sessions import middleware as sessions_middleware
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from distribution.auth_tokens import bearer_secret

# Where crm/urls.py mounts the JSON API.
API_PREFIX = "/api/"


class NeverCacheMiddleware:
    """Every answer of the app (pages, fragments, the API) is `Cache-Control: no-store, private`.

    They show customers' identifiers and messages to one logged-in user or token; no
    browser or proxy cache should keep them. Static files are answered by WhiteNoise
    before this middleware runs, and keep their long cache headers.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


def is_token_call(request: HttpRequest) -> bool:
    """An API request that carries `Authorization: Bearer ...`: its token alone decides
    who it is, so it needs no session, no logged-in user and no messages.

    The answer is kept on the request: each of the middleware below asks.
    """
    answer = getattr(request, "_crm_token_call", None)
    if answer is None:
        answer = request.path_info.startswith(API_PREFIX) and bearer_secret(request) is not None
        request._crm_token_call = answer  # type: ignore[attr-defined]
    return answer


class PagesOnly:
    """A middleware that API token calls go around.

    Mixed into Django's session, authentication and message middleware. A token call
    ignores cookies altogether: it loads no session (no query, no Set-Cookie), its
    request.user is anonymous, so a session beside a wrong token lets nothing in, and
    without an ambient credential a forged cross-site request gains nothing (CSRF, which
    Django's checks want by name, stays in the chain for everything else). What a token
    call keeps is in settings.MIDDLEWARE around these: security headers, Host checking,
    never-cache, the CSP and frame headers.
    """

    get_response: Callable[[HttpRequest], Any]

    def __call__(self, request: HttpRequest) -> Any:
        if is_token_call(request):
            self.token_call(request)
            return self.get_response(request)
        return super().__call__(request)  # type: ignore[misc]

    def token_call(self, request: HttpRequest) -> None:
        """What the request gets instead of what this middleware would have set."""


class SessionMiddleware(PagesOnly, sessions_middleware.SessionMiddleware):
    pass


class AuthenticationMiddleware(PagesOnly, auth_middleware.AuthenticationMiddleware):
    def token_call(self, request: HttpRequest) -> None:
        request.user = AnonymousUser()


class MessageMiddleware(PagesOnly, messages_middleware.MessageMiddleware):
    pass
