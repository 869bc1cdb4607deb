"""/leads/ and /leads/<id>/: finding a customer and its contacts over time."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from .. import selectors
from ..forms import LeadSearchForm
from ..http import HtmxHttpRequest
from ..permissions import supervisor_required
from .base import paginate, render_page, wants_fragment


@require_safe
@supervisor_required
def lead_list(request: HtmxHttpRequest) -> HttpResponse:
    form = LeadSearchForm(request.GET)
    if form.is_valid():
        leads, status = selectors.lead_list(search=form.cleaned_data["search"]), 200
    else:
        # A search that cannot be run (too long, a NUL) lists nothing, rather than
        # every lead as if nothing had been typed; the error says why.
        leads, status = selectors.lead_list().none(), 422
    context = {
        "form": form,
        "page_obj": paginate(request, leads),
        "search": form.cleaned_data.get("search", ""),
        # htmx swaps only the list: the search field's errors travel with it, out of band.
        "errors_out_of_band": wants_fragment(request),
    }
    return render_page(
        request, "distribution/leads.html", context, fragment="lead_list", status=status
    )


@require_safe
@supervisor_required
def lead_detail(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    lead = get_object_or_404(selectors.lead_list(), pk=lead_id)
    page = paginate(request, selectors.lead_contacts(lead))
    context = {"lead": lead, "page_obj": page, "timeline": selectors.lead_timeline(lead.pk)}
    return render_page(request, "distribution/lead_detail.html", context, fragment="history")
