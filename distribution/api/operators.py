"""/api/operators/: who answers the contacts, and how many each may hold at once."""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Path, Query, Router, Status

from distribution import selectors, services
from distribution.models import Operator

from ..actors import Actor
from .errors import ONE_ERRORS, READ_ERRORS, WRITE_ERRORS
from .paging import page_of
from .prepared import PreparedGet
from .schemas import (
    ErrorOut,
    IdParam,
    OperatorCreateIn,
    OperatorOut,
    OperatorPage,
    OperatorUpdateIn,
    PageParams,
    ScheduleIn,
    ScheduleOut,
    ValidationErrorOut,
)

router = Router(tags=["operators"])

# The one-operator GET is the API's most frequent read: its SQL is built once.
operator_by_id = PreparedGet(selectors.operator_list)


@router.post("/", response={201: OperatorOut, 409: ValidationErrorOut, **WRITE_ERRORS})
def create_operator(request: HttpRequest, payload: OperatorCreateIn):
    """Create an operator. A name taken by another operator (in any letter case) is a 409."""
    operator = services.operator_create(actor=Actor.of_request(request), **payload.model_dump())
    return Status(201, selectors.operator_get(operator.pk))


@router.get("/", response={200: OperatorPage, **READ_ERRORS})
def list_operators(request: HttpRequest, page: Query[PageParams]):
    """Operators by name, each with its load (`open_contacts`)."""
    return page_of(selectors.operator_list(), page)


@router.get("/{operator_id}", response={200: OperatorOut, **ONE_ERRORS})
def get_operator(request: HttpRequest, operator_id: Path[IdParam]):
    return operator_by_id.get(operator_id)


@router.patch(
    "/{operator_id}",
    response={200: OperatorOut, 404: ErrorOut, 409: ValidationErrorOut, **WRITE_ERRORS},
)
def update_operator(request: HttpRequest, operator_id: Path[IdParam], payload: OperatorUpdateIn):
    """Change any of name, is_active, workload_limit, presence; fields left out stay as
    they are.

    Activating an operator, raising its limit or making it available assigns queued
    contacts at once. With `"requeue_open_contacts": true`, an operator that the change
    leaves unable to receive contacts (inactive, away, offline, off shift) returns its open
    contacts to the queue, and they go at once, oldest first, to those eligible.
    """
    get_object_or_404(Operator, pk=operator_id)
    services.operator_update(
        actor=Actor.of_request(request),
        operator_id=operator_id,
        **payload.model_dump(exclude_unset=True),
    )
    return selectors.operator_get(operator_id)


@router.get("/{operator_id}/schedule", response={200: ScheduleOut, **ONE_ERRORS})
def get_schedule(request: HttpRequest, operator_id: Path[IdParam]):
    """The operator's weekly working hours, in its time zone ([]: always on shift)."""
    return selectors.operator_schedule(operator_id)


@router.put("/{operator_id}/schedule", response={200: ScheduleOut, 404: ErrorOut, **WRITE_ERRORS})
def put_schedule(request: HttpRequest, operator_id: Path[IdParam], payload: ScheduleIn):
    """Replace the operator's weekly working hours (`"hours": []` removes them).

    Outside its hours an operator receives no contacts; a range that starts now drains the
    queue to it at once. A range ending before it starts, or two ranges of one weekday
    that overlap, are a 422 and change nothing.
    """
    get_object_or_404(Operator, pk=operator_id)
    services.operator_set_schedule(
        actor=Actor.of_request(request),
        operator_id=operator_id,
        time_zone=payload.time_zone,
        hours=[(h.weekday, h.start, h.end) for h in payload.hours],
    )
    return selectors.operator_schedule(operator_id)
