"""
What every supervisors' page shares: the permission check, fragment-or-page rendering
and paging.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from ..numbers import parse_int

PAGE_SIZE = 25


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


View = Callable[..., HttpResponse]


def is_supervisor(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def supervisor_required(view: View) -> View:
    """Anonymous visitors go to the login page; logged-in users who are not supervisors get 403."""

    @wraps(view)
    def wrapper(request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            if request.htmx:
                # An expired session inside an in-place edit: following a redirect would
                # swap the login page into a table cell, so send the whole window there.
                current = request.htmx.current_url_abs_path or request.get_full_path()
                return HttpResponseClientRedirect(redirect_to_login(current).url)
            return redirect_to_login(request.get_full_path())
        if not is_supervisor(request.user):
            raise PermissionDenied("Only supervisors may use these pages.")
        return view(request, *args, **kwargs)

    return wrapper


def wants_fragment(request: HtmxHttpRequest) -> bool:
    # A history restore asks for the whole page even though it comes from htmx.
    return bool(request.htmx) and not request.htmx.history_restore_request


def render_page(
    request: HtmxHttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    fragment: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """The whole page, or only its named partial `fragment` for an htmx request."""
    name = f"{template}#{fragment}" if fragment and wants_fragment(request) else template
    response = render(request, name, context, status=status)
    # The same URL answers a page or a fragment: caches must tell them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def paginate(request: HttpRequest, items: Any, *, per_page: int = PAGE_SIZE) -> Page:
    """One page of `items`; a page number out of range gives the nearest page."""
    # A page number that is not one (see numbers.py) gives the first page.
    return Paginator(items, per_page).get_page(parse_int(request.GET.get("page")) or 1)
