"""/operators/<id>/schedule/: an operator's weekly working hours and its time zone."""

from typing import cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from .. import decision_log, selectors, services
from ..actors import Actor
from ..forms import BaseShiftFormSet, ScheduleForm, ShiftFormSet, add_service_errors
from ..http import HtmxHttpRequest
from ..models import Operator
from ..permissions import supervisor_required
from .base import render_page
from .effects import describe
from .shift_text import ShiftText

TEMPLATE = "distribution/schedule.html"
PREFIX = "hours"


def _render(
    request: HtmxHttpRequest, operator: Operator, form, hours, *, status: int = 200
) -> HttpResponse:
    context = {
        "operator": operator,
        "shift": ShiftText.of(operator, timezone.now()),
        "form": form,
        "hours": hours,
    }
    return render_page(request, TEMPLATE, context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@supervisor_required
def operator_schedule(request: HtmxHttpRequest, operator_id: int) -> HttpResponse:
    try:
        operator = Operator.objects.get(pk=operator_id)
        schedule = selectors.operator_schedule(operator_id)
    except Operator.DoesNotExist:
        raise Http404("No such operator.") from None
    if request.method != "POST":
        form = ScheduleForm(initial={"time_zone": schedule["time_zone"]})
        initial = [
            {"weekday": h.weekday, "start": h.start, "end": h.end} for h in schedule["hours"]
        ]
        return _render(request, operator, form, ShiftFormSet(initial=initial, prefix=PREFIX))

    form = ScheduleForm(request.POST)
    hours = cast(BaseShiftFormSet, ShiftFormSet(request.POST, prefix=PREFIX))
    if form.is_valid() and hours.is_valid():
        try:
            with decision_log.capture() as captured:
                services.operator_set_schedule(
                    actor=Actor.of_request(request),
                    operator_id=operator_id,
                    time_zone=form.cleaned_data["time_zone"],
                    hours=hours.hours(),
                )
        except Operator.DoesNotExist:
            raise Http404("No such operator.") from None
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            # Hours that start a shift now drain the queue to the operator: said too.
            saved = f"Working hours of {operator.name} saved"
            messages.success(request, describe(captured, lead=saved))
            return redirect("distribution:operator_list")
    return _render(request, operator, form, hours, status=422)
