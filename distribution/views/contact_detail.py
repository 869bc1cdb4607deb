"""/contacts/<id>/: one contact, and its decision log (every event, who caused it, and for
automatic decisions each operator considered and why it was passed over)."""

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_safe

from .. import selectors
from ..http import HtmxHttpRequest
from ..permissions import supervisor_required
from .base import render_page


@require_safe
@supervisor_required
def contact_detail(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    contact = selectors.contact_list().filter(pk=contact_id).first()
    if contact is None:
        raise Http404("No such contact.")
    context = {"contact": contact, "entries": selectors.contact_timeline(contact.pk)}
    return render_page(request, "distribution/contact_detail.html", context)
