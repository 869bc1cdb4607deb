"""
Counts of contacts per (source, operator, status), kept by the services in the
transaction that changes a contact, so that pages read a few rows instead of counting the
history (models.ContactTally).

A transaction collects its moves in a `Moves` (the Pool has one) and writes them with
`write`, one statement for all of them: an upsert that adds each key's delta. Keys are
written in sorted order, so two transactions that touch the same rows on PostgreSQL lock
them in the same order (they already hold the operators' locks; this only keeps the
tally from adding a cycle of its own).

`recount` is the truth the tallies must equal: the stateful test and the migration that
created them use it.
"""

from collections import Counter
from collections.abc import Iterable, Mapping

from django.db import connection
from django.db.models import Count, Min

from .models import Contact, ContactTally

# (source_id, operator id or 0, status)
Key = tuple[int, int, str]
NO_OPERATOR = 0
# The status under which a source counts the leads whose first contact came through it.
LEAD = "lead"


def key_of(source_id: int, operator_id: int | None, status: str) -> Key:
    return (source_id, operator_id or NO_OPERATOR, status)


class Moves(Counter[Key]):
    """Deltas of one transaction, by key."""

    def add(self, source_id: int, operator_id: int | None, status: str) -> None:
        """One contact more under this key (a registration, the new side of a change)."""
        self[key_of(source_id, operator_id, status)] += 1

    def remove(self, source_id: int, operator_id: int | None, status: str) -> None:
        """One contact fewer under this key (the old side of a change)."""
        self[key_of(source_id, operator_id, status)] -= 1

    def change(
        self,
        source_id: int,
        before: tuple[int | None, str],
        after: tuple[int | None, str],
    ) -> None:
        """A contact of `source_id` went from (operator, status) `before` to `after`."""
        self.remove(source_id, *before)
        self.add(source_id, *after)


def write(moves: Mapping[Key, int]) -> None:
    """Add every non-zero delta to its row, creating rows as needed: one statement.

    The deltas come in as a table (`d`); the row inserted for a new key carries the delta
    when positive, else 0, because both databases check `n >= 0` on the proposed row
    before they look for a conflict; an existing row gets its delta, negative or not, from
    `d`. (A negative delta for a key never counted leaves a 0 there, a wrong tally that I9
    reports.)"""
    rows = sorted((key, delta) for key, delta in moves.items() if delta)
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(ContactTally._meta.db_table)
    # Typed once, in the first row, for PostgreSQL; SQLite ignores the casts' absence.
    typed = "(CAST(%s AS BIGINT), CAST(%s AS BIGINT), CAST(%s AS VARCHAR(10)), CAST(%s AS BIGINT))"
    values = ", ".join([typed] + ["(%s, %s, %s, %s)"] * (len(rows) - 1))
    params: list[int | str] = []
    for (source_id, operator_key, status), delta in rows:
        params += [source_id, operator_key, status, delta]
    same_key = "d.s = excluded.source_id AND d.o = excluded.operator_key AND d.st = excluded.status"
    sql = (
        f"WITH d (s, o, st, delta) AS (VALUES {values}) "
        f"INSERT INTO {table} AS tally (source_id, operator_key, status, n) "
        "SELECT s, o, st, CASE WHEN delta > 0 THEN delta ELSE 0 END FROM d "
        # WHERE: SQLite's parser needs it between a SELECT and ON CONFLICT.
        "WHERE true ORDER BY s, o, st "
        "ON CONFLICT (source_id, operator_key, status) "
        f"DO UPDATE SET n = tally.n + (SELECT delta FROM d WHERE {same_key})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def recount(source_ids: Iterable[int] | None = None) -> dict[Key, int]:
    """The tallies as counted from the contacts themselves (non-zero keys only): contacts
    per source, operator and status, and each lead under the source of its first contact
    (the lowest id: the one whose registration inserted the lead)."""
    contacts = Contact.objects.all()
    # Each lead's first contact: one grouped pass over the contacts (a "first contact of
    # this lead" subquery per lead makes PostgreSQL walk the primary key once per lead).
    firsts = Contact.objects.filter(
        pk__in=Contact.objects.values("lead_id").annotate(first=Min("id")).values("first")
    )
    if source_ids is not None:
        contacts = contacts.filter(source_id__in=list(source_ids))
        firsts = firsts.filter(source_id__in=list(source_ids))
    rows = (
        contacts.values_list("source_id", "operator_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {
        key_of(source_id, operator_id, status): n for source_id, operator_id, status, n in rows
    }
    for source_id, n in firsts.values_list("source_id").annotate(n=Count("id")).order_by():
        counts[key_of(source_id, None, LEAD)] = n
    return counts


def stored(source_ids: Iterable[int] | None = None) -> dict[Key, int]:
    """The tallies as stored (non-zero keys only)."""
    tallies = ContactTally.objects.exclude(n=0)
    if source_ids is not None:
        tallies = tallies.filter(source_id__in=list(source_ids))
    return {
        (source_id, operator_key, status): n
        for source_id, operator_key, status, n in tallies.values_list(
            "source_id", "operator_key", "status", "n"
        )
    }


def rebuild() -> None:
    """Replace every tally by a recount (after a bulk load that bypassed the services)."""
    ContactTally.objects.all().delete()
    ContactTally.objects.bulk_create(
        ContactTally(source_id=s, operator_key=o, status=st, n=n)
        for (s, o, st), n in recount().items()
    )
