"""/api/contacts/: register a lead's request, list contacts, respond to one, close one,
reopen one."""

from functools import partial

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Path, Query, Router, Status

from distribution import selectors, services
from distribution.actors import Actor
from distribution.models import Contact

from .errors import ONE_ERRORS, READ_ERRORS, WRITE_ERRORS
from .paging import page_of
from .schemas import (
    ContactCloseIn,
    ContactCreateIn,
    ContactEventPage,
    ContactFilters,
    ContactOut,
    ContactPage,
    ErrorOut,
    IdParam,
    NoBody,
    PageParams,
)

router = Router(tags=["contacts"])


def _contacts() -> QuerySet[Contact]:
    return Contact.objects.select_related("lead")


@router.post("/", response={201: ContactOut, **WRITE_ERRORS})
def register_contact(request: HttpRequest, payload: ContactCreateIn):
    """Register a contact of a lead through a source.

    It is assigned at once to an eligible operator, drawn by weight, or stored with
    `operator_id: null` in the queue when nobody has room. An unknown `source_id` is a 422.
    """
    contact = services.contact_register(actor=Actor.of_request(request), **payload.model_dump())
    return Status(201, contact)


@router.get("/", response={200: ContactPage, **READ_ERRORS})
def list_contacts(request: HttpRequest, filters: Query[ContactFilters], page: Query[PageParams]):
    """Contacts, newest first, filtered by any of status, source, operator, unassigned."""
    given = filters.model_dump()
    # The tallies answer every filter of this list: the count reads a few tally rows
    # instead of counting every matching contact (at a million contacts, most of the cost).
    return page_of(
        selectors.contact_list(**given), page, count=partial(selectors.contact_count, **given)
    )


@router.get("/{contact_id}", response={200: ContactOut, **ONE_ERRORS})
def get_contact(request: HttpRequest, contact_id: Path[IdParam]):
    return get_object_or_404(_contacts(), pk=contact_id)


@router.get("/{contact_id}/events", response={200: ContactEventPage, 404: ErrorOut, **READ_ERRORS})
def contact_events(request: HttpRequest, contact_id: Path[IdParam], page: Query[PageParams]):
    """The contact's decision log, oldest first: each event with its time, kind, actor and,
    for automatic decisions, every operator considered and why it was passed over."""
    get_object_or_404(Contact, pk=contact_id)
    return page_of(selectors.contact_events(contact_id), page)


@router.post("/{contact_id}/respond", response={200: ContactOut, 404: ErrorOut, **WRITE_ERRORS})
def respond_to_contact(
    request: HttpRequest, contact_id: Path[IdParam], payload: NoBody | None = None
):
    """Record the first response to the customer (a bot calls it when the operator answers).

    Repeating it changes nothing and answers the contact as it is. A queued contact (no
    operator yet) and a contact closed without a response are a 422.
    """
    get_object_or_404(Contact, pk=contact_id)
    services.contact_respond(actor=Actor.of_request(request), contact_id=contact_id)
    return _contacts().get(pk=contact_id)


@router.post("/{contact_id}/close", response={200: ContactOut, 404: ErrorOut, **WRITE_ERRORS})
def close_contact(
    request: HttpRequest, contact_id: Path[IdParam], payload: ContactCloseIn | None = None
):
    """Close a contact, optionally with an `outcome` and a `note` (the body may be left out);
    its operator's freed slot goes to the oldest queued contact.

    Closing a closed contact changes nothing (its outcome and note included) and answers
    it as it is.
    """
    get_object_or_404(Contact, pk=contact_id)
    close = payload or ContactCloseIn()
    services.contact_close(
        actor=Actor.of_request(request),
        contact_id=contact_id,
        outcome=close.outcome,
        note=close.note,
    )
    return _contacts().get(pk=contact_id)


@router.post("/{contact_id}/reopen", response={200: ContactOut, 404: ErrorOut, **WRITE_ERRORS})
def reopen_contact(request: HttpRequest, contact_id: Path[IdParam], payload: NoBody | None = None):
    """Open a closed contact again: its outcome is cleared, its note kept. It goes back to
    its operator when that one still accepts contacts and has room, otherwise to whoever
    the source's rule picks, or to the queue; the decision log records it as `reopened`.

    Reopening an open contact is a 422 and changes nothing.
    """
    get_object_or_404(Contact, pk=contact_id)
    services.contact_reopen(contact_id=contact_id, actor=Actor.of_request(request))
    return _contacts().get(pk=contact_id)
