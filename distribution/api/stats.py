"""/api/stats/: the numbers behind the dashboard."""

from django.http import HttpRequest
from ninja import Router

from distribution import selectors

from .errors import AUTH_ERRORS
from .schemas import StatsOut

router = Router(tags=["stats"])


@router.get("/", response={200: StatsOut, **AUTH_ERRORS})
def get_stats(request: HttpRequest):
    """Totals, every operator's load and contacts, and each source's actual share per
    operator next to its expected share (weight / sum of the source's weights).
    """
    return selectors.distribution_stats()
