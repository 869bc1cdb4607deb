"""Lists answer one page: `{"items": [...], "count": N}`, N counting every match."""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet

from .schemas import PageParams


def page_of(
    queryset: QuerySet, page: PageParams, *, count: Callable[[], int] | None = None
) -> dict[str, Any]:
    """The page's items and the number of matches: from `count` when given (a cheaper
    source of the same number), else by counting the queryset."""
    items = list(queryset[page.offset : page.offset + page.limit])
    # The first page often holds everything: then counting needs no second query.
    if page.offset == 0 and len(items) < page.limit:
        total = len(items)
    else:
        total = count() if count is not None else queryset.count()
    return {"items": items, "count": total}
