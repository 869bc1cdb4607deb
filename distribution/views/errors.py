"""
The answers Django gives on its own: a failed CSRF check, a bad request, a crash, and
the database being out of reach. Under /api/ they are JSON like every other API answer
(see docs/api.md); elsewhere they are pages.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults
from django.views.csrf import csrf_failure as django_csrf_failure

from distribution.services import WeightsKeptMoving

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
# How long a client is asked to wait before trying again while the database is away.
RETRY_AFTER_SECONDS = 5


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def database_unavailable(exc: BaseException | None) -> bool:
    """The database could not be reached or stayed busy: retrying later can succeed.

    OperationalError is what both drivers raise for a refused, dropped or timed-out
    connection and for SQLite's "database is locked" past its busy timeout;
    InterfaceError is a connection already closed under us; WeightsKeptMoving a
    registration that gave up after its source's weights changed under each attempt.
    """
    return isinstance(exc, OperationalError | InterfaceError | WeightsKeptMoving)


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: JSON under /api/, a page that needs no database elsewhere."""
    if is_api(request):
        response: HttpResponse = JsonResponse(
            {"detail": "The database is unavailable; nothing was changed. Retry later."},
            status=503,
        )
    else:
        # Rendered without the request: the context processors would ask the database
        # for the user, which is what just failed.
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage is a 503; anything else a 500, JSON under /api/."""
    exc = sys.exc_info()[1]
    if database_unavailable(exc):
        logger.warning("Database unavailable on %s %s: %s", request.method, request.path, exc)
        return service_unavailable(request)
    if is_api(request):
        return JsonResponse({"detail": "Internal server error."}, status=500)
    return defaults.server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400 (a disallowed Host header, a malformed request)."""
    if is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the API's own answer under /api/, Django's page elsewhere."""
    if is_api(request):
        return JsonResponse(
            {"detail": "CSRF check failed: send the X-CSRFToken header with a session."},
            status=403,
        )
    return django_csrf_failure(request, reason)
