"""
Finding leads by part of their identifier (or name): the one rule behind the leads page,
GET /api/leads/?search= and the contacts list's lead filter, served by an index so that a
search costs the same with a thousand leads or a million.

What matches (unchanged from the LIKE '%x%' it replaces): a lead whose identifier key (trimmed,
case-folded: models.normalize_identifier) contains the search, case-folded; or, when the
search is written like (part of) a phone number, contains it in the keys' E.164 spelling
(identity.phone_search_fragment); and, where the caller asks for names (the contacts list),
a lead whose name contains it in any case.

How, per database:

* SQLite: an FTS5 table with the `trigram` tokenizer over each lead's key and name
  (`distribution_lead_search`, an "external content" table: it stores only the index, the
  text stays in distribution_lead). A phrase of trigrams is a substring, so MATCH gives the
  same leads as LIKE '%x%', read from the index. Three triggers keep it in step with every
  insert, update and delete of a lead, in the writer's own transaction. Triggers and not the
  services, because the index is part of the storage, like a B-tree: every writer of a lead
  (a registration, the admin, a migration, a bulk load) must keep it true, and none should
  have to know it exists.
* PostgreSQL: the `pg_trgm` extension's GIN indexes, which answer LIKE '%x%' (on the key)
  and ILIKE (on the name) themselves; the database keeps them, as any index.

A trigram index cannot look for fewer than three characters, so a shorter search (one or two
characters, often a search still being typed) matches the identifiers that *start* with it,
read as a range of the unique index on the key; names are not searched then. A scan for
"a" anywhere in a million identifiers would cost what the index is there to avoid, and a
prefix is what a user typing "ma" expects to narrow on.

Leads are listed newest first by id: ids are handed out in the order leads are created and
`created_at` is never edited, so it is the same order, and it is the one the full-text index
can walk backwards and stop after a page (FTS5 reads its matches in rowid order), where
ordering by another column would first collect every match to sort them.
"""

from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from .identity import phone_search_fragment
from .models import Lead, casefold_key, trim

# A trigram index needs three characters to look anything up.
TRIGRAM = 3
# The FTS5 table of the leads (SQLite; migration 0010 creates it and its triggers,
# "distribution_lead_search_insert", "_update" and "_delete"). A migration that rebuilds
# distribution_lead (SQLite's way of altering a column) drops the triggers with the old
# table: it must create them again (tests/test_search.py checks that they exist).
FTS_TABLE = "distribution_lead_search"
# Up to this many matches a search is read as a list of ids; beyond, it is checked row by
# row as a list is walked (lead_filter).
SELECTIVE = 1000
# The highest code point: every text that starts with `p` sorts from `p` up to `p + LAST`.
LAST = "\U0010ffff"


@dataclass(frozen=True)
class Terms:
    """What one search looks for: the key fragments (case-folded text, and a phone
    number's E.164 spelling when it is written like one) and the text for names."""

    keys: tuple[str, ...]
    name: str

    @property
    def indexed_keys(self) -> tuple[str, ...]:
        """The fragments the trigram index can look for (three characters or more)."""
        return tuple(key for key in self.keys if len(key) >= TRIGRAM)

    @property
    def prefix_keys(self) -> tuple[str, ...]:
        """The shorter ones: looked for as the start of a key instead."""
        return tuple(key for key in self.keys if len(key) < TRIGRAM)

    @property
    def indexed_name(self) -> str | None:
        """The name to look for, when it is long enough for the index (else names are
        not searched)."""
        return self.name if len(self.name) >= TRIGRAM else None


def terms(search: str) -> Terms | None:
    """The search as it is looked for, or None when it is empty (no filter)."""
    name = trim(search)
    if not name:
        return None
    keys = [casefold_key(search)]
    phone = phone_search_fragment(name)
    if phone and phone not in keys:
        keys.append(phone)
    return Terms(keys=tuple(keys), name=name)


# --- the filter --------------------------------------------------------------------


def _quoted(text: str) -> str:
    """`text` as an FTS5 string: a phrase, double quotes doubled, so no query syntax."""
    return '"' + text.replace('"', '""') + '"'


def fts_query(found: Terms, *, names: bool) -> str:
    """The MATCH expression of the indexed part of a search (SQLite)."""
    phrases = [f"identifier_key : {_quoted(key)}" for key in found.indexed_keys]
    if names and found.indexed_name:
        phrases.append(f"name : {_quoted(found.indexed_name)}")
    return " OR ".join(phrases)


def lead_filter(search: str, *, names: bool = False, prefix: str = "") -> Q | None:
    """The condition on leads (`prefix` names the path to the lead, e.g. "lead__") that
    keeps those the search finds; None when the search is empty.

    On SQLite the search is first read from its indexes, at most SELECTIVE + 1 leads (one
    query): a search that finds no more than SELECTIVE becomes "lead in (these ids)". One
    that finds more is common ("example", "se"): it becomes the rule itself (LIKE, as on
    PostgreSQL), checked on each row as the list is walked newest first, which stops after
    its page; "lead in (every match)" would first collect and sort them all. PostgreSQL's
    planner makes that choice itself, from its statistics and the trigram indexes.
    """
    found = terms(search)
    if found is None:
        return None
    if connection.vendor != "sqlite":
        return _like_filter(found, names=names, prefix=prefix)
    ids = _sqlite_ids(found, names=names, limit=SELECTIVE + 1)
    if len(ids) <= SELECTIVE:
        # Selective: the list reads these leads' rows through its index on the lead.
        return Q(**{f"{prefix}pk__in": ids})
    # Common: the rule itself (LIKE), checked on each row as the list is walked newest
    # first, which stops after its page; a probe of the full-text index per row would cost
    # more than the LIKE it saves.
    return _like_filter(found, names=names, prefix=prefix)


@dataclass(frozen=True)
class Matches:
    """The condition a search puts on leads, and whether it is `broad`: it found more than
    SELECTIVE leads, so the condition is the rule itself (LIKE), checked row by row."""

    condition: Q
    broad: bool


def lead_matches(search: str, *, names: bool = False, prefix: str = "") -> Matches | None:
    """lead_filter's condition, with whether it is broad, on both databases alike: up to
    SELECTIVE leads found (one query, from the indexes) become "lead in (these ids)", read
    through the index on each list's lead; more, the rule itself. The contacts list reads a
    broad search's pages in windows (selectors.contact_page): how far back a walk must go to
    find a page of contacts of leads that "se" or "example" finds, no index can say."""
    found = terms(search)
    if found is None:
        return None
    if connection.vendor == "sqlite":
        ids = _sqlite_ids(found, names=names, limit=SELECTIVE + 1)
    else:
        leads = Lead.objects.filter(_like_filter(found, names=names, prefix="")).order_by()
        ids = list(leads.values_list("pk", flat=True)[: SELECTIVE + 1])
    if len(ids) <= SELECTIVE:
        return Matches(Q(**{f"{prefix}pk__in": ids}), broad=False)
    return Matches(_like_filter(found, names=names, prefix=prefix), broad=True)


def _sqlite_ids(found: Terms, *, names: bool, limit: int) -> list[int]:
    """The ids of up to `limit` leads the search finds (SQLite), from its indexes."""
    parts, params = [], []
    for key in found.prefix_keys:
        # The unique index on the key holds it in code point order (BINARY collation): a
        # range of it, where SQLite's LIKE 'x%' (case-insensitive) could not use it.
        parts.append(
            "SELECT id FROM distribution_lead WHERE identifier_key >= %s AND identifier_key < %s"
        )
        params += [key, key + LAST]
    match = fts_query(found, names=names)
    if match:
        parts.append(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s")
        params.append(match)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({' UNION '.join(parts)}) LIMIT %s", [*params, limit])
        return [row[0] for row in cursor.fetchall()]


def _like_filter(found: Terms, *, names: bool, prefix: str) -> Q:
    condition = Q()
    for key in found.prefix_keys:
        # LIKE 'x%' reads the varchar_pattern_ops index Django gives a unique CharField (a
        # range would follow the database's collation, which is no prefix order).
        condition |= Q(**{f"{prefix}identifier_key__startswith": key})
    for key in found.indexed_keys:
        condition |= Q(**{f"{prefix}identifier_key__contains": key})
    if names and found.indexed_name:
        condition |= Q(**{f"{prefix}name__icontains": found.indexed_name})
    return condition


# --- a page of leads ---------------------------------------------------------------


def lead_page(
    search: str = "", *, before: int | None = None, after: int | None = None, size: int
) -> QuerySet[Lead]:
    """At most `size` leads the search finds (any lead without one), newest first, older
    than the lead `before` or, with `after`, the `size` next newer than it (oldest first:
    the caller turns them round). Keyset paging: a deep page costs what the first does."""
    ascending = after is not None
    leads = Lead.objects.order_by("pk" if ascending else "-pk")
    found = terms(search)
    if found is not None and not found.prefix_keys and connection.vendor == "sqlite":
        # The page is read from the index in rowid order, and the reading stops after the
        # page: "IN (every match)" would first collect them all (a million for "example").
        sql, params = _fts_ids(found, before=before, after=after)
        order = "ASC" if ascending else "DESC"
        ids = RawSQL(f"{sql} ORDER BY rowid {order} LIMIT %s", [*params, size])
        return leads.filter(pk__in=ids)[:size]
    condition = lead_filter(search)
    if condition is not None:
        leads = leads.filter(condition)
    if before is not None:
        leads = leads.filter(pk__lt=before)
    elif after is not None:
        leads = leads.filter(pk__gt=after)
    return leads[:size]


def count_matches(search: str, *, cap: int) -> int:
    """How many leads the search finds, counting no further than `cap` + 1: a count that
    reads at most that many index entries, however many leads match."""
    found = terms(search)
    if found is None:
        return 0
    if connection.vendor == "sqlite":
        return len(_sqlite_ids(found, names=False, limit=cap + 1))
    matches = _like_filter(found, names=False, prefix="")
    return Lead.objects.filter(matches).order_by()[: cap + 1].count()


def _fts_ids(
    found: Terms, *, before: int | None = None, after: int | None = None
) -> tuple[str, list]:
    sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
    params: list = [fts_query(found, names=False)]
    if before is not None:
        sql, params = f"{sql} AND rowid < %s", [*params, before]
    elif after is not None:
        sql, params = f"{sql} AND rowid > %s", [*params, after]
    return sql, params
