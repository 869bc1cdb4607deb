"""/sources/<id>/fairness/: a source's fairness report for a period, as a page or as CSV
(?format=csv). The numbers are distribution/fairness.py's; this module only formats them,
once, for both."""

import csv
from datetime import date

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from .. import fairness
from ..forms import FairnessPeriodForm
from ..http import HtmxHttpRequest
from ..models import Source
from ..permissions import supervisor_required
from .base import render_page

TEMPLATE = "distribution/source_fairness.html"
HEADER = ["Operator", "Weight now", "Contacts", "Actual share", "Expected share", "Expected count"]
NOT_APPLICABLE = "n/a"
# A cell that starts like this is a formula to a spreadsheet (CSV injection): an
# operator named "=HYPERLINK(...)" must stay text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _share(value: float) -> str:
    return f"{value:.1%}"


def _p_value(value: float | None) -> str:
    if value is None:
        return NOT_APPLICABLE
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def table(report: fairness.Report) -> list[list[str]]:
    """The report's rows as the page and the CSV show them, HEADER's columns."""
    return [
        [
            row.name,
            "none" if row.weight is None else str(row.weight),
            str(row.contacts),
            _share(row.share),
            _share(row.expected_share),
            f"{row.expected:.2f}",
        ]
        for row in report.rows
    ]


def summary(report: fairness.Report) -> list[tuple[str, str]]:
    """The test and what was counted, as (label, value) lines."""
    return [
        ("Period", f"{report.since:%Y-%m-%d} to {report.until:%Y-%m-%d}"),
        ("Chi-square", NOT_APPLICABLE if report.statistic is None else f"{report.statistic:.3f}"),
        ("Degrees of freedom", NOT_APPLICABLE if report.df is None else str(report.df)),
        ("p-value", _p_value(report.p_value)),
        ("Verdict", report.verdict_text),
        ("Counted from the decision log (draws)", str(report.draws)),
        ("Counted against today's weights (before the log)", str(report.by_current_weights)),
        ("Not counted: sticky assignments", str(report.sticky)),
        ("Not counted: reassigned by hand", str(report.reassigned)),
    ]


def _period(form: FairnessPeriodForm) -> tuple[date, date] | None:
    if not form.is_bound:
        return fairness.default_period()
    if form.is_valid():
        return form.cleaned_data["since"], form.cleaned_data["until"]
    return None


@require_safe
@supervisor_required
def source_fairness(request: HtmxHttpRequest, source_id: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=source_id)
    asked = "since" in request.GET or "until" in request.GET
    form = FairnessPeriodForm(request.GET if asked else None)
    period = _period(form)
    if period is None:
        context = {"source": source, "form": form, "report": None}
        return render_page(request, TEMPLATE, context, status=422)
    report = fairness.source_fairness(source, since=period[0], until=period[1])
    if request.GET.get("format") == "csv":
        return _csv(report)
    if not form.is_bound:
        form = FairnessPeriodForm(initial={"since": period[0], "until": period[1]})
    context = {
        "source": source,
        "form": form,
        "report": report,
        "header": HEADER,
        "rows": [list(zip(HEADER, cells, strict=True)) for cells in table(report)],
        "summary": summary(report),
        "min_expected": fairness.MIN_EXPECTED_COUNT,
        "unlikely_p": fairness.UNLIKELY_P_VALUE,
    }
    return render_page(request, TEMPLATE, context)


def _csv(report: fairness.Report) -> HttpResponse:
    # Ids and ISO dates only: the name of a source may hold anything.
    filename = f"fairness-source-{report.source.pk}-{report.since}-{report.until}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(HEADER)
    for cells in table(report):
        name, *rest = cells
        writer.writerow([f"'{name}" if name.startswith(FORMULA_START) else name, *rest])
    writer.writerow([])
    writer.writerows(summary(report))
    return response
