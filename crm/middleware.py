"""Project-wide response headers."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


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
