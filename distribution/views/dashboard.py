"""/: what a supervisor looks at first: totals, the queue, loads, shares, the last days."""

from dataclasses import dataclass
from datetime import date

from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_safe

from .. import selectors
from ..http import HtmxHttpRequest
from ..permissions import supervisor_required
from .base import render_page

# The contacts-per-day chart, in SVG user units (it scales to its box).
CHART_WIDTH, CHART_HEIGHT, CHART_TOP, CHART_BOTTOM = 700, 180, 22, 24


@dataclass
class DayBar:
    day: date
    count: int
    x: float
    y: float
    width: float
    height: float

    @property
    def center(self) -> float:
        return self.x + self.width / 2


def day_bars(per_day: list[tuple[date, int]]) -> list[DayBar]:
    """Bars for the chart, the tallest reaching the top; a day without contacts has none."""
    top = max((n for _, n in per_day), default=0) or 1
    slot = CHART_WIDTH / max(len(per_day), 1)
    plot = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    bars = []
    for i, (day, n) in enumerate(per_day):
        height = plot * n / top
        y = CHART_TOP + plot - height
        bars.append(
            DayBar(
                day,
                n,
                round(i * slot + slot * 0.15, 1),
                round(y, 1),
                round(slot * 0.7, 1),
                round(height, 1),
            )
        )
    return bars


# How often the dashboard's numbers refresh themselves (static/js/live.js reads it from
# the page), in seconds.
LIVE_EVERY_SECONDS = 5


def _live_context() -> dict:
    """The numbers that refresh themselves: totals, the queue and why it waits, every
    operator's load and state, and each source's shares. A fixed number of queries."""
    stats = selectors.distribution_stats()
    names = {op["id"]: op["name"] for op in stats["operators"]}
    for source in stats["sources"]:
        for row in source["operators"]:
            row["name"] = names.get(row["operator_id"], f"#{row['operator_id']}")
    operators_now = selectors.OperatorsNow(selectors.operator_list())
    return {
        "totals": stats["totals"],
        "operators": list(operators_now),
        "queue_waits": selectors.queue_by_source(operators_now),
        "sources": stats["sources"],
        "as_of": operators_now.now,
    }


@require_safe
@supervisor_required
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    per_day = selectors.contacts_per_day(days=14)
    context = {
        **_live_context(),
        "live_every_ms": LIVE_EVERY_SECONDS * 1000,
        "bars": day_bars(per_day),
        "days_total": sum(n for _, n in per_day),
        "chart": {
            "width": CHART_WIDTH,
            "height": CHART_HEIGHT,
            "base": CHART_HEIGHT - CHART_BOTTOM,
        },
        "recent": selectors.recent_contacts(limit=8),
    }
    return render_page(request, "distribution/dashboard.html", context)


@require_safe
@supervisor_required
def dashboard_live(request: HtmxHttpRequest) -> HttpResponse:
    """Only the numbers, for the dashboard to poll (the whole page without htmx)."""
    if not request.htmx:
        return redirect("distribution:dashboard")
    return render_page(request, "distribution/dashboard.html", _live_context(), fragment="live")
