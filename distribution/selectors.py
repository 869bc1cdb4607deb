"""
Every read of the distribution domain that is more than a plain get: loads, the queue,
lists with their counts, and the statistics behind the dashboard and GET /api/stats/.
"""

import re
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, TypeAlias, TypedDict
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    Count,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import decision_log, shifts, tallies
from . import search as search_module
from .models import (
    Contact,
    ContactEvent,
    ContactTally,
    Lead,
    Operator,
    SettingChange,
    ShiftHours,
    Source,
    SourceOperatorConfig,
)
from .numbers import parse_id

# Open contacts, with the status written into the SQL instead of bound as a parameter:
# SQLite then knows that every entry of a partial index on open contacts
# (contact_open_by_operator and the others) is open, and counts an operator's load from
# the index alone; with the status bound it read each contact's row to check it, several
# times slower for an operator with hundreds of open contacts. The value is a constant.
OPEN = Q(status=RawSQL(f"'{Contact.Status.OPEN}'", ()))
# The tallies' statuses that count contacts (the others, "lead", count leads).
CONTACT_STATUSES = [Contact.Status.OPEN, Contact.Status.CLOSED]


def operator_loads(operator_ids: Iterable[int]) -> dict[int, int]:
    """Open contacts per operator, for the given operators (absent means 0)."""
    ids = list(operator_ids)
    if not ids:
        return {}
    rows = (
        Contact.objects.filter(OPEN, operator_id__in=ids)
        .values("operator_id")
        .annotate(load=Count("id"))
        .order_by()
        .values_list("operator_id", "load")
    )
    return dict(rows)


def operator_names(operator_ids: Iterable[int]) -> dict[int, str]:
    """The names of these operators, in one query (none for no ids)."""
    ids = set(operator_ids)
    if not ids:
        return {}
    return dict(Operator.objects.filter(pk__in=ids).values_list("pk", "name"))


def open_contacts_subquery() -> Subquery:
    """An operator's load as a correlated count that reads only the open-contacts index:
    one aggregate row (COUNT as a plain function, so no GROUP BY), 0 when none."""
    return Subquery(
        Contact.objects.filter(OPEN, operator_id=OuterRef("pk"))
        .order_by()
        .annotate(n=Func("id", function="COUNT"))
        .values("n"),
        output_field=IntegerField(),
    )


class _Load(TypedDict):
    open_contacts: int


# An operator annotated with its load (`open_contacts`), as operator_list() gives it.
# Only the type checker knows the difference (django-stubs-ext is not a dependency).
if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    OperatorWithLoad: TypeAlias = WithAnnotations[Operator, _Load]
else:
    OperatorWithLoad = Operator


def operator_list() -> QuerySet[OperatorWithLoad]:
    """Operators with their load as `open_contacts` and their login, in one query.

    The load is a subquery over open contacts only, so the cost follows the number of
    open contacts, not the history of closed ones.
    """
    # The login (user) is joined in: the list shows each operator's user name.
    return (
        Operator.objects.select_related("user")
        .annotate(open_contacts=Coalesce(open_contacts_subquery(), 0))
        .order_by("name", "id")
    )


def operator_get(operator_id: int) -> OperatorWithLoad:
    return operator_list().get(pk=operator_id)


def operator_schedule(operator_id: int) -> dict:
    """An operator's weekly working hours: {"time_zone", "hours": [ShiftHours...]} by
    weekday and start (no hours: always on shift). Operator.DoesNotExist when unknown."""
    time_zone = Operator.objects.values_list("time_zone", flat=True).get(pk=operator_id)
    hours = ShiftHours.objects.filter(operator_id=operator_id).order_by("weekday", "start")
    return {"time_zone": time_zone, "hours": list(hours)}


def source_list() -> QuerySet[Source]:
    """Sources with their weights (and the weights' operators) prefetched."""
    return Source.objects.prefetch_related("weights__operator").order_by("name", "id")


def _tally_sum(**filters: object) -> Coalesce:
    """A source's tallies under `filters`, summed: a subquery over a few rows per source."""
    rows = (
        ContactTally.objects.filter(source_id=OuterRef("pk"), **filters)
        .order_by()
        .values("source_id")
        .annotate(total=Sum("n"))
        .values("total")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def source_list_with_counts() -> QuerySet[Source]:
    """Sources with their weights, `contact_count` and `queued` (waiting contacts), counted
    from the tallies: the same cost however long the history."""
    return source_list().annotate(
        contact_count=_tally_sum(status__in=CONTACT_STATUSES),
        queued=_tally_sum(status=Contact.Status.OPEN, operator_key=tallies.NO_OPERATOR),
    )


def source_weights(source: Source) -> dict[int, int]:
    """{operator_id: weight} of one source."""
    return dict(source.weights.values_list("operator_id", "weight"))


def source_shares(source: Source) -> dict[int, dict]:
    """Per operator of one source, as in distribution_stats(): weight, contacts received,
    actual share and the share its weight asks for (operators without a weight have 0)."""
    configs = list(source.weights.order_by("operator_id"))
    rows = (
        ContactTally.objects.filter(source=source, status__in=CONTACT_STATUSES)
        .exclude(n=0)
        .values("operator_key")
        .annotate(total=Sum("n"))
        .order_by()
        .values_list("operator_key", "total")
    )
    counts: dict[int | None, int] = {operator_key or None: n for operator_key, n in rows}
    stats = _source_stats(source, configs, counts, queued=0)
    return {row["operator_id"]: row for row in stats["operators"]}


def overdue_contact_ids(now: datetime) -> list[int]:
    """Open contacts whose operator has not responded within their source's response
    time, as of `now` (the worker takes them back: services.contacts_time_out)."""
    overdue: list[int] = []
    for source_id, minutes in Source.objects.filter(response_minutes__isnull=False).values_list(
        "pk", "response_minutes"
    ):
        overdue += Contact.objects.filter(
            source_id=source_id,
            status=Contact.Status.OPEN,
            operator__isnull=False,
            responded_at__isnull=True,
            assigned_at__lte=now - timedelta(minutes=minutes or 0),
        ).values_list("pk", flat=True)
    return overdue


def queue() -> QuerySet[Contact]:
    """Contacts waiting for an operator, oldest first."""
    return Contact.objects.filter(OPEN, operator__isnull=True).order_by("created_at", "id")


def queue_length() -> int:
    return queue().count()


def contact_list(
    *,
    status: str | None = None,
    source_id: int | None = None,
    operator_id: int | None = None,
    unassigned: bool = False,
    lead: str = "",
    oldest_first: bool = False,
) -> QuerySet[Contact]:
    """Contacts, newest first (or oldest first), with lead, source and operator joined in.

    `lead` finds the contacts of leads whose identifier or name contains it (search.py's
    rule, read from its index).
    """
    return contact_listing(
        status=status,
        source_id=source_id,
        operator_id=operator_id,
        unassigned=unassigned,
        lead=lead,
        oldest_first=oldest_first,
    ).contacts


@dataclass(frozen=True)
class ContactListing:
    """contact_list()'s contacts, and, when its lead search is broad (search.lead_matches),
    the list without the search (`scan`): the rows a page of a broad search walks, in
    windows of SEARCH_WINDOW (contact_page)."""

    contacts: QuerySet[Contact]
    scan: QuerySet[Contact] | None = None
    oldest_first: bool = False


def contact_listing(
    *,
    status: str | None = None,
    source_id: int | None = None,
    operator_id: int | None = None,
    unassigned: bool = False,
    lead: str = "",
    oldest_first: bool = False,
) -> ContactListing:
    order = ("created_at", "id") if oldest_first else ("-created_at", "-id")
    contacts = Contact.objects.select_related("lead", "source", "operator").order_by(*order)
    if status:
        contacts = contacts.filter(status=status)
    if source_id is not None:
        contacts = contacts.filter(source_id=source_id)
    if operator_id is not None:
        contacts = contacts.filter(operator_id=operator_id)
    if unassigned:
        contacts = contacts.filter(operator__isnull=True)
    matches = search_module.lead_matches(lead, names=True, prefix="lead__")
    if matches is None:
        return ContactListing(contacts, oldest_first=oldest_first)
    return ContactListing(
        contacts.filter(matches.condition),
        contacts if matches.broad else None,
        oldest_first=oldest_first,
    )


def contact_count(
    *,
    status: str | None = None,
    source_id: int | None = None,
    operator_id: int | None = None,
    unassigned: bool = False,
) -> int:
    """How many contacts contact_list() holds for these filters (the lead search aside),
    summed from the tallies: a few rows, however long the history. One query."""
    rows = ContactTally.objects.filter(status__in=[status] if status else CONTACT_STATUSES)
    if source_id is not None:
        rows = rows.filter(source_id=source_id)
    if operator_id is not None:
        rows = rows.filter(operator_key=operator_id)
    if unassigned:
        # With an operator as well, nothing matches, as in the list.
        rows = rows.filter(operator_key=tallies.NO_OPERATOR)
    return rows.aggregate(total=Coalesce(Sum("n"), 0))["total"]


def count_up_to(items: QuerySet, cap: int) -> int:
    """How many `items` there are, counting no further than cap + 1 (more than `cap`):
    for a list no tally counts (a lead search), so that counting never costs more than
    finding cap + 1 of them."""
    return items.order_by()[: cap + 1].count()


def count_listing_up_to(
    listing: ContactListing, cap: int, *, page: "ContactPage | None" = None
) -> tuple[int, bool]:
    """count_up_to() of a listing's contacts, and whether that is all of them: a broad
    search counts within the list's first SEARCH_WINDOW contacts only (False when the list
    goes on beyond them). `page`: the list's first page, when it is the one shown; if it
    read the whole window without filling up, its contacts are that count (no query)."""
    if listing.scan is None:
        return count_up_to(listing.contacts, cap), True
    if page is not None and page.window and page.start is None:
        return len(page.contacts), False
    forward = ("created_at", "id") if listing.oldest_first else ("-created_at", "-id")
    edge = _window_edge(listing.scan, None, forward=forward)
    if edge is None:
        return count_up_to(listing.contacts, cap), True
    return (
        count_up_to(listing.contacts.filter(_up_to(edge, newer=listing.oldest_first)), cap),
        False,
    )


# --- keyset paging --------------------------------------------------------------------

# A cursor names a contact's place in the list: "<created_at in microseconds since the
# epoch, UTC>-<id>". Ids and times are integers, so a cursor needs no escaping in a URL.
_CURSOR = re.compile(r"([0-9]{1,19})-([0-9]{1,19})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    id: int

    @classmethod
    def of(cls, contact: Contact) -> "Cursor":
        return cls(contact.created_at, contact.pk)

    @classmethod
    def parse(cls, text: str | None) -> "Cursor | None":
        """The cursor written in `text`, or None when it is not one."""
        match = _CURSOR.fullmatch(text or "")
        if match is None:
            return None
        pk = parse_id(match[2])
        try:
            at = _EPOCH + timedelta(microseconds=int(match[1]))
        except OverflowError:
            return None  # Beyond the year 9999.
        return None if pk is None else cls(at, pk)

    def __str__(self) -> str:
        delta = self.created_at - _EPOCH
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return f"{micros}-{self.id}"


# A page of a broad lead search reads at most this many contacts of the list (search.py):
# a page of the search that finds fewer than a page in them ends there, and its link goes
# on from where it stopped. A walk of 10,000 contacts with their leads costs ~10 ms on
# SQLite, ~15 ms on PostgreSQL.
SEARCH_WINDOW = 10_000


@dataclass(frozen=True)
class ContactPage:
    """One page of a keyset-paged list: its contacts in the list's order, and whether
    there are contacts before (`has_previous`) and after (`has_next`) it. `window`: the page
    of a broad search that read its SEARCH_WINDOW contacts without filling up; its links
    then go on from where the reading stopped (`start`, `end`), not from its contacts."""

    contacts: list[Contact]
    has_previous: bool
    has_next: bool
    window: int | None = None
    start: "Cursor | None" = None
    end: "Cursor | None" = None

    @property
    def first(self) -> Cursor | None:
        if self.start is not None:
            return self.start
        return Cursor.of(self.contacts[0]) if self.contacts else None

    @property
    def last(self) -> Cursor | None:
        if self.end is not None:
            return self.end
        return Cursor.of(self.contacts[-1]) if self.contacts else None


def _beyond(cursor: Cursor, *, newer: bool) -> Q:
    """Contacts newer (or older) than the cursor's, by (created_at, id). Written as a range
    on created_at and a condition within it, so that the index seeks to the cursor (an OR
    of the two comparisons alone is not a range, and the index would be read from its end)."""
    at, pk = cursor.created_at, cursor.id
    if newer:
        return Q(created_at__gte=at) & (Q(created_at__gt=at) | Q(id__gt=pk))
    return Q(created_at__lte=at) & (Q(created_at__lt=at) | Q(id__lt=pk))


def _up_to(edge: Cursor, *, newer: bool) -> Q:
    """Contacts not beyond `edge` for a reading towards newer (or older) ones: the edge
    itself and those on the reading's side of it."""
    at, pk = edge.created_at, edge.id
    if newer:
        return Q(created_at__lte=at) & (Q(created_at__lt=at) | Q(id__lte=pk))
    return Q(created_at__gte=at) & (Q(created_at__gt=at) | Q(id__gte=pk))


def _window_edge(
    scan: QuerySet[Contact], cursor: Cursor | None, *, forward: tuple[str, str]
) -> Cursor | None:
    """The last of the SEARCH_WINDOW contacts of `scan` read from `cursor` (or from the
    start) in the order `forward`; None when fewer are left. One query, on the index the
    list's filters use (no lead, no join)."""
    newer = forward[0] == "created_at"
    rows = scan.filter(_beyond(cursor, newer=newer)) if cursor else scan
    found = list(
        rows.select_related(None)
        .order_by(*forward)
        .values_list("created_at", "id")[SEARCH_WINDOW - 1 : SEARCH_WINDOW]
    )
    return Cursor(*found[0]) if found else None


def contact_page(
    contacts: QuerySet[Contact],
    *,
    oldest_first: bool = False,
    after: Cursor | None = None,
    before: Cursor | None = None,
    last: bool = False,
    size: int = 25,
    scan: QuerySet[Contact] | None = None,
) -> ContactPage:
    """A page of contact_list()'s `contacts` (in its order: newest first unless
    `oldest_first`): the first; the one right `after` a cursor or right `before` it; or the
    `last`. Keyset paging: an index on (created_at, id) seeks to the cursor, so a page deep
    in the history costs what the first one does (OFFSET would read every row before it).
    One query for the page, one more to know whether anything lies on its other side.

    With `scan` (a broad lead search: ContactListing), the page is looked for among the
    next SEARCH_WINDOW contacts of `scan` only, one query to find where they end; a
    page that came from a cursor has the way back without a query (the cursor came from
    there), so that no reading, either way, is longer than the window."""
    forward = ("created_at", "id") if oldest_first else ("-created_at", "-id")
    backward = ("-created_at", "-id") if oldest_first else ("created_at", "id")
    if before is not None or last:
        # Read against the list's order from the cursor (or from the end), then turn round.
        rows = contacts.filter(_beyond(before, newer=not oldest_first)) if before else contacts
        edge = _window_edge(scan, before, forward=backward) if scan is not None else None
        if edge is not None:
            rows = rows.filter(_up_to(edge, newer=not oldest_first))
        found = list(rows.order_by(*backward)[: size + 1])
        page = found[:size][::-1]
        if edge is not None and len(found) <= size:
            return ContactPage(
                page, True, before is not None, SEARCH_WINDOW, start=edge, end=before
            )
        anchor = page[-1] if page else None
        if scan is not None:
            has_next = before is not None
        else:
            has_next = before is not None and _any_beyond(
                contacts, Cursor.of(anchor) if anchor else before, newer=oldest_first
            )
        return ContactPage(page, has_previous=len(found) > size, has_next=has_next)
    rows = contacts.filter(_beyond(after, newer=oldest_first)) if after else contacts
    edge = _window_edge(scan, after, forward=forward) if scan is not None else None
    if edge is not None:
        rows = rows.filter(_up_to(edge, newer=oldest_first))
    found = list(rows.order_by(*forward)[: size + 1])
    page = found[:size]
    if edge is not None and len(found) <= size:
        return ContactPage(page, after is not None, True, SEARCH_WINDOW, start=after, end=edge)
    if scan is not None:
        has_previous = after is not None
    else:
        has_previous = after is not None and _any_beyond(
            contacts, Cursor.of(page[0]) if page else after, newer=not oldest_first
        )
    return ContactPage(page, has_previous=has_previous, has_next=len(found) > size)


def _any_beyond(contacts: QuerySet[Contact], cursor: Cursor, *, newer: bool) -> bool:
    return contacts.filter(_beyond(cursor, newer=newer)).order_by().exists()


# --- leads ---------------------------------------------------------------------------

# Leads on one page of /leads/, and how far a search's count goes before it says "more than".
LEADS_PER_PAGE = 25
LEAD_MATCHES_COUNTED = 1000


def lead_total() -> int:
    """How many leads there are, from the tallies (each lead is counted under the source of
    its first contact; leads come only from contacts): no count over the leads table."""
    total = ContactTally.objects.filter(status=tallies.LEAD).aggregate(n=Sum("n"))["n"]
    return total or 0


def with_lead_figures(leads: list[Lead]) -> list[Lead]:
    """`leads`, each given `contact_count` and `open_operators` (how many operators hold its
    open contacts: more than one means two people may be answering one customer), in one
    query over these leads' contacts only."""
    figures = {
        row["lead_id"]: row
        for row in Contact.objects.filter(lead_id__in=[lead.pk for lead in leads])
        .values("lead_id")
        .annotate(n=Count("id"), operators=Count("operator", filter=OPEN, distinct=True))
        .order_by()
    }
    for lead in leads:
        row = figures.get(lead.pk, {})
        lead.contact_count = row.get("n", 0)  # type: ignore[attr-defined]
        lead.open_operators = row.get("operators", 0)  # type: ignore[attr-defined]
    return leads


@dataclass(frozen=True)
class LeadPage:
    """One page of leads, newest first, with the cursors of its neighbours (keyset paging:
    `older` is the `before=` of the next page, `newer` the `after=` of the previous one)."""

    leads: list[Lead]  # with_lead_figures()
    newer: int | None
    older: int | None
    # Every lead, or every match of a search counted up to LEAD_MATCHES_COUNTED + 1.
    total: int
    searched: bool

    @property
    def more_than_counted(self) -> bool:
        return self.total > LEAD_MATCHES_COUNTED

    @property
    def counted(self) -> int:
        return min(self.total, LEAD_MATCHES_COUNTED)


def lead_list(*, search: str = "", before: int | None = None, after: int | None = None) -> LeadPage:
    """A page of the leads whose identifier contains `search` (search.py: any case, a phone
    number in any spelling; all leads without one), newest first, older than the lead
    `before` or newer than the lead `after`: four queries, however many leads and however
    deep the page."""
    size = LEADS_PER_PAGE
    rows = list(search_module.lead_page(search, before=before, after=after, size=size + 1))
    more = len(rows) > size
    rows = rows[:size]
    if after is not None:
        rows.reverse()
        newer = rows[0].pk if more and rows else None
        older = rows[-1].pk if rows else None
    else:
        newer = rows[0].pk if before is not None and rows else None
        older = rows[-1].pk if more else None
    searched = bool(search_module.terms(search))
    total = (
        search_module.count_matches(search, cap=LEAD_MATCHES_COUNTED) if searched else lead_total()
    )
    return LeadPage(with_lead_figures(rows), newer, older, total, searched)


def lead_search(search: str = "") -> QuerySet[Lead]:
    """Every lead `search` finds (search.py), newest first: the API's list, paged by it."""
    leads = Lead.objects.order_by("-pk")
    matches = search_module.lead_filter(search)
    return leads if matches is None else leads.filter(matches)


def lead_get(lead_id: int) -> Lead:
    """One lead with its figures (with_lead_figures); Lead.DoesNotExist when unknown."""
    return with_lead_figures([Lead.objects.get(pk=lead_id)])[0]


def lead_contacts(lead: Lead) -> QuerySet[Contact]:
    return lead.contacts.select_related("source", "operator").order_by("-created_at", "-id")


def lead_open_operators(lead: Lead) -> list[Operator]:
    """The operators holding the lead's open contacts, by name (two or more: the customer
    may be answered twice)."""
    return list(
        Operator.objects.filter(contacts__lead=lead, contacts__status=Contact.Status.OPEN)
        .distinct()
        .order_by("name", "id")
    )


def _source_stats(
    source: Source, configs: list[SourceOperatorConfig], counts: dict[int | None, int], queued: int
) -> dict:
    """One source's contacts per operator: actual share next to the share its weight asks for."""
    assigned = sum(n for operator_id, n in counts.items() if operator_id is not None)
    weight_of = {c.operator_id: c.weight for c in configs}
    weight_sum = sum(weight_of.values())
    # Operators that got contacts but have no weight any more still show up, last.
    extra = sorted(op for op in counts if op is not None and op not in weight_of)
    return {
        "id": source.pk,
        "name": source.name,
        "total_contacts": sum(counts.values()),
        "unassigned_contacts": queued,
        "operators": [
            {
                "operator_id": op,
                "weight": weight_of.get(op, 0),
                "contacts": counts.get(op, 0),
                "share": counts.get(op, 0) / assigned if assigned else 0.0,
                "expected_share": weight_of.get(op, 0) / weight_sum if weight_sum else 0.0,
            }
            for op in [*weight_of, *extra]
        ],
    }


def distribution_stats() -> dict:
    """The numbers behind the dashboard and GET /api/stats/ (the shape is in the OpenAPI document).

    Every count comes from the tallies (models.ContactTally: contacts per source, operator
    and status, and leads per source of their first contact), one row per key, however
    long the history; the rest are small tables.
    """
    counts: dict[int, dict[int | None, int]] = defaultdict(lambda: defaultdict(int))
    queued: dict[int, int] = defaultdict(int)
    operator_open: dict[int, int] = defaultdict(int)
    operator_total: dict[int, int] = defaultdict(int)
    totals = {"leads": 0, "contacts": 0, "open_contacts": 0}
    rows = ContactTally.objects.exclude(n=0).values_list("source_id", "operator_key", "status", "n")
    for source_id, operator_key, status, n in rows:
        if status == tallies.LEAD:
            totals["leads"] += n
            continue
        operator_id = operator_key or None
        is_open = status == Contact.Status.OPEN
        counts[source_id][operator_id] += n
        totals["contacts"] += n
        totals["open_contacts"] += n if is_open else 0
        if operator_id is None:
            queued[source_id] += n if is_open else 0
        else:
            operator_total[operator_id] += n
            operator_open[operator_id] += n if is_open else 0
    totals["unassigned_contacts"] = sum(queued.values())
    configs: dict[int, list[SourceOperatorConfig]] = defaultdict(list)
    for config in SourceOperatorConfig.objects.order_by("source_id", "operator_id"):
        configs[config.source_id].append(config)

    return {
        "totals": totals,
        "operators": [
            {
                "id": op.pk,
                "name": op.name,
                "is_active": op.is_active,
                "workload_limit": op.workload_limit,
                "open_contacts": operator_open[op.pk],
                "total_contacts": operator_total[op.pk],
            }
            for op in Operator.objects.order_by("name", "id")
        ],
        "sources": [
            _source_stats(source, configs[source.pk], counts[source.pk], queued[source.pk])
            for source in Source.objects.order_by("name", "id")
        ],
    }


def contacts_per_day(*, days: int = 14) -> list[tuple[date, int]]:
    """Contacts created on each of the last `days` days (today included), oldest first.

    One query of `days` counts, each a range of the contact_newest index: it reads the
    index entries of those days only. (Grouping by the date of created_at would call a
    function per row, in Python on SQLite, and one COUNT with a filter per day tests every
    row against every day: both several times slower at a few thousand contacts a day.)
    """
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    edges = [
        connection.ops.adapt_datetimefield_value(
            timezone.make_aware(datetime.combine(first + timedelta(days=i), time.min))
        )
        for i in range(days + 1)
    ]
    table = connection.ops.quote_name(Contact._meta.db_table)
    one_day = f"(SELECT COUNT(*) FROM {table} WHERE created_at >= %s AND created_at < %s)"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join([one_day] * days),
            [edge for i in range(days) for edge in (edges[i], edges[i + 1])],
        )
        counts = cursor.fetchone()
    return [(first + timedelta(days=i), counts[i]) for i in range(days)]


def recent_contacts(*, limit: int = 10) -> QuerySet[Contact]:
    return contact_list()[:limit]


# --- an operator's workspace ------------------------------------------------------

# How many of a lead's other contacts the workspace lists under each open contact.
LEAD_HISTORY_SHOWN = 3


@dataclass
class WorkItem:
    """One open contact of an operator, with what the operator should know of its lead."""

    contact: Contact
    # The lead's other contacts (any operator's), newest first, at most LEAD_HISTORY_SHOWN.
    others: list[Contact]
    others_count: int


def operator_open_contacts(operator_id: int) -> list[WorkItem]:
    """An operator's open contacts, the longest waiting (since assigned) first, each with
    its lead's other contacts: three queries, however many contacts and leads."""
    lead_contacts = (
        Contact.objects.filter(lead_id=OuterRef("lead_id"))
        .order_by()
        .values("lead_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    # A sliced prefetch: the database keeps each lead's latest few (a window function).
    latest = Contact.objects.select_related("source").order_by("-created_at", "-id")
    contacts = (
        Contact.objects.filter(OPEN, operator_id=operator_id)
        .select_related("lead", "source")
        .annotate(lead_contacts=Subquery(lead_contacts, output_field=IntegerField()))
        .prefetch_related(
            Prefetch(
                "lead__contacts",
                queryset=latest[: LEAD_HISTORY_SHOWN + 1],
                to_attr="latest_contacts",
            )
        )
        .order_by("assigned_at", "id")
    )
    items = []
    for c in contacts:
        # Both set by the query above, which the type checker cannot see.
        recent: list[Contact] = c.lead.latest_contacts  # type: ignore[attr-defined]
        count: int = c.lead_contacts
        others = [o for o in recent if o.pk != c.pk][:LEAD_HISTORY_SHOWN]
        items.append(WorkItem(contact=c, others=others, others_count=count - 1))
    return items


@dataclass
class DayFigures:
    received: int
    responded: int
    closed: int
    # Median seconds from assignment to first response of today's responses, or None.
    median_response_seconds: float | None


def operator_today(operator: Operator, *, now: datetime | None = None) -> DayFigures:
    """What an operator did today (since midnight in its own time zone), in one query:
    contacts assigned to it, first responses and closes, and the median time to respond.

    Only its open contacts and those it closed since midnight are read, each through an
    index of its own, not its whole history: a contact of its assigned or answered today
    is one of them, as it is either still open or was closed since (a closed contact
    cannot be answered, and one closed before midnight was assigned and answered before).
    """
    now = now or timezone.now()
    zone = ZoneInfo(operator.time_zone if shifts.is_time_zone(operator.time_zone) else "UTC")
    midnight = datetime.combine(now.astimezone(zone).date(), time.min, tzinfo=zone)
    today = (
        Q(assigned_at__gte=midnight) | Q(responded_at__gte=midnight) | Q(closed_at__gte=midnight)
    )
    mine = Contact.objects.filter(operator_id=operator.pk)
    rows = list(
        (mine.filter(OPEN) | mine.filter(status=Contact.Status.CLOSED, closed_at__gte=midnight))
        .filter(today)
        .values_list("assigned_at", "responded_at", "closed_at")
    )
    waits = [
        (responded - assigned).total_seconds()
        for assigned, responded, _ in rows
        # A contact answered before it was requeued and handed here has no wait of ours.
        if responded and responded >= midnight and assigned and responded >= assigned
    ]
    return DayFigures(
        received=sum(1 for assigned, _, _ in rows if assigned and assigned >= midnight),
        responded=sum(1 for _, responded, _ in rows if responded and responded >= midnight),
        closed=sum(1 for _, _, closed in rows if closed and closed >= midnight),
        median_response_seconds=statistics.median(waits) if waits else None,
    )


# --- what is true now: who would take a new contact, and why the queue waits -------


@dataclass(frozen=True)
class OperatorNow:
    """An operator as the engine sees it at one moment."""

    operator: Operator
    load: int
    # Why it would not take a new contact now: its own state as the engine reads it
    # (allocation.refusal: "inactive", "away", "offline", "off shift"), else "full" when it
    # has no room; None when it would.
    why_not: str | None

    @property
    def over(self) -> int:
        """Open contacts beyond its limit (a limit lowered below the load), else 0."""
        return max(0, self.load - self.operator.workload_limit)


class OperatorsNow:
    """Operators annotated with their load (operator_list()), read through the engine's own
    rules (allocation.Pool and allocation.refusal) at `now`: no query of its own."""

    def __init__(self, operators: Iterable[OperatorWithLoad], now: datetime | None = None):
        # The engine imports this module for loads: import it when first used.
        from . import allocation

        operators = list(operators)
        self.now = now or timezone.now()
        self._pool = allocation.Pool(
            operators={op.pk: op for op in operators},
            loads={op.pk: op.open_contacts for op in operators},
            now=self.now,
        )
        self.states: dict[int, OperatorNow] = {}
        for op in operators:
            why_not = allocation.refusal(op, self.now)
            if why_not is None and self._pool.room(op.pk) == 0:
                why_not = decision_log.FULL
            self.states[op.pk] = OperatorNow(op, op.open_contacts, why_not)

    def __iter__(self):
        return iter(self.states.values())

    def shares(self, weights: Iterable[tuple[int, int]]) -> dict[int, float]:
        """{operator_id: the chance it gets a new contact of a source with these weights now}:
        weight / sum of the eligible operators' weights, 0 for the others."""
        weights = list(weights)
        eligible = dict(self._pool.eligible(weights))
        total = sum(eligible.values())
        return {pk: eligible.get(pk, 0) / total if total else 0.0 for pk, _ in weights}


class QueueReason:
    NO_WEIGHT = decision_log.NO_WEIGHT  # no operator has a weight for the source
    FULL = "full"  # every operator with a weight is at or over its limit
    AWAY = "away"  # every operator with a weight is inactive, away, offline or off shift
    MIXED = "mixed"  # some of them full, the others away (or the like)
    ROOM = "room"  # one has room: the queue is being handed out (a shift just started)


@dataclass(frozen=True)
class QueueWait:
    """The queued contacts of one source: how many, since when, and why they wait."""

    source_id: int
    source_name: str
    count: int
    oldest: datetime
    reason: str  # a QueueReason
    # The source's weighted operators as the engine sees them now, by name.
    operators: list[OperatorNow]


def queue_by_source(operators_now: OperatorsNow) -> list[QueueWait]:
    """Every source with queued contacts, the longest waiting first: two queries, however
    many sources, operators and contacts."""
    waiting = list(
        queue()
        .order_by()
        .values("source_id", "source__name")
        .annotate(n=Count("id"), oldest=Min("created_at"))
        .order_by("oldest", "source_id")
    )
    if not waiting:
        return []
    weighted: dict[int, list[int]] = defaultdict(list)
    rows = SourceOperatorConfig.objects.filter(
        source_id__in=[row["source_id"] for row in waiting]
    ).values_list("source_id", "operator_id")
    for source_id, operator_id in rows:
        weighted[source_id].append(operator_id)
    result = []
    for row in waiting:
        states = sorted(
            (operators_now.states[pk] for pk in weighted[row["source_id"]]),
            key=lambda state: (state.operator.name, state.operator.pk),
        )
        result.append(
            QueueWait(
                row["source_id"], row["source__name"], row["n"], row["oldest"], _why(states), states
            )
        )
    return result


def _why(states: list[OperatorNow]) -> str:
    reasons = {state.why_not for state in states}
    if not states:
        return QueueReason.NO_WEIGHT
    if None in reasons:
        return QueueReason.ROOM
    if reasons == {decision_log.FULL}:
        return QueueReason.FULL
    if decision_log.FULL in reasons:
        return QueueReason.MIXED
    return QueueReason.AWAY


# --- the decision log -------------------------------------------------------------

# How many entries a page shows of a lead's timeline and of a source's or an operator's
# settings changes (the latest ones; the page says how many there are in all).
LEAD_EVENTS_SHOWN = 100
CHANGES_SHOWN = 50


@dataclass(frozen=True)
class CandidateLine:
    """One operator the engine considered for an automatic decision, with its name."""

    operator_id: int
    operator: str  # its name, or "#id" once it is deleted
    weight: int | None
    open_contacts: int
    workload_limit: int
    eligible: bool
    why_not: str | None


@dataclass(frozen=True)
class TimelineEntry:
    """One event of a contact's life, with the operators it names by name."""

    event: ContactEvent
    operator: str | None
    previous_operator: str | None
    candidates: list[CandidateLine]


@dataclass(frozen=True)
class Timeline:
    entries: list[TimelineEntry]  # oldest first
    count: int  # all of them, also those beyond the page's limit


@dataclass(frozen=True)
class Changes:
    items: list[SettingChange]  # newest first, at most the limit
    count: int


def contact_events(contact_id: int) -> QuerySet[ContactEvent]:
    """A contact's decision log, oldest first (one query)."""
    return ContactEvent.objects.filter(contact_id=contact_id).order_by("at", "id")


def lead_events(lead_id: int) -> QuerySet[ContactEvent]:
    """The decision log of all of a lead's contacts, oldest first, each with its contact."""
    return (
        ContactEvent.objects.filter(contact__lead_id=lead_id)
        .select_related("contact")
        .order_by("at", "id")
    )


def _named(events: list[ContactEvent]) -> list[TimelineEntry]:
    """Events with every operator they mention by name: one query, however many events.

    Names are read by id and not through the events' foreign keys, because the candidates
    are JSON; an operator deleted since shows as "#id" (its events keep only the id, or
    lose it, as the foreign keys are SET_NULL).
    """
    ids = {pk for e in events for pk in (e.operator_id, e.previous_operator_id) if pk}
    ids |= {c["operator_id"] for e in events for c in e.candidates}
    names = dict(Operator.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}

    def name(pk: int | None) -> str | None:
        return None if pk is None else names.get(pk, f"#{pk}")

    return [
        TimelineEntry(
            event=e,
            operator=name(e.operator_id),
            previous_operator=name(e.previous_operator_id),
            candidates=[
                CandidateLine(
                    operator_id=c["operator_id"],
                    operator=names.get(c["operator_id"], f"#{c['operator_id']}"),
                    weight=c.get("weight"),
                    open_contacts=c.get("open_contacts", 0),
                    workload_limit=c.get("workload_limit", 0),
                    eligible=bool(c.get("eligible")),
                    why_not=c.get("why_not"),
                )
                for c in e.candidates
            ],
        )
        for e in events
    ]


def contact_timeline(contact_id: int) -> list[TimelineEntry]:
    """A contact's events, oldest first, operators named: two queries."""
    return _named(list(contact_events(contact_id)))


def lead_timeline(lead_id: int, *, limit: int = LEAD_EVENTS_SHOWN) -> Timeline:
    """The latest `limit` events of a lead's contacts, oldest first: three queries."""
    events = lead_events(lead_id)
    count = events.count()
    # The latest events are picked by (at, id) alone, read from the indexes (contact_by_lead,
    # contact_event_timeline), and only those rows are read: sorting every event of a lead
    # with years of contacts, candidates and all, cost more than the rest of its page.
    newest = events.order_by("-at", "-id").values("pk")[:limit]
    latest = list(
        ContactEvent.objects.filter(pk__in=newest).select_related("contact").order_by("at", "id")
    )
    return Timeline(entries=_named(latest), count=count)


def _changes(changes: QuerySet[SettingChange], limit: int) -> Changes:
    items = list(changes.select_related("operator", "source").order_by("-at", "-id")[:limit])
    return Changes(items=items, count=changes.count())


def source_changes(source_id: int, *, limit: int = CHANGES_SHOWN) -> Changes:
    """Changes to a source's settings and weights, newest first: two queries."""
    return _changes(SettingChange.objects.filter(source_id=source_id), limit)


def operator_changes(operator_id: int, *, limit: int = CHANGES_SHOWN) -> Changes:
    """Changes to an operator's settings, its weights included, newest first: two queries."""
    return _changes(SettingChange.objects.filter(operator_id=operator_id), limit)
