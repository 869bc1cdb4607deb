"""/leads/ and /leads/<id>/: finding a customer, its contacts over time, and acting on them
from its page (a new contact, closing, reassigning)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from .. import selectors, services
from ..forms import (
    LeadContactForm,
    LeadSearchForm,
    ReassignForm,
    add_service_errors,
    operator_choices,
)
from ..http import HtmxHttpRequest
from ..models import Contact, Lead
from ..numbers import parse_id
from ..permissions import supervisor_required
from .base import keyset_page, render_page, wants_fragment

DETAIL_TEMPLATE = "distribution/lead_detail.html"


@require_safe
@supervisor_required
def lead_list(request: HtmxHttpRequest) -> HttpResponse:
    form = LeadSearchForm(request.GET)
    # Keyset cursors (selectors.lead_list); one that is not an id gives the first page.
    before, after = parse_id(request.GET.get("before")), parse_id(request.GET.get("after"))
    if form.is_valid():
        page, status = (
            selectors.lead_list(search=form.cleaned_data["search"], before=before, after=after),
            200,
        )
    else:
        # A search that cannot be run (too long, a NUL) lists nothing, rather than
        # every lead as if nothing had been typed; the error says why.
        page, status = None, 422
    context = {
        "form": form,
        "page": page,
        "paged": before is not None or after is not None,
        "search": form.cleaned_data.get("search", ""),
        # htmx swaps only the list: the search field's errors travel with it, out of band.
        "errors_out_of_band": wants_fragment(request),
    }
    return render_page(
        request, "distribution/leads.html", context, fragment="lead_list", status=status
    )


def _history(
    request: HtmxHttpRequest,
    lead: Lead,
    *,
    new_form: LeadContactForm | None = None,
    bound: ReassignForm | None = None,
    notice: str = "",
    notice_for: int | None = None,
    status: int = 200,
) -> HttpResponse:
    """The lead's page, or its history fragment for htmx. `notice` is said in the item of
    contact `notice_for` (or above the list), `bound` is a reassign form with its errors."""
    try:
        lead = selectors.lead_get(lead.pk)
    except Lead.DoesNotExist:
        raise Http404("No such lead.") from None
    # Keyset-paged like the contacts list: a lead with years of contacts costs what one
    # with a few does. An action's request carries the page it came from (its query string).
    page, page_message = keyset_page(request, selectors.lead_contacts(lead))
    choices = operator_choices(selectors.operator_list())
    items = [
        (
            c,
            bound
            if bound is not None and bound.contact.pk == c.pk
            else ReassignForm(contact=c, choices=choices),
        )
        for c in page.contacts
    ]
    context = {
        "lead": lead,
        "page": page,
        "page_message": page_message,
        "items": items,
        "new_form": new_form or LeadContactForm(),
        "open_operators": selectors.lead_open_operators(lead),
        "timeline": selectors.lead_timeline(lead.pk),
        "notice": notice,
        "notice_for": notice_for,
    }
    return render_page(request, DETAIL_TEMPLATE, context, fragment="history", status=status)


def _done(request: HtmxHttpRequest, lead: Lead, notice: str, contact_id: int) -> HttpResponse:
    if request.htmx:
        return _history(request, lead, notice=notice, notice_for=contact_id)
    messages.success(request, notice)
    # Back to the page of the history the action came from.
    query = request.GET.urlencode()
    return redirect(
        reverse("distribution:lead_detail", args=[lead.pk]) + (f"?{query}" if query else "")
    )


def _lead_contact(lead_id: int, contact_id: int) -> tuple[Lead, Contact]:
    """The lead and one of its own contacts (another lead's contact is a 404)."""
    lead = get_object_or_404(Lead, pk=lead_id)
    contact = selectors.lead_contacts(lead).filter(pk=contact_id).first()
    if contact is None:
        raise Http404("No such contact of this lead.")
    return lead, contact


@require_safe
@supervisor_required
def lead_detail(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    return _history(request, get_object_or_404(Lead, pk=lead_id))


@require_POST
@supervisor_required
def lead_contact_create(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    lead = get_object_or_404(Lead, pk=lead_id)
    form = LeadContactForm(request.POST)
    if form.is_valid():
        try:
            contact = services.contact_register(
                lead_identifier=lead.identifier,
                source_id=form.cleaned_data["source"].pk,
                message=form.cleaned_data["message"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc, fields={"source_id": "source"})
        else:
            where = f"assigned to {contact.operator}" if contact.operator else "queued"
            return _done(request, lead, f"Registered #{contact.pk}: {where}.", contact.pk)
    return _history(request, lead, new_form=form, status=422)


@require_POST
@supervisor_required
def lead_contact_close(request: HtmxHttpRequest, lead_id: int, contact_id: int) -> HttpResponse:
    lead, contact = _lead_contact(lead_id, contact_id)
    was_open = contact.is_open
    services.contact_close(contact_id=contact.pk)
    notice = f"Closed #{contact.pk}." if was_open else f"#{contact.pk} was already closed."
    return _done(request, lead, notice, contact.pk)


@require_POST
@supervisor_required
def lead_contact_reassign(request: HtmxHttpRequest, lead_id: int, contact_id: int) -> HttpResponse:
    lead, contact = _lead_contact(lead_id, contact_id)
    choices = operator_choices(selectors.operator_list())
    form = ReassignForm(request.POST, contact=contact, choices=choices)
    if form.is_valid():
        try:
            contact = services.contact_reassign(
                contact_id=contact.pk, operator_id=form.cleaned_data["operator"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc, fields={"operator_id": "operator"})
        else:
            name = selectors.operator_get(form.cleaned_data["operator"]).name
            return _done(request, lead, f"Reassigned #{contact.pk} to {name}.", contact.pk)
    notice = " ".join(str(error) for error in form.non_field_errors())
    return _history(request, lead, bound=form, notice=notice, notice_for=contact.pk, status=422)
