"""/api/leads/: the customers, each with its contacts over time."""

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Path, Query, Router, Schema

from distribution import selectors
from distribution.models import Contact, Lead

from .errors import ONE_ERRORS, READ_ERRORS
from .paging import page_of
from .schemas import IdParam, LeadOut, LeadPage, PageParams, SearchText

router = Router(tags=["leads"])


class LeadFilters(Schema):
    search: SearchText = ""


def _with_contacts(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    # One query for the contacts of the whole page; each contact's `lead` is filled in
    # from its parent by the prefetch, so the nested lead costs no query either.
    return leads.prefetch_related(
        Prefetch("contacts", queryset=Contact.objects.order_by("-created_at", "-id"))
    )


@router.get("/", response={200: LeadPage, **READ_ERRORS})
def list_leads(request: HttpRequest, filters: Query[LeadFilters], page: Query[PageParams]):
    """Leads, newest first; `search` keeps those whose identifier contains it (any case),
    and finds a phone number by any spelling of it or of a part of it."""
    leads = selectors.lead_search(filters.search)
    # Every lead: the tallies, not a count of the table; a search's matches are counted
    # from the search index.
    total = None if filters.search else selectors.lead_total
    return page_of(_with_contacts(leads), page, count=total)


@router.get("/{lead_id}", response={200: LeadOut, **ONE_ERRORS})
def get_lead(request: HttpRequest, lead_id: Path[IdParam]):
    return get_object_or_404(_with_contacts(Lead.objects.all()), pk=lead_id)
