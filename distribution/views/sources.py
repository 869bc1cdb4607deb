"""/sources/ and /sources/<id>/: sources, their names, and each operator's weight for one source."""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST, require_safe

from .. import allocation, decision_log, selectors, services
from ..actors import Actor
from ..forms import (
    OperatorChoices,
    SourceCreateForm,
    SourceNameForm,
    SourceSettingsForm,
    WeightForm,
    add_service_errors,
)
from ..http import HtmxHttpRequest
from ..models import Operator, Source
from ..numbers import parse_id
from ..permissions import supervisor_required
from .base import paginate, render_page, wants_fragment
from .effects import describe
from .log_text import ChangeText

LIST_TEMPLATE = "distribution/sources.html"
DETAIL_TEMPLATE = "distribution/source_detail.html"
PREVIEW_TEMPLATE = "distribution/_route_preview.html"


@dataclass
class WeightRow:
    operator: Operator
    weight: int
    form: WeightForm
    share: float  # weight / sum of the source's weights
    contacts: int  # contacts of this source the operator received
    actual_share: float  # contacts / assigned contacts of the source
    now: selectors.OperatorNow  # its load, limit and why it would not take a contact now
    share_now: float  # its chance of getting a new contact of this source now


def _list_page(request: HtmxHttpRequest, form: SourceCreateForm, *, status: int = 200):
    sources = selectors.source_list_with_counts()
    context = {"page_obj": paginate(request, sources), "create_form": form}
    return render_page(request, LIST_TEMPLATE, context, status=status)


def _weights_context(source: Source, bound: WeightForm | None = None) -> dict:
    """The weights table of a source: one row per weighted operator, and the "add" form.

    `bound` is a submitted form with errors: it replaces the form it came from.
    """
    operators = list(selectors.operator_list())
    shares = selectors.source_shares(source)
    weighted = {pk for pk, row in shares.items() if row["weight"]}
    now = selectors.OperatorsNow(operators)
    shares_now = now.shares(
        (op.pk, shares[op.pk]["weight"]) for op in operators if op.pk in weighted
    )
    assigned = sum(row["contacts"] for row in shares.values())
    choices = [(op.pk, op.name) for op in operators]
    rows = []
    for op in (op for op in operators if op.pk in weighted):
        row = shares[op.pk]
        form = WeightForm(
            choices=choices, row_of=op.pk, initial={"operator": op.pk, "weight": row["weight"]}
        )
        if bound is not None and bound.row_of == op.pk:
            form = bound
        rows.append(
            WeightRow(
                op,
                row["weight"],
                form,
                row["expected_share"],
                row["contacts"],
                row["share"],
                now.states[op.pk],
                shares_now[op.pk],
            )
        )
    unweighted = [(op.pk, op.name) for op in operators if op.pk not in weighted]
    add_choices: OperatorChoices = [("", "Choose an operator"), *unweighted]
    add_form = WeightForm(choices=add_choices)
    if bound is not None and bound.row_of is None:
        # The submitted form accepted any operator; offer again only those without a weight.
        bound.offer(add_choices)
        add_form = bound
    return {
        "source": source,
        "rows": rows,
        "add_form": add_form,
        "show_add_form": bool(unweighted) or add_form.is_bound,
        "has_operators": bool(operators),
        "assigned": assigned,
        # Weights exist, yet every new contact of this source would wait in the queue.
        "nobody_can_take": bool(rows) and not any(shares_now.values()),
    }


def _detail(
    request: HtmxHttpRequest,
    source: Source,
    bound: WeightForm | None = None,
    *,
    name_form: SourceNameForm | None = None,
    settings_form: SourceSettingsForm | None = None,
    preview: dict | None = None,
    notice: str = "",
    notice_for: int | None = None,
    status: int = 200,
) -> HttpResponse:
    """The page, or its weights table for htmx; `notice` (what a weight edit did) is said
    in the row of the operator `notice_for`, or above the table when that row is gone."""
    context = _weights_context(source, bound)
    context["notice"] = notice
    context["notice_in_row"] = (
        notice_for if any(row.operator.pk == notice_for for row in context["rows"]) else None
    )
    context["name_form"] = name_form or _name_form(source)
    context.update(_settings_context(source, settings_form))
    context["preview"] = preview
    return render_page(request, DETAIL_TEMPLATE, context, fragment="weights", status=status)


def _settings_context(source: Source, form: SourceSettingsForm | None = None) -> dict:
    """The routing settings form (`form`: a submitted one with errors) and the source's
    settings changes, newest first."""
    changes = selectors.source_changes(source.pk)
    return {
        "source": source,
        "settings_form": form or SourceSettingsForm.of(source),
        "changes": [ChangeText.of(change, on="source") for change in changes.items],
        "changes_count": changes.count,
    }


def _heading(
    request: HtmxHttpRequest, source: Source, form: SourceNameForm, *, status: int
) -> HttpResponse:
    """The page's heading with its rename form, for htmx; the whole page otherwise."""
    if not request.htmx:
        return _detail(request, source, name_form=form, status=status)
    context = {"source": source, "name_form": form}
    return render_page(request, DETAIL_TEMPLATE, context, fragment="heading", status=status)


def _name_form(source: Source) -> SourceNameForm:
    return SourceNameForm(initial={"name": source.name})


@require_safe
@supervisor_required
def source_list(request: HtmxHttpRequest) -> HttpResponse:
    return _list_page(request, SourceCreateForm())


@require_POST
@supervisor_required
def source_create(request: HtmxHttpRequest) -> HttpResponse:
    form = SourceCreateForm(request.POST)
    if form.is_valid():
        try:
            source = services.source_create(
                actor=Actor.of_request(request), name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Source {source.name} added: now give operators weights.")
            return redirect("distribution:source_detail", source_id=source.pk)
    return _list_page(request, form, status=422)


@require_safe
@supervisor_required
def source_detail(request: HtmxHttpRequest, source_id: int) -> HttpResponse:
    return _detail(request, get_object_or_404(Source, pk=source_id))


@require_POST
@supervisor_required
def source_rename(request: HtmxHttpRequest, source_id: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=source_id)
    form = SourceNameForm(request.POST)
    if form.is_valid():
        try:
            source = services.source_update(
                source_id=source.pk,
                actor=Actor.of_request(request),
                name=form.cleaned_data["name"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if not request.htmx:
                return redirect("distribution:source_detail", source_id=source.pk)
            return _heading(request, source, _name_form(source), status=200)
    return _heading(request, source, form, status=422)


@require_POST
@supervisor_required
def source_settings(request: HtmxHttpRequest, source_id: int) -> HttpResponse:
    """Change the routing settings; htmx gets the settings card back, in place."""
    source = get_object_or_404(Source, pk=source_id)
    form = SourceSettingsForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            source = services.source_update(
                source_id=source.pk, actor=Actor.of_request(request), **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if not request.htmx:
                messages.success(request, f"Routing settings of {source.name} saved.")
                return redirect("distribution:source_detail", source_id=source.pk)
            form, status = SourceSettingsForm.of(source), 200
    if not request.htmx:
        return _detail(request, source, settings_form=form, status=status)
    context = _settings_context(source, form)
    return render_page(request, DETAIL_TEMPLATE, context, fragment="settings", status=status)


@require_POST
@supervisor_required
def source_weight_set(request: HtmxHttpRequest, source_id: int) -> HttpResponse:
    """Add an operator's weight, or change it: the same request either way."""
    source = get_object_or_404(Source, pk=source_id)
    choices: OperatorChoices = [
        ("", "Choose an operator"),
        *((op.pk, op.name) for op in Operator.objects.only("name")),
    ]
    # Rows of the table send row=1, so that an error shows in that row, not the "add" form.
    row_of = parse_id(request.POST.get("operator")) if request.POST.get("row") == "1" else None
    if row_of not in selectors.source_weights(source):
        # A row gone from the table meanwhile (its weight removed or its operator deleted
        # in another tab) would take its error with it: the "add" form shows it instead.
        row_of = None
    form = WeightForm(request.POST, choices=choices, row_of=row_of)
    if form.is_valid():
        operator_id = form.cleaned_data["operator"]
        try:
            notice = _set_weight(request, source, operator_id, form.cleaned_data["weight"])
        except ValidationError as exc:
            add_service_errors(form, exc, fields={"weights": "weight"})
        else:
            return _after_change(request, source, notice, operator_id)
    return _detail(request, source, form, status=422)


@require_POST
@supervisor_required
def source_weight_remove(
    request: HtmxHttpRequest, source_id: int, operator_id: int
) -> HttpResponse:
    source = get_object_or_404(Source, pk=source_id)
    notice = _set_weight(request, source, operator_id, None)
    return _after_change(request, source, notice, operator_id)


def _set_weight(
    request: HtmxHttpRequest, source: Source, operator_id: int, weight: int | None
) -> str:
    """services.source_set_weight, and what it did in words (the log entries it wrote)."""
    with decision_log.capture() as captured:
        services.source_set_weight(
            actor=Actor.of_request(request),
            source_id=source.pk,
            operator_id=operator_id,
            weight=weight,
        )
    return describe(captured)


def _after_change(
    request: HtmxHttpRequest, source: Source, notice: str, operator_id: int
) -> HttpResponse:
    if request.htmx:
        return _detail(request, source, notice=notice, notice_for=operator_id)
    if notice:
        messages.success(request, notice)
    return redirect("distribution:source_detail", source_id=source.pk)


@dataclass
class PreviewRow:
    name: str
    candidate: allocation.Candidate
    probability: float | None


def _preview_context(source: Source) -> dict:
    """The dry run's answer, with each candidate's name."""
    preview = allocation.preview(source.pk)
    names = dict(
        Operator.objects.filter(pk__in=[c.operator_id for c in preview.candidates]).values_list(
            "pk", "name"
        )
    )
    chance = preview.probability or {}
    rows = [
        PreviewRow(names.get(c.operator_id, "?"), c, chance.get(c.operator_id))
        for c in preview.candidates
    ]
    return {
        "chosen": names.get(preview.operator_id or 0),
        "reason": preview.reason,
        "rows": rows,
        "random": preview.probability is not None,
    }


@require_POST
@supervisor_required
def source_route_preview(request: HtmxHttpRequest, source_id: int) -> HttpResponse:
    """Who would get the next contact now, and why not the others; it writes nothing."""
    source = get_object_or_404(Source, pk=source_id)
    preview = _preview_context(source)
    if not wants_fragment(request):
        return _detail(request, source, preview=preview)
    context = {"source": source, "preview": preview}
    return render_page(request, PREVIEW_TEMPLATE, context, fragment="route_preview")
