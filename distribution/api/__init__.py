"""
The JSON API under /api/ (django-ninja). Its conventions are in docs/api.md.

Each resource has its module (operators, sources, contacts, leads, stats) that only
parses, calls distribution.services or distribution.selectors, and shapes the answer;
errors.py turns every failure into a JSON answer, auth.py says who may call.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, URLResolver, path, re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI

from . import contacts, errors, leads, operators, sources, stats
from .auth import API_AUTH, docs_access

DESCRIPTION = """
Registers contacts and manages operators, sources and weights for bots and integrations.

**Authentication.** Every call needs `Authorization: Bearer <token>`; create a token with
`python manage.py create_api_token NAME`. A supervisor logged in to the web pages may also
use the API with its session (these docs do): unsafe methods then need the CSRF token.
A request with a bearer header is judged by its token alone (its cookies are ignored).

**Requests.** Bodies are JSON (read as JSON whatever the Content-Type says), with exactly
the documented types: `"10"` is not a number and a field the schema does not name is
refused. Strings are trimmed before their length is checked. Unknown query parameters
are ignored.

**Errors** are JSON: `{"detail": "..."}`, plus `"errors": {"field": ["message"]}` when
data is at fault. 401: no valid token. 403: a session request without its CSRF token.
404: unknown id in the path. 409: a unique name is taken. 413: a body over 2.5 MB.
422: the body (including invalid JSON and an unknown id inside the body) or a query
parameter is invalid (`search` is at most 255 characters). 503: the database is
unavailable (or a registration's source had its weights edited under each of its
attempts); retry after the seconds in `Retry-After`. A request that fails changes
nothing.

**Before the API.** gunicorn refuses a request line (method, path and query string)
longer than 4094 bytes with a plain-text 414 before the API sees it; every documented
parameter fits well within that.

**Lists** answer `{"items": [...], "count": N}`, paged with `limit` (default 100, at most
1000) and `offset`. Timestamps are ISO 8601 with a time zone.
"""


class CrmAPI(NinjaAPI):
    """Ninja's API, with JSON answers also where ninja answers plain text or HTML."""

    def _get_urls(self) -> list[URLPattern | URLResolver]:
        # It only answers 404 and changes nothing, so it needs no CSRF check; with one,
        # a POST to a wrong path with a session or a token got Django's HTML 403 page.
        @csrf_exempt
        def unknown_path(request: HttpRequest, **kwargs: str) -> HttpResponse:
            return errors.unknown_path(request, self)

        urls = []
        for url in super()._get_urls():
            if getattr(url, "name", "") == "api-root":
                # Ninja's root view raises a bare Http404 (an HTML page); keep the URL
                # name it reverses to find its own prefix, but answer JSON like the rest.
                url = path("", unknown_path, name="api-root")
            elif isinstance(url, URLPattern):
                url.callback = self._json_method_not_allowed(url.callback)
            urls.append(url)
        # Last, after every endpoint: any other path under /api/ answers a JSON 404.
        # It also stops CommonMiddleware from redirecting a POST that lacks the slash.
        return [*urls, re_path(r"^.*$", unknown_path, name="unknown-path")]

    def _json_method_not_allowed(
        self, view: Callable[..., HttpResponse]
    ) -> Callable[..., HttpResponse]:
        @wraps(view)  # Keeps csrf_exempt: ninja checks CSRF itself, per auth method.
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            head = request.method == "HEAD"
            if head:
                # HEAD is GET without the body (RFC 9110), but ninja only routes the
                # methods an operation names: answer it as the GET would be answered.
                request.method = "GET"
            try:
                response = view(request, *args, **kwargs)
            finally:
                if head:
                    request.method = "HEAD"
            if isinstance(response, HttpResponseNotAllowed):
                allowed = response["Allow"]
                response = self.create_response(
                    request, {"detail": f"Method not allowed here; allowed: {allowed}."}, status=405
                )
                response["Allow"] = allowed
            if head:
                response["Content-Length"] = str(len(response.content))
                response.content = b""
            return response

        return wrapper


api = CrmAPI(
    title="Lead distribution CRM API",
    version="1.0",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=API_AUTH,
    docs_decorator=docs_access,
    parser=errors.JSONParser(),
)
errors.install(api)

api.add_router("/operators/", operators.router)
api.add_router("/sources/", sources.router)
api.add_router("/contacts/", contacts.router)
api.add_router("/leads/", leads.router)
api.add_router("/stats/", stats.router)
