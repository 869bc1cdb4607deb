"""/api/sources/: where contacts come in, and each operator's weight for them."""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Path, Query, Router, Status

from distribution import allocation, fairness, selectors, services
from distribution.actors import Actor
from distribution.models import Source

from .errors import ONE_ERRORS, READ_ERRORS, WRITE_ERRORS
from .paging import page_of
from .schemas import (
    ErrorOut,
    FairnessOut,
    FairnessParams,
    IdParam,
    PageParams,
    RoutePreviewIn,
    RoutePreviewOut,
    SourceCreateIn,
    SourceOut,
    SourcePage,
    SourceUpdateIn,
    ValidationErrorOut,
    WeightsIn,
)

router = Router(tags=["sources"])


@router.post("/", response={201: SourceOut, 409: ValidationErrorOut, **WRITE_ERRORS})
def create_source(request: HttpRequest, payload: SourceCreateIn):
    """Create a source, with no weights yet. A taken name (in any letter case) is a 409."""
    source = services.source_create(actor=Actor.of_request(request), name=payload.name)
    return Status(201, selectors.source_list().get(pk=source.pk))


@router.get("/", response={200: SourcePage, **READ_ERRORS})
def list_sources(request: HttpRequest, page: Query[PageParams]):
    """Sources by name, each with its operators' weights."""
    return page_of(selectors.source_list(), page)


@router.get("/{source_id}", response={200: SourceOut, **ONE_ERRORS})
def get_source(request: HttpRequest, source_id: Path[IdParam]):
    return get_object_or_404(selectors.source_list(), pk=source_id)


@router.patch(
    "/{source_id}",
    response={200: SourceOut, 404: ErrorOut, 409: ValidationErrorOut, **WRITE_ERRORS},
)
def update_source(request: HttpRequest, source_id: Path[IdParam], payload: SourceUpdateIn):
    """Change any of name, mode, sticky_days, response_minutes; fields left out stay as they
    are, and an explicit null turns sticky_days or response_minutes off.

    Each changed field is recorded in the source's settings changes, with the token's name.
    """
    get_object_or_404(Source, pk=source_id)
    services.source_update(
        source_id=source_id,
        actor=Actor.of_request(request),
        **payload.model_dump(exclude_unset=True),
    )
    return selectors.source_list().get(pk=source_id)


@router.post("/{source_id}/weights", response={200: SourceOut, 404: ErrorOut, **WRITE_ERRORS})
def set_weights(request: HttpRequest, source_id: Path[IdParam], payload: WeightsIn):
    """Replace the source's whole weight set in one step.

    An operator listed twice or unknown is a 422 and leaves the old set untouched.
    Queued contacts of the source that can now be assigned are assigned at once.
    """
    get_object_or_404(Source, pk=source_id)
    services.source_set_weights(
        actor=Actor.of_request(request),
        source_id=source_id,
        weights=[(w.operator_id, w.weight) for w in payload.weights],
    )
    return selectors.source_list().get(pk=source_id)


@router.get(
    "/{source_id}/fairness",
    response={200: FairnessOut, **ONE_ERRORS, 422: ValidationErrorOut},
)
def get_fairness(request: HttpRequest, source_id: Path[IdParam], period: Query[FairnessParams]):
    """The source's fairness report for the days `since` to `until` (both included, in the
    site's time zone; at most 366 days; default the last 7): per operator the contacts it
    got by draw against the count its weights made it expect among the operators eligible
    at each draw, and Pearson's chi-square goodness-of-fit test (docs/distribution.md).
    A bad date, `since` after `until` or a longer period is a 422."""
    source = get_object_or_404(Source, pk=source_id)
    default_since, until = fairness.default_period(period.until)
    since = period.since or default_since
    report = fairness.source_fairness(source, since=since, until=until)
    return {
        "source_id": source.pk,
        "since": report.since,
        "until": report.until,
        "total": report.total,
        "draws": report.draws,
        "by_current_weights": report.by_current_weights,
        "sticky": report.sticky,
        "reassigned": report.reassigned,
        "operators": report.rows,
        "test": {
            "verdict": report.verdict,
            "verdict_text": report.verdict_text,
            "statistic": report.statistic,
            "df": report.df,
            "p_value": report.p_value,
            "unlikely_below": fairness.UNLIKELY_P_VALUE,
        },
    }


@router.post(
    "/{source_id}/route-preview", response={200: RoutePreviewOut, 404: ErrorOut, **WRITE_ERRORS}
)
def route_preview(
    request: HttpRequest, source_id: Path[IdParam], payload: RoutePreviewIn | None = None
):
    """Who would get the source's next contact now, and why every other operator would not
    (with `lead_identifier`, that lead's sticky owner is considered). Changes nothing."""
    get_object_or_404(Source, pk=source_id)
    lead = payload.lead_identifier if payload else None
    preview = allocation.preview(source_id, lead_identifier=lead)
    chance = preview.probability
    return {
        "operator_id": preview.operator_id,
        "reason": preview.reason,
        "candidates": [
            candidate.as_json()
            | {"probability": None if chance is None else chance[candidate.operator_id]}
            for candidate in preview.candidates
        ],
    }
