"""/my/: an operator's workspace: its open contacts, respond and close them, its presence,
and today's figures. Only its own contacts: another operator's is a 404 on every action.

Every action answers the workspace fragment to htmx (closing a contact may bring the next
one from the queue, and going away may empty the list, so the whole workspace is redrawn),
and redirects back to the page without javascript.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST, require_safe

from .. import selectors, services
from ..actors import Actor
from ..forms import ContactCloseForm, PresenceForm, add_service_errors
from ..http import HtmxHttpRequest
from ..models import Contact, Operator, Presence
from ..permissions import operator_of, operator_required
from .base import render_page

TEMPLATE = "distribution/my.html"


def _me(request: HtmxHttpRequest) -> Operator:
    operator = operator_of(request.user)
    assert operator is not None  # operator_required let the request in.
    return operator


def _page(
    request: HtmxHttpRequest,
    *,
    bound: ContactCloseForm | PresenceForm | None = None,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    """The workspace; `bound` is a submitted form with errors, shown where it was sent from."""
    me = _me(request)
    items = selectors.operator_open_contacts(me.pk)
    cards = [
        (
            item,
            bound
            if isinstance(bound, ContactCloseForm) and bound.contact.pk == item.contact.pk
            else ContactCloseForm(contact=item.contact),
        )
        for item in items
    ]
    today = selectors.operator_today(me)
    presence_form = (
        bound
        if isinstance(bound, PresenceForm)
        else PresenceForm(open_contacts=len(items), initial={"presence": me.presence})
    )
    context = {
        "me": me,
        "cards": cards,
        "presence_form": presence_form,
        "presences": Presence.choices,
        "today": today,
        "median_response": _duration(today.median_response_seconds),
        "notice": notice,
    }
    return render_page(request, TEMPLATE, context, fragment="workspace", status=status)


def _duration(seconds: float | None) -> str:
    """A short human duration: "45 s", "12 min", "2 h 5 min"."""
    if seconds is None:
        return ""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    hours, minutes = divmod(whole // 60, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _done(request: HtmxHttpRequest, notice: str) -> HttpResponse:
    if request.htmx:
        return _page(request, notice=notice)
    messages.success(request, notice)
    return redirect("distribution:my")


def _not_mine() -> Http404:
    return Http404("You have no such contact.")


@require_safe
@operator_required
def my_workspace(request: HtmxHttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@operator_required
def my_contact_respond(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    try:
        contact = services.operator_contact_respond(
            actor=Actor.of_request(request), operator_id=_me(request).pk, contact_id=contact_id
        )
    except Contact.DoesNotExist:
        raise _not_mine() from None
    except ValidationError as exc:
        return _page(request, notice=" ".join(exc.messages), status=422)
    return _done(request, f"Contact #{contact.pk} of {contact.lead} marked responded.")


@require_POST
@operator_required
def my_contact_close(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    me = _me(request)
    contact = Contact.objects.select_related("lead").filter(pk=contact_id, operator=me).first()
    if contact is None:
        raise _not_mine()
    form = ContactCloseForm(request.POST, contact=contact)
    if form.is_valid():
        try:
            services.operator_contact_close(
                actor=Actor.of_request(request),
                operator_id=me.pk,
                contact_id=contact.pk,
                **form.cleaned_data,
            )
        except Contact.DoesNotExist:
            raise _not_mine() from None
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            outcome = Contact.Outcome(form.cleaned_data["outcome"]).label.lower()
            return _done(request, f"Contact #{contact.pk} of {contact.lead} closed: {outcome}.")
    return _page(request, bound=form, status=422)


@require_POST
@operator_required
def my_presence(request: HtmxHttpRequest) -> HttpResponse:
    me = _me(request)
    form = PresenceForm(request.POST, open_contacts=0)
    if not form.is_valid():
        return _page(request, bound=form, status=422)
    requeue = form.cleaned_data["requeue_open_contacts"]
    before = selectors.operator_loads([me.pk]).get(me.pk, 0)
    operator = services.operator_update(
        actor=Actor.of_request(request),
        operator_id=me.pk,
        presence=form.cleaned_data["presence"],
        requeue_open_contacts=requeue,
    )
    notice = f"You are {operator.get_presence_display().lower()}."
    returned = before - selectors.operator_loads([me.pk]).get(me.pk, 0)
    if requeue and returned > 0:
        notice += f" {returned} contact{'' if returned == 1 else 's'} went back to the queue."
    return _done(request, notice)
