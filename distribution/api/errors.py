"""
Every error of the API as JSON: `{"detail": ...}`, plus `"errors": {field: [messages]}`
when the problem is in the request's data.

| status | when |
|---|---|
| 401 | no valid bearer token (and no supervisor session) |
| 403 | a supervisor's session without the CSRF token on an unsafe method |
| 404 | an unknown id in the path (or something that cannot be an id), or an unknown path |
| 409 | a unique name is taken |
| 413 | the body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB by default) |
| 422 | the body or a query parameter is invalid (also: invalid JSON, an unknown id in the body) |
"""

import json
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve, reverse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from distribution.services import NameTaken

from .schemas import ErrorOut, ValidationErrorOut

BODY = "body"

# What each operation documents, besides its success answer.
AUTH_ERRORS: dict[int, Any] = {401: ErrorOut}
READ_ERRORS: dict[int, Any] = {**AUTH_ERRORS, 422: ValidationErrorOut}
ONE_ERRORS: dict[int, Any] = {**AUTH_ERRORS, 404: ErrorOut}
WRITE_ERRORS: dict[int, Any] = {
    **AUTH_ERRORS,
    403: ErrorOut,
    413: ErrorOut,
    422: ValidationErrorOut,
}


class InvalidJSON(ValueError):
    pass


class JSONParser(Parser):
    """The default parser, with one exception type for every way a body can be unreadable."""

    def parse_body(self, request: HttpRequest) -> Any:
        try:
            return json.loads(request.body)
        # ValueError covers bad syntax, bad UTF-8 and integers too long to convert;
        # RecursionError a body nested deeper than the interpreter's stack.
        except (ValueError, RecursionError) as exc:
            raise InvalidJSON(str(exc)[:200]) from None


def _field_name(loc: tuple) -> str:
    source, *rest = loc
    if source == BODY:
        rest = rest[1:]  # The name of the view's body argument means nothing to a client.
    return ".".join(str(part) for part in rest) or source


def _respond(
    api: NinjaAPI, request: HttpRequest, status: int, detail: str, errors: dict | None = None
) -> HttpResponse:
    body: dict[str, Any] = {"detail": detail}
    if errors is not None:
        body["errors"] = errors
    response = api.create_response(request, body, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


AUTHENTICATION_REQUIRED = "Authentication required: send Authorization: Bearer <token>."


def unauthorized(request: HttpRequest) -> HttpResponse:
    """The 401 of a request without valid credentials, where no API object is at hand."""
    response = JsonResponse({"detail": AUTHENTICATION_REQUIRED}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def on_invalid_request(
    request: HttpRequest, exc: NinjaValidationError, api: NinjaAPI
) -> HttpResponse:
    """Pydantic's errors, by field. A path parameter that is no id is an unknown id: 404."""
    if any(error["loc"][0] == "path" for error in exc.errors):
        return _respond(api, request, 404, "Not found: there is no object with this id.")
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        errors.setdefault(_field_name(tuple(error["loc"])), []).append(error["msg"])
    return _respond(api, request, 422, "The request is invalid.", errors)


def on_rule_broken(request: HttpRequest, exc: DjangoValidationError, api: NinjaAPI) -> HttpResponse:
    """A service refused the data: 409 for a taken name, 422 for the rest."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
    if isinstance(exc, NameTaken):
        return _respond(api, request, 409, "The name is already taken.", errors)
    return _respond(api, request, 422, "The request is invalid.", errors)


def on_http_error(request: HttpRequest, exc: HttpError, api: NinjaAPI) -> HttpResponse:
    if isinstance(exc.__cause__, InvalidJSON):
        return _respond(
            api,
            request,
            422,
            "The request body is not valid JSON.",
            {BODY: [f"Invalid JSON: {exc.__cause__}"]},
        )
    if isinstance(exc, AuthenticationError):
        return _respond(api, request, 401, AUTHENTICATION_REQUIRED)
    return _respond(api, request, exc.status_code, str(exc))


def on_not_found(request: HttpRequest, exc: Exception, api: NinjaAPI) -> HttpResponse:
    return _respond(api, request, 404, "Not found: there is no object with this id.")


def on_body_too_big(request: HttpRequest, exc: RequestDataTooBig, api: NinjaAPI) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return _respond(api, request, 413, f"The request body is larger than {limit} bytes.")


def install(api: NinjaAPI) -> None:
    api.add_exception_handler(NinjaValidationError, partial(on_invalid_request, api=api))
    api.add_exception_handler(DjangoValidationError, partial(on_rule_broken, api=api))
    api.add_exception_handler(HttpError, partial(on_http_error, api=api))
    api.add_exception_handler(Http404, partial(on_not_found, api=api))
    api.add_exception_handler(RequestDataTooBig, partial(on_body_too_big, api=api))
    # An object deleted between our lookup and the service's own.
    api.add_exception_handler(ObjectDoesNotExist, partial(on_not_found, api=api))


def unknown_path(request: HttpRequest, api: NinjaAPI) -> HttpResponse:
    """Any other URL under /api/: a JSON 404, with a hint when only the slash is wrong."""
    path = request.path
    other = path[:-1] if path.endswith("/") else path + "/"
    detail = f"There is no API endpoint at {path}."
    try:
        match = resolve(other)
    except Resolver404:
        match = None
    if match is not None and match.url_name not in {"unknown-path", "api-root"}:
        detail += f" Did you mean {other}?"
    else:
        detail += f" The endpoints are listed at {reverse('api:openapi-view')}."
    return _respond(api, request, 404, detail)
