"""/leads/ and /leads/<id>/: finding a customer and its contacts over time."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from .. import selectors
from ..forms import LeadSearchForm
from .base import HtmxHttpRequest, paginate, render_page, supervisor_required


@require_safe
@supervisor_required
def lead_list(request: HtmxHttpRequest) -> HttpResponse:
    form = LeadSearchForm(request.GET)
    search = form.cleaned_data["search"] if form.is_valid() else ""
    page = paginate(request, selectors.lead_list(search=search))
    context = {"form": form, "page_obj": page, "search": search}
    return render_page(request, "distribution/leads.html", context, fragment="lead_list")


@require_safe
@supervisor_required
def lead_detail(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    lead = get_object_or_404(selectors.lead_list(), pk=lead_id)
    page = paginate(request, selectors.lead_contacts(lead))
    context = {"lead": lead, "page_obj": page}
    return render_page(request, "distribution/lead_detail.html", context, fragment="history")
