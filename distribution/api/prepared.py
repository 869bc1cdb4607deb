"""
One object by id from a selector's queryset, with the queryset's SQL built once.

Building and compiling an annotated queryset (an operator with its load as a subquery)
costs the ORM about half a millisecond, several times what the database spends on the
query: a single-object GET of the API spent most of its time there. A PreparedGet
compiles `queryset.filter(pk=<placeholder>)` once per database engine and then runs that
SQL with only the id bound, as a raw query of the same model (so fields, annotations
and the database's converters are as the ORM gives them). Its joins (select_related) and
ordering are left out: use it where the answer needs no related object.

The selector stays the one place that says what the query is. A queryset whose SQL
changes from call to call (a filter on the current time, say) cannot be prepared: that
is checked by compiling it twice, and such a queryset simply runs through the ORM.
"""

from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import connection
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)

# An id that no row holds, to find where the real id goes among the bound parameters.
_PLACEHOLDER = -7_301_190_233

Compiled = tuple[type[Model], str, tuple, int]


class PreparedGet(Generic[M]):
    def __init__(self, queryset: Callable[[], QuerySet[M]]) -> None:
        self.queryset = queryset
        self._compiled: dict[str, Compiled | None] = {}

    def get(self, pk: int) -> M:
        """The object with this id; the model's DoesNotExist when there is none."""
        vendor = connection.vendor
        if vendor not in self._compiled:
            self._compiled[vendor] = self._compile()
        compiled = self._compiled[vendor]
        if compiled is None:
            return self.queryset().get(pk=pk)
        model, sql, params, at = compiled
        bound = (*params[:at], pk, *params[at + 1 :])
        for obj in model._default_manager.raw(sql, bound):
            return obj  # type: ignore[return-value]
        raise model.DoesNotExist(f"No {model.__name__} with id {pk}.")  # type: ignore[attr-defined]

    def _one(self) -> QuerySet[M]:
        return self.queryset().select_related(None).order_by().filter(pk=_PLACEHOLDER)

    def _compile(self) -> Compiled | None:
        one = self._one()
        sql, params = one.query.sql_with_params()
        if (sql, params) != self._one().query.sql_with_params():
            return None
        places = [i for i, param in enumerate(params) if param == _PLACEHOLDER]
        if len(places) != 1:
            return None
        return one.model, sql, tuple(params), places[0]
