"""/contacts/ and /contacts/new/: the list with filters, closing, reassigning, registering."""

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from .. import selectors, services
from ..forms import (
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
from .base import paginate, render_page

LIST_TEMPLATE = "distribution/contacts.html"
NEW_TEMPLATE = "distribution/contact_new.html"


def _list(
    request: HtmxHttpRequest,
    *,
    bound: ReassignForm | None = None,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    """The filtered list (filters and page from the query string), or its fragment for htmx.

    `bound` is a reassign form with errors, shown in its contact's row.
    """
    filter_form = ContactFilterForm(request.GET)
    page = paginate(request, selectors.contact_list(**filter_form.filters()))
    choices = operator_choices(selectors.operator_list())
    rows = [
        (
            c,
            bound
            if bound is not None and bound.contact.pk == c.pk
            else ReassignForm(contact=c, choices=choices),
        )
        for c in page
    ]
    context = {"filter_form": filter_form, "page_obj": page, "rows": rows, "notice": notice}
    return render_page(request, LIST_TEMPLATE, context, fragment="contact_list", status=status)


def _back_to_list(request: HtmxHttpRequest, notice: str) -> HttpResponse:
    if request.htmx:
        return _list(request, notice=notice)
    return redirect(f"{reverse('distribution:contact_list')}?{request.GET.urlencode()}")


def _get_contact(contact_id: int) -> Contact:
    contact = selectors.contact_list().filter(pk=contact_id).first()
    if contact is None:
        raise Http404("No such contact.")
    return contact


@require_safe
@supervisor_required
def contact_list(request: HtmxHttpRequest) -> HttpResponse:
    return _list(request)


@require_POST
@supervisor_required
def contact_close(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    contact = _get_contact(contact_id)
    services.contact_close(contact_id=contact.pk)
    return _back_to_list(request, f"Contact #{contact.pk} of {contact.lead} closed.")


@require_POST
@supervisor_required
def contact_reassign(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    contact = _get_contact(contact_id)
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
            return _back_to_list(
                request, f"Contact #{contact.pk} reassigned to {contact.operator}."
            )
    # An error about the contact itself (say, it was closed meanwhile) has no field to
    # sit next to, and a closed contact's row has no form: it is shown above the list.
    notice = " ".join(str(error) for error in form.non_field_errors())
    return _list(request, bound=form, notice=notice, status=422)


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
