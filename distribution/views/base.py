"""
What every supervisors' page shares: fragment-or-page rendering and paging. Who may
see them is in distribution/permissions.py.
"""

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from .. import selectors
from ..http import HtmxHttpRequest
from ..numbers import parse_int

PAGE_SIZE = 25
# The query-string parameters of keyset paging (selectors.contact_page): the page right
# after or right before a contact's place in the list, or the last page.
PAGING = ("after", "before", "last")
BAD_CURSOR = "That page link is not valid (any more): this is the first page."


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


def keyset_page(
    request: HttpRequest,
    contacts: Any,
    *,
    oldest_first: bool = False,
    size: int = PAGE_SIZE,
    scan: Any = None,
) -> tuple[selectors.ContactPage, str]:
    """The page of `contacts` (selectors.contact_listing or lead_contacts; `scan`: see
    selectors.contact_page) the query string asks for, and what to say when it could not be
    read: a cursor that is not one gives the first page, and says so (a link from another
    version, or typed by hand: never an error page)."""
    given = {name: request.GET[name] for name in PAGING if request.GET.get(name)}
    after = selectors.Cursor.parse(given.get("after"))
    before = selectors.Cursor.parse(given.get("before"))
    last = given.get("last") == "1"
    message = ""
    if len(given) > 1 or (given and not (after or before or last)):
        after, before, last = None, None, False
        message = BAD_CURSOR
    page = selectors.contact_page(
        contacts,
        oldest_first=oldest_first,
        after=after,
        before=before,
        last=last,
        size=size,
        scan=scan,
    )
    return page, message
