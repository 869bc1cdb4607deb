"""/operators/: the list, adding an operator, and in-place renaming, activation, limits and
presence (with the choice to return the operator's open contacts to the queue)."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from .. import decision_log, selectors, services
from ..actors import Actor
from ..forms import (
    OperatorActiveForm,
    OperatorCreateForm,
    OperatorLimitForm,
    OperatorLoginForm,
    OperatorNameForm,
    OperatorPresenceForm,
    add_service_errors,
)
from ..http import HtmxHttpRequest
from ..models import Operator
from ..permissions import supervisor_required
from ..selectors import OperatorWithLoad
from .base import paginate, render_page
from .effects import describe, handed_out_to
from .shift_text import ShiftText

TEMPLATE = "distribution/operators.html"
RowForm = OperatorLimitForm | OperatorNameForm | OperatorPresenceForm | OperatorLoginForm


@dataclass
class OperatorRow:
    operator: OperatorWithLoad
    limit_form: OperatorLimitForm
    name_form: OperatorNameForm
    presence_form: OperatorPresenceForm
    active_form: OperatorActiveForm
    login_form: OperatorLoginForm
    shift: ShiftText
    # What the action just done on this row did ("Limit 35 -> 42: 7 queued contacts ...").
    notice: str = ""

    @classmethod
    def of(
        cls, operator: OperatorWithLoad, now: datetime, bound: RowForm | None = None
    ) -> "OperatorRow":
        """The row's forms; `bound`, a submitted form with errors, replaces its kind in its row."""
        row = cls(
            operator,
            OperatorLimitForm(operator=operator),
            OperatorNameForm(operator=operator),
            OperatorPresenceForm(operator=operator),
            OperatorActiveForm(operator=operator),
            OperatorLoginForm(operator=operator),
            ShiftText.of(operator, now),
        )
        if bound is not None and bound.operator.pk == operator.pk:
            if isinstance(bound, OperatorLimitForm):
                row.limit_form = bound
            elif isinstance(bound, OperatorNameForm):
                row.name_form = bound
            elif isinstance(bound, OperatorPresenceForm):
                row.presence_form = bound
            else:
                row.login_form = bound
        return row


def _page(
    request: HtmxHttpRequest,
    create_form: OperatorCreateForm,
    *,
    bound: RowForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The whole page; `bound` is a row's form with errors, shown in its operator's row."""
    page = paginate(request, selectors.operator_list())
    now = timezone.now()
    rows = [OperatorRow.of(op, now, bound) for op in page]
    context = {"page_obj": page, "rows": rows, "create_form": create_form}
    return render_page(request, TEMPLATE, context, status=status)


def _row(
    request: HtmxHttpRequest,
    operator_id: int,
    bound: RowForm | None = None,
    *,
    done: decision_log.Captured | None = None,
    status: int = 200,
) -> HttpResponse:
    """The operator's table row for htmx, saying what the action `done` there did, and out
    of band the rows of the other operators it handed contacts to (those on the page the
    request came from); the whole list otherwise, with what was done as its message."""
    notice = describe(done) if done else ""
    if not request.htmx:
        if notice:
            messages.success(request, notice)
        # Back to the page of the list the form was on (its action carries ?page=).
        return redirect(f"{reverse('distribution:operator_list')}?{request.GET.urlencode()}")
    now = timezone.now()
    row = OperatorRow.of(_operator(operator_id), now, bound)
    row.notice = notice
    others = handed_out_to(done) - {operator_id} if done else set()
    oob_rows = [
        OperatorRow.of(op, now)
        for op in (paginate(request, selectors.operator_list()) if others else [])
        if op.pk in others
    ]
    context = {"row": row, "oob_rows": oob_rows}
    return render_page(request, TEMPLATE, context, fragment="row_update", status=status)


def _refused(request: HtmxHttpRequest, form: RowForm) -> HttpResponse:
    """A row's form with errors: in its row, or in the whole page without javascript."""
    if not request.htmx:
        return _page(request, OperatorCreateForm(), bound=form, status=422)
    return _row(request, form.operator.pk, form, status=422)


def _operator(operator_id: int) -> OperatorWithLoad:
    try:
        return selectors.operator_get(operator_id)
    except Operator.DoesNotExist:
        raise Http404("No such operator.") from None


def _update(request: HtmxHttpRequest, operator_id: int, **changes) -> decision_log.Captured:
    """services.operator_update, and what it did (the log entries it wrote); an operator
    deleted since the page loaded is a 404."""
    try:
        with decision_log.capture() as captured:
            services.operator_update(
                actor=Actor.of_request(request), operator_id=operator_id, **changes
            )
    except Operator.DoesNotExist:
        raise Http404("No such operator.") from None
    return captured


@require_safe
@supervisor_required
def operator_list(request: HtmxHttpRequest) -> HttpResponse:
    return _page(request, OperatorCreateForm())


@require_POST
@supervisor_required
def operator_create(request: HtmxHttpRequest) -> HttpResponse:
    form = OperatorCreateForm(request.POST)
    if form.is_valid():
        try:
            operator = services.operator_create(
                actor=Actor.of_request(request), **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Operator {operator.name} added.")
            return redirect("distribution:operator_list")
    return _page(request, form, status=422)


@require_POST
@supervisor_required
def operator_set_active(request: HtmxHttpRequest, operator_id: int) -> HttpResponse:
    form = OperatorActiveForm(request.POST)
    form.is_valid()  # A BooleanField that may be false cannot be invalid.
    # With requeue_open_contacts, a deactivated operator's open contacts go back to the queue.
    done = _update(request, operator_id, **form.cleaned_data)
    return _row(request, operator_id, done=done)


def _save_row_form(
    request: HtmxHttpRequest, operator_id: int, form_class, save=None
) -> HttpResponse:
    """Save a row's form with `save` (default: operator_update, which tells what it did):
    the row again, or the errors."""
    form = form_class(request.POST, operator=_operator(operator_id))
    if form.is_valid():
        try:
            done = (save or _update)(request, operator_id, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _row(request, operator_id, done=done)
    return _refused(request, form)


@require_POST
@supervisor_required
def operator_set_limit(request: HtmxHttpRequest, operator_id: int) -> HttpResponse:
    return _save_row_form(request, operator_id, OperatorLimitForm)


@require_POST
@supervisor_required
def operator_rename(request: HtmxHttpRequest, operator_id: int) -> HttpResponse:
    return _save_row_form(request, operator_id, OperatorNameForm)


@require_POST
@supervisor_required
def operator_set_presence(request: HtmxHttpRequest, operator_id: int) -> HttpResponse:
    return _save_row_form(request, operator_id, OperatorPresenceForm)


def _give_login(request: HtmxHttpRequest, operator_id: int, **data) -> None:
    try:
        services.operator_login_create(
            actor=Actor.of_request(request), operator_id=operator_id, **data
        )
    except Operator.DoesNotExist:
        raise Http404("No such operator.") from None


@require_POST
@supervisor_required
def operator_login_create(request: HtmxHttpRequest, operator_id: int) -> HttpResponse:
    return _save_row_form(request, operator_id, OperatorLoginForm, save=_give_login)


@require_POST
@supervisor_required
def operator_login_remove(request: HtmxHttpRequest, operator_id: int) -> HttpResponse:
    try:
        services.operator_login_remove(actor=Actor.of_request(request), operator_id=operator_id)
    except Operator.DoesNotExist:
        raise Http404("No such operator.") from None
    return _row(request, operator_id)
