"""/operators/: the list, adding an operator, and in-place renaming, activation and limits."""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from .. import selectors, services
from ..forms import (
    OperatorActiveForm,
    OperatorCreateForm,
    OperatorLimitForm,
    OperatorNameForm,
    add_service_errors,
)
from ..http import HtmxHttpRequest
from ..models import Operator
from ..permissions import supervisor_required
from .base import paginate, render_page

TEMPLATE = "distribution/operators.html"
RowForm = OperatorLimitForm | OperatorNameForm


@dataclass
class OperatorRow:
    operator: Operator
    limit_form: OperatorLimitForm
    name_form: OperatorNameForm

    @classmethod
    def of(cls, operator: Operator, bound: RowForm | None = None) -> "OperatorRow":
        """The row's forms; `bound`, a submitted form with errors, replaces its kind in its row."""
        row = cls(
            operator, OperatorLimitForm(operator=operator), OperatorNameForm(operator=operator)
        )
        if isinstance(bound, OperatorLimitForm) and bound.operator.pk == operator.pk:
            row.limit_form = bound
        if isinstance(bound, OperatorNameForm) and bound.operator.pk == operator.pk:
            row.name_form = bound
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
    rows = [OperatorRow.of(op, bound) for op in page]
    context = {"page_obj": page, "rows": rows, "create_form": create_form}
    return render_page(request, TEMPLATE, context, status=status)


def _row(
    request: HtmxHttpRequest,
    operator_id: int,
    bound: RowForm | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    """The operator's table row, for htmx; the whole list otherwise."""
    if not request.htmx:
        # Back to the page of the list the form was on (its action carries ?page=).
        return redirect(f"{reverse('distribution:operator_list')}?{request.GET.urlencode()}")
    row = OperatorRow.of(_operator(operator_id), bound)
    return render_page(request, TEMPLATE, {"row": row}, fragment="operator_row", status=status)


def _refused(request: HtmxHttpRequest, form: RowForm) -> HttpResponse:
    """A row's form with errors: in its row, or in the whole page without javascript."""
    if not request.htmx:
        return _page(request, OperatorCreateForm(), bound=form, status=422)
    return _row(request, form.operator.pk, form, status=422)


def _operator(operator_id: int) -> Operator:
    try:
        return selectors.operator_get(operator_id)
    except Operator.DoesNotExist:
        raise Http404("No such operator.") from None


def _update(operator_id: int, **changes) -> None:
    """services.operator_update; an operator deleted since the page loaded is a 404."""
    try:
        services.operator_update(operator_id=operator_id, **changes)
    except Operator.DoesNotExist:
        raise Http404("No such operator.") from None


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
            operator = services.operator_create(**form.cleaned_data)
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
    _update(operator_id, is_active=form.cleaned_data["is_active"])
    return _row(request, operator_id)


def _save_row_form(request: HtmxHttpRequest, operator_id: int, form_class) -> HttpResponse:
    """Save one field of an operator from its row's form: the row again, or the errors."""
    form = form_class(request.POST, operator=_operator(operator_id))
    if form.is_valid():
        try:
            _update(operator_id, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _row(request, operator_id)
    return _refused(request, form)


@require_POST
@supervisor_required
def operator_set_limit(request: HtmxHttpRequest, operator_id: int) -> HttpResponse:
    return _save_row_form(request, operator_id, OperatorLimitForm)


@require_POST
@supervisor_required
def operator_rename(request: HtmxHttpRequest, operator_id: int) -> HttpResponse:
    return _save_row_form(request, operator_id, OperatorNameForm)
