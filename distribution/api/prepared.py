"""
One object by id from a selector's queryset, with the queryset's SQL built once.

Building and compiling an annotated queryset (an operator with its load as a subquery)
costs the ORM about half a millisecond, several times what the database spends on the
query: a single-object GET of the API spent most of its time there. A PreparedGet
compiles `queryset.filter(pk=<placeholder>)` once per database engine, keeping what the
ORM's compiler works out for it (the columns, which of them are the model's fields and
which are annotations, and the database's converters for each), and then runs that SQL
with only the id bound and builds the object the way the ORM's own iterator does
(Model.from_db, then the annotations), so fields and annotations come typed as the ORM
gives them. Its joins (select_related) and ordering are left out: use it where the
answer needs no related object.

The selector stays the one place that says what the query is. A queryset whose SQL
changes from call to call (a filter on the current time, say) cannot be prepared: that
is checked by compiling it twice, and such a queryset simply runs through the ORM.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connection
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)

# An id that no row holds, to find where the real id goes among the bound parameters.
_PLACEHOLDER = -7_301_190_233


@dataclass(frozen=True)
class _Compiled:
    model: type[Model]
    sql: str
    params: tuple
    at: int  # Where the id goes in params.
    # Column position -> (the converters the ORM applies to it, its expression).
    converters: dict[int, tuple[list[Callable], Any]]
    fields: slice  # The model's own columns ...
    attnames: list[str]  # ... and the attributes they fill.
    annotations: list[tuple[str, int]]  # (name, column position)

    def build(self, row: tuple) -> Model:
        """The object of a row, as the ORM's ModelIterable makes it."""
        values = list(row)
        for at, (converters, expression) in self.converters.items():
            value = values[at]
            for convert in converters:
                value = convert(value, expression, connection)
            values[at] = value
        obj = self.model.from_db(connection.alias, self.attnames, values[self.fields])
        for name, at in self.annotations:
            setattr(obj, name, values[at])
        return obj


class PreparedGet(Generic[M]):
    def __init__(self, queryset: Callable[[], QuerySet[M]]) -> None:
        self.queryset = queryset
        self._compiled: dict[str, _Compiled | None] = {}

    def get(self, pk: int) -> M:
        """The object with this id; the model's DoesNotExist when there is none."""
        vendor = connection.vendor
        if vendor not in self._compiled:
            self._compiled[vendor] = self._compile()
        compiled = self._compiled[vendor]
        if compiled is None:
            return self.queryset().get(pk=pk)
        params = compiled.params
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, (*params[: compiled.at], pk, *params[compiled.at + 1 :]))
            row = cursor.fetchone()
        model = compiled.model
        if row is None:
            raise model.DoesNotExist(f"No {model.__name__} with id {pk}.")  # type: ignore[attr-defined]
        return compiled.build(row)  # type: ignore[return-value]

    def _one(self) -> QuerySet[M]:
        return self.queryset().select_related(None).order_by().filter(pk=_PLACEHOLDER)

    def _compile(self) -> _Compiled | None:
        one = self._one()
        compiler = one.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()  # Also works out the columns (compiler.select).
        if (sql, params) != self._one().query.sql_with_params():
            return None
        places = [i for i, param in enumerate(params) if param == _PLACEHOLDER]
        if len(places) != 1 or compiler.klass_info is None:
            return None
        columns = compiler.klass_info["select_fields"]
        first, last = columns[0], columns[-1] + 1
        return _Compiled(
            model=one.model,
            sql=sql,
            params=tuple(params),
            at=places[0],
            converters=compiler.get_converters([column for column, _, _ in compiler.select]),
            fields=slice(first, last),
            attnames=[column.target.attname for column, _, _ in compiler.select[first:last]],
            annotations=list(compiler.annotation_col_map.items()),
        )
