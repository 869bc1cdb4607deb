"""/operators/<id>/: one operator as it is now, and the changes made to its settings (limit,
activity, presence, working hours, weights), newest first."""

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from .. import selectors
from ..http import HtmxHttpRequest
from ..models import Operator
from ..permissions import supervisor_required
from .base import render_page
from .log_text import ChangeText
from .shift_text import ShiftText


@require_safe
@supervisor_required
def operator_detail(request: HtmxHttpRequest, operator_id: int) -> HttpResponse:
    try:
        operator = selectors.operator_get(operator_id)
    except Operator.DoesNotExist:
        raise Http404("No such operator.") from None
    changes = selectors.operator_changes(operator.pk)
    context = {
        "operator": operator,
        "shift": ShiftText.of(operator, timezone.now()),
        "changes": [ChangeText.of(change, on="operator") for change in changes.items],
        "count": changes.count,
    }
    return render_page(request, "distribution/operator_detail.html", context)
