"""Lists answer one page: `{"items": [...], "count": N}`, N counting every match."""

from typing import Any

from django.db.models import QuerySet

from .schemas import PageParams


def page_of(queryset: QuerySet, page: PageParams) -> dict[str, Any]:
    items = list(queryset[page.offset : page.offset + page.limit])
    # The first page often holds everything: then counting needs no second query.
    count = len(items) if page.offset == 0 and len(items) < page.limit else queryset.count()
    return {"items": items, "count": count}
