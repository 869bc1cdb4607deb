"""
What every supervisors' page shares: fragment-or-page rendering and paging. Who may
see them is in distribution/permissions.py.
"""

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from ..http import HtmxHttpRequest
from ..numbers import parse_int

PAGE_SIZE = 25


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
