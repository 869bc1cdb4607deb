"""/api/operators/: who answers the contacts, and how many each may hold at once."""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Path, Query, Router, Status

from distribution import selectors, services
from distribution.models import Operator

from .errors import ONE_ERRORS, READ_ERRORS, WRITE_ERRORS
from .paging import page_of
from .schemas import (
    ErrorOut,
    IdParam,
    OperatorCreateIn,
    OperatorOut,
    OperatorPage,
    OperatorUpdateIn,
    PageParams,
    ValidationErrorOut,
)

router = Router(tags=["operators"])


@router.post("/", response={201: OperatorOut, 409: ValidationErrorOut, **WRITE_ERRORS})
def create_operator(request: HttpRequest, payload: OperatorCreateIn):
    """Create an operator. A name taken by another operator (in any letter case) is a 409."""
    operator = services.operator_create(**payload.model_dump())
    return Status(201, selectors.operator_get(operator.pk))


@router.get("/", response={200: OperatorPage, **READ_ERRORS})
def list_operators(request: HttpRequest, page: Query[PageParams]):
    """Operators by name, each with its load (`open_contacts`)."""
    return page_of(selectors.operator_list(), page)


@router.get("/{operator_id}", response={200: OperatorOut, **ONE_ERRORS})
def get_operator(request: HttpRequest, operator_id: Path[IdParam]):
    return get_object_or_404(selectors.operator_list(), pk=operator_id)


@router.patch(
    "/{operator_id}",
    response={200: OperatorOut, 404: ErrorOut, 409: ValidationErrorOut, **WRITE_ERRORS},
)
def update_operator(request: HttpRequest, operator_id: Path[IdParam], payload: OperatorUpdateIn):
    """Change any of name, is_active, workload_limit; fields left out stay as they are.

    Activating an operator or raising its limit assigns queued contacts at once.
    """
    get_object_or_404(Operator, pk=operator_id)
    services.operator_update(operator_id=operator_id, **payload.model_dump(exclude_unset=True))
    return selectors.operator_get(operator_id)
