"""/contacts/ and /contacts/new/: the list with filters, closing, reopening, reassigning,
bulk actions on selected rows, registering."""

from dataclasses import dataclass, replace

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from .. import decision_log, selectors, services
from ..actors import Actor
from ..forms import (
    BulkContactsForm,
    ContactCreateForm,
    ContactFilterForm,
    ReassignForm,
    add_service_errors,
    operator_choices,
)
from ..http import HtmxHttpRequest
from ..models import Contact
from ..numbers import parse_id
from ..permissions import supervisor_required
from .base import keyset_page, render_page
from .effects import handed_out

LIST_TEMPLATE = "distribution/contacts.html"
NEW_TEMPLATE = "distribution/contact_new.html"

# With a lead search on, the total is counted up to this many (no tally counts a search).
SEARCH_COUNT_CAP = 500


@dataclass(frozen=True)
class Paging:
    """The page of the list shown, and what to say when the page asked for could not be
    read; with the total the filters hold (`capped`: more than that many, for a search;
    `at_least`: that many among the contacts a broad search reads, and maybe more)."""

    page: selectors.ContactPage
    oldest_first: bool
    message: str = ""
    total: int = 0
    capped: bool = False
    at_least: bool = False


def _paging(request: HtmxHttpRequest, filters: dict, *, counted: bool = True) -> Paging:
    """The page the query string asks for (keyset_page), with the total when `counted`."""
    listing = selectors.contact_listing(**filters)
    page, message = keyset_page(
        request, listing.contacts, oldest_first=filters["oldest_first"], scan=listing.scan
    )
    paging = Paging(page, filters["oldest_first"], message)
    if not counted:
        return paging
    if filters["lead"].strip():
        # No tally counts a search: count its matches, but never past the cap (and, for a
        # broad one, never past the contacts its pages read at once).
        total, whole = selectors.count_listing_up_to(listing, SEARCH_COUNT_CAP, page=page)
        capped = total > SEARCH_COUNT_CAP
        return replace(
            paging,
            total=min(total, SEARCH_COUNT_CAP),
            capped=capped,
            at_least=not (capped or whole),
        )
    tallied = ("status", "source_id", "operator_id", "unassigned")
    return replace(paging, total=selectors.contact_count(**{k: filters[k] for k in tallied}))


def _list(
    request: HtmxHttpRequest,
    *,
    bound: ReassignForm | None = None,
    bulk: BulkContactsForm | None = None,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    """The filtered list (filters and page from the query string), or its fragment for htmx.

    `bound` is a reassign form with errors, shown in its contact's row; `bulk` the bulk
    form with its errors.
    """
    filter_form = ContactFilterForm(request.GET)
    paging = _paging(request, filter_form.filters())
    choices = operator_choices(selectors.operator_list())
    rows = [
        (
            c,
            bound
            if bound is not None and bound.contact.pk == c.pk
            else ReassignForm(contact=c, choices=choices),
        )
        for c in paging.page.contacts
    ]
    context = {
        "filter_form": filter_form,
        "queue_view": filter_form.is_queue(),
        "paging": paging,
        "rows": rows,
        "bulk": bulk or BulkContactsForm(choices=choices),
        "notice": notice,
    }
    return render_page(request, LIST_TEMPLATE, context, fragment="contact_list", status=status)


def _row(
    request: HtmxHttpRequest,
    contact: Contact,
    *,
    form: ReassignForm | None = None,
    notice: str = "",
    error: str = "",
    also: list[Contact] | None = None,
    status: int = 200,
) -> HttpResponse:
    """One row of the list, as htmx swaps it in place after an action on it: the row keeps
    its place, and what happened is said inside it. `also`: rows the action changed too
    (the queued contacts that took a freed slot), swapped out of band where they are
    shown on the page the request came from."""
    contact = _get_contact(contact.pk)
    choices = operator_choices(selectors.operator_list())
    if form is None:
        form = ReassignForm(contact=contact, choices=choices)
    shown = {c.pk for c in _page_of(request)} if also else set()
    context = {
        "contact": contact,
        "form": form,
        "row_notice": notice,
        "row_error": error,
        "oob_rows": [
            (c, ReassignForm(contact=c, choices=choices)) for c in also or [] if c.pk in shown
        ],
    }
    return render_page(request, f"{LIST_TEMPLATE}#row_update", context, status=status)


def _page_of(request: HtmxHttpRequest) -> list[Contact]:
    """The page of the list the request came from (its filters and page ride along)."""
    filters = ContactFilterForm(request.GET).filters()
    return _paging(request, filters, counted=False).page.contacts


def _done(
    request: HtmxHttpRequest, contact: Contact, notice: str, also: list[Contact] | None = None
) -> HttpResponse:
    """After an action on one row: the row itself for htmx, else back to the same list."""
    if request.htmx:
        return _row(request, contact, notice=notice, also=also)
    messages.success(request, notice)
    return redirect(f"{reverse('distribution:contact_list')}?{request.GET.urlencode()}")


def _slot_went(captured: decision_log.Captured) -> tuple[str, list[Contact]]:
    """ "; its slot went to #301" and those contacts, when the close freed a slot that the
    queue took: read from the close's own log entries (the services' report of what they
    did), so a contact assigned at the same moment by another request is not among them."""
    ids = handed_out(captured)
    if not ids:
        return "", []
    given = list(selectors.contact_list(oldest_first=True).filter(pk__in=ids))
    return f"; its slot went to {', '.join(f'#{c.pk}' for c in given)}", given


def _get_contact(contact_id: int) -> Contact:
    contact = selectors.contact_list().filter(pk=contact_id).first()
    if contact is None:
        raise Http404("No such contact.")
    return contact


def _where(contact: Contact) -> str:
    return f"assigned to {contact.operator}" if contact.operator else "queued"


@require_safe
@supervisor_required
def contact_list(request: HtmxHttpRequest) -> HttpResponse:
    return _list(request)


@require_POST
@supervisor_required
def contact_close(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    contact = _get_contact(contact_id)
    if not contact.is_open:
        return _done(request, contact, f"#{contact.pk} was already closed.")
    with decision_log.capture() as captured:
        services.contact_close(contact_id=contact.pk, actor=Actor.of_request(request))
    slot, given = _slot_went(captured)
    return _done(request, contact, f"Closed #{contact.pk}{slot}.", also=given)


@require_POST
@supervisor_required
def contact_reopen(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    contact = _get_contact(contact_id)
    try:
        contact = services.contact_reopen(contact_id=contact.pk, actor=Actor.of_request(request))
    except ValidationError as exc:
        message = " ".join(exc.messages)
        if request.htmx:
            return _row(request, contact, error=message, status=422)
        return _list(request, notice=message, status=422)
    contact = _get_contact(contact.pk)
    return _done(request, contact, f"Reopened #{contact.pk}: {_where(contact)}.")


@require_POST
@supervisor_required
def contact_reassign(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    contact = _get_contact(contact_id)
    choices = operator_choices(selectors.operator_list())
    form = ReassignForm(request.POST, contact=contact, choices=choices)
    if form.is_valid():
        try:
            contact = services.contact_reassign(
                actor=Actor.of_request(request),
                contact_id=contact.pk,
                operator_id=form.cleaned_data["operator"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc, fields={"operator_id": "operator"})
        else:
            contact = _get_contact(contact.pk)
            return _done(request, contact, f"Reassigned #{contact.pk} to {contact.operator}.")
    # An error about the contact itself (say, it was closed meanwhile) has no field to
    # sit next to, and a closed contact's row has no form: it is said in the row.
    notice = " ".join(str(error) for error in form.non_field_errors())
    if request.htmx:
        return _row(request, contact, form=form, error=notice, status=422)
    return _list(request, bound=form, notice=notice, status=422)


def _report(verb: str, result: services.BulkResult) -> str:
    """ "3 closed; #12 was already closed" (what a bulk action did, in one line)."""
    parts = [f"{len(result.done)} {verb}"]
    for pk, why in result.refused:
        # A phrase about the contact ("was already closed") follows its number; a
        # sentence from the rules ("Chen is at the limit (35).") is why it was refused.
        why = why.rstrip(".")
        parts.append(f"#{pk} refused: {why}" if why[:1].isupper() else f"#{pk} {why}")
    return "; ".join(parts) + "."


@require_POST
@supervisor_required
def contact_bulk(request: HtmxHttpRequest) -> HttpResponse:
    """Close, reassign or return to the queue the contacts ticked in the list."""
    form = BulkContactsForm(request.POST, choices=operator_choices(selectors.operator_list()))
    if not form.is_valid():
        return _list(request, bulk=form, status=422)
    data, actor = form.cleaned_data, Actor.of_request(request)
    ids = data["contacts"]
    if data["action"] == form.CLOSE:
        result = services.contact_bulk_close(
            contact_ids=ids, outcome=data["outcome"] or None, actor=actor
        )
        notice = _report("closed", result)
    elif data["action"] == form.REASSIGN:
        result = services.contact_bulk_reassign(
            contact_ids=ids, operator_id=data["operator"], actor=actor
        )
        operator = selectors.operator_list().filter(pk=data["operator"]).first()
        name = operator.name if operator else f"operator {data['operator']}"
        notice = _report(f"reassigned to {name}", result)
    else:
        result = services.contact_bulk_return_to_queue(contact_ids=ids, actor=actor)
        notice = _report("returned to the queue", result)
    if request.htmx:
        return _list(request, notice=notice)
    messages.success(request, notice)
    return redirect(f"{reverse('distribution:contact_list')}?{request.GET.urlencode()}")


@require_http_methods(["GET", "HEAD", "POST"])
@supervisor_required
def contact_create(request: HtmxHttpRequest) -> HttpResponse:
    if request.method != "POST":
        registered = _registered(request.GET.get("registered"))
        initial = {"source": registered.source_id} if registered else {}
        context = {"form": ContactCreateForm(initial=initial), "registered": registered}
        return render_page(request, NEW_TEMPLATE, context)
    form = ContactCreateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            contact = services.contact_register(
                actor=Actor.of_request(request),
                lead_identifier=data["lead_identifier"],
                source_id=data["source"].pk,
                message=data["message"],
                lead_name=data["lead_name"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc, fields={"source_id": "source"})
        else:
            # Post/redirect/get: reloading the result page does not register it twice.
            return redirect(f"{reverse('distribution:contact_create')}?registered={contact.pk}")
    return render_page(request, NEW_TEMPLATE, {"form": form, "registered": None}, status=422)


def _registered(value: str | None) -> Contact | None:
    """The contact just registered, for the result panel of the form page."""
    contact_id = parse_id(value)
    if contact_id is None:
        return None
    return selectors.contact_list().filter(pk=contact_id).first()
