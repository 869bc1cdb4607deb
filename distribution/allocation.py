"""
The assignment engine: who may receive a contact, how much room each operator has, the
weighted draw, and the drain of the queue. services.py holds the use cases (register,
close, reassign, change an operator or a source's weights) and calls this module for
every decision about who gets what; nothing else assigns a contact.

The rules (docs/distribution.md):

* An operator *accepts contacts* when it is active, available (presence) and on shift
  (its weekly working hours, if it has any, include the moment). Its *room* is its limit
  minus its load (open contacts) when it accepts contacts, and 0 otherwise, never below 0.
* For a contact of source S the *eligible* operators are those with a weight for S, room
  > 0, and not in the contact's missed_by (they let it wait past S's response time).
  Among them the source's mode decides: `random` draws one with probability weight / sum
  of eligible weights; `balanced` runs one step of the smooth weighted round robin
  (smooth_pick) over the eligible operators' balances, ties to the lowest id; operators
  not eligible keep their balance frozen, and a new weight set resets the source's.
* Sticky: at registration, with S.sticky_days set, the operator of the lead's latest
  assigned contact (any source) created within that many days gets it, if it is eligible
  for S now; otherwise the mode decides.
* Whenever room appears, queued contacts that can now be assigned are, oldest first, by
  the same rule (reason "drained"), in the transaction that made the room.
* Response time: the worker takes back every open contact not responded to within S's
  response_minutes of its assignment, adds its operator to missed_by and routes it again
  by the rule (queued, in its original place, when nobody is left).
* Every decision is logged (decision_log.record, in the deciding transaction) with every
  operator it considered and why each was passed over: its own state (refusal), then
  "no weight", then "missed the response time", then "full".

Room is derived from the locked operator row and its load every time it is asked for
(Pool.room); nothing adds a freed slot to a counter. That is what keeps a close on an
inactive operator, or on one still over a lowered limit, from handing it the queue.

The invariants (checked after every step of the stateful test, see invariants.py):

* I1  A contact is only ever assigned to an operator that, at that moment, accepts
      contacts (active, available, on shift), has a weight for the contact's source,
      is not in the contact's missed_by, and holds fewer open contacts than its limit.
      A manual reassignment needs the same except the weight and missed_by.
* I2  When no transaction is running, no contact waits in the queue while an operator
      eligible for its source, and not in its missed_by, has room (for room that time
      brings, a shift that starts, once the worker has ticked).
* I3  One lead per identifier key (models.normalize_identifier): a phone number's E.164
      form ("+44 7700 918827" and "0044 7700 918827" are one lead), otherwise the
      trimmed, case-folded identifier.
* I4  Status, timestamps and operator agree: closed iff closed_at; an operator iff
      assigned_at (the database's own constraints, and the order of the timestamps).
* I5  Every registration that was answered is stored, exactly once.
* I6  The engine's reading of whether an operator is on shift (is_on_shift) agrees with
      its working hours at that moment, given the worker ticks at least once per range.
* I7  Every change of a contact's operator writes exactly one `assigned` or `reassigned`
      event naming the new operator; every automatic decision's candidates show each
      operator's weight, limit and why it was passed over as the rows say, the chosen one
      eligible and a queued contact's candidates all not.
* I8  Once the worker has ticked, no open contact waits past its source's response time
      with no response.
* I9  The tallies (models.ContactTally) equal a recount of the contacts, per source,
      operator (or none) and status, and of the leads by their first contact's source
      (the lowest id: the contact whose registration inserted the lead; two first
      contacts of one new lead racing on PostgreSQL can be created in the other order):
      every write that creates a contact or changes its operator or status records the
      move in its Pool's `moves`, which Pool.finish writes in the same transaction.

Lock order. On SQLite every transaction begins IMMEDIATE (see settings), so writers run
one at a time and these locks are no-ops. On PostgreSQL they are taken, always in this
order, so that two transactions never wait for each other in a cycle:

    contact row  ->  source row  ->  operator rows (one query, ascending id)
        ->  queued contact rows (SKIP LOCKED)  ->  new lead row

A transaction that holds operator locks never waits for a contact lock (it skips locked
queued contacts), which is what keeps the order acyclic.

A registration (lock_arrival) takes the source and its operators in one statement: the
source's weights joined to the source and to the operators, sorted by operator id, FOR
UPDATE OF the source and the operators. PostgreSQL sorts before it locks (LockRows sits
above the Sort) and locks each row's source before its operator, so it holds the source
from the first row on and the operators in ascending id, as above. Its statements, BEGIN
and COMMIT included: the locking statement, which also reads the weights, the balanced
state, the lead and the sticky owner (and, on SQLite, the loads); on PostgreSQL one read
after the locks, because a statement sees the snapshot taken when it started, from before
any lock it waited for: the weights, the balances and the loads again, and a new lead's
insert with them; on SQLite a new lead's insert; the contact; the tallies; the events; the
balanced UPDATE when the round robin moved. SQLite 6 (known lead) or 7 (new), PostgreSQL 7;
balanced one more. A weight edit that committed while the registration waited for the
source can have weighted an operator it did not lock: it starts over (WeightsMoved), at
most services.REGISTER_ATTEMPTS times in all, then gives up having written nothing (a 503). A
sticky owner without a weight for the source is read, not locked: it cannot receive the
contact, the log only shows it. The balanced state
(SourceOperatorConfig.balance) is part of the source row's lock: every decision among
several operators runs under the source's lock (a registration, drain_source, a weight
change, a requeue, which locks the sources of the operator's contacts, and a time-out),
and Pool.balanced_pick asserts it. A drain onto the one operator whose room appeared
(a close, a limit, presence, a shift) decides among one, which moves no balance (a round
robin step over one operator leaves its balance where it was), so it needs no source lock.
A time-out locks its contact (SKIP LOCKED: another worker has it), then the source, then
the operators, and re-reads its conditions under those locks.

Why I2 holds. Every write keeps "no queued contact could be assigned" true when it
commits. Room that appears on operator X (a close, a reassignment away, an activation, a
raised limit, becoming available) is drained to X alone, under X's lock, with X's weights
read after the lock: a weight of X only changes under X's lock (services._replace_weights).
A registration holds the locks of every operator weighted for its source (and starts over
when a weight added while it waited names one it does not hold), so it either sees room
made before it or is seen by the drain that made it. A drain locks at most as many queued
contacts as it can assign at that moment, oldest first: two drains on two operators of
one source take the oldest and the next one, instead of one locking the whole queue and
the other finding nothing to take. Room that time brings (a shift that starts) has no
transaction of its own: the worker's tick drains it within its interval. The sweep
(drain_all) is the net under I2 for what no single transaction could see, and is safe
beside everything else.
"""

import functools
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    Field,
    Model,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import decision_log, tallies
from .actors import SYSTEM, Actor
from .decision_log import Candidate
from .models import (
    Contact,
    ContactEvent,
    Lead,
    Operator,
    Presence,
    RoutingMode,
    SettingChange,
    Source,
    SourceOperatorConfig,
    normalize_identifier,
)
from .selectors import operator_loads

# os.urandom underneath: no shared state to copy into forked gunicorn workers.
system_rng = random.SystemRandom()

# At most this many queued contacts are locked and assigned per round of a drain.
QUEUE_BATCH_SIZE = 200

Weights = list[tuple[int, int]]  # [(operator_id, weight)]
M = TypeVar("M", bound=Model)
Reason = ContactEvent.Reason


def is_on_shift(operator: Operator, now: datetime) -> bool:
    """Whether the operator's working hours include `now` (no hours: always)."""
    if operator.shift_changes_at is not None and now >= operator.shift_changes_at:
        # The edge the worker has not stored yet: the stored state has flipped by now.
        return not operator.on_shift
    return operator.on_shift


def refusal(operator: Operator, now: datetime) -> str | None:
    """Why the operator's own state keeps it from receiving contacts now, or None."""
    if not operator.is_active:
        return "inactive"
    if operator.presence != Presence.AVAILABLE:
        return operator.presence  # "away" or "offline"
    if not is_on_shift(operator, now):
        return "off shift"
    return None


def accepts_contacts(operator: Operator, now: datetime | None = None) -> bool:
    """The operator's own state allows it to receive contacts (its load aside): active,
    available, and on shift at `now`."""
    return refusal(operator, now or timezone.now()) is None


def choose_operator(candidates: Iterable[tuple[int, int]], *, rng: random.Random) -> int | None:
    """Draw one operator id from (operator_id, weight) pairs, with probability weight / total."""
    pairs = [(operator_id, weight) for operator_id, weight in candidates if weight > 0]
    if not pairs:
        return None
    total = sum(weight for _, weight in pairs)
    point = rng.random() * total
    for operator_id, weight in pairs:
        point -= weight
        if point < 0:
            return operator_id
    return pairs[-1][0]  # Only reached through float rounding at the very top.


def smooth_pick(balances: dict[int, int], eligible: Weights) -> int | None:
    """One step of the smooth weighted round robin (nginx's): every eligible operator's
    balance grows by its weight, the highest (ties: the lowest id) is chosen and gives
    back the eligible total. Operators not eligible keep their balance as it is, so one
    that comes back is not owed a flood of contacts. Mutates `balances`."""
    if not eligible:
        return None
    total = sum(weight for _, weight in eligible)
    for operator_id, weight in eligible:
        balances[operator_id] = balances.get(operator_id, 0) + weight
    chosen = min(eligible, key=lambda pair: (-balances[pair[0]], pair[0]))[0]
    balances[chosen] -= total
    return chosen


@dataclass(frozen=True)
class Decision:
    """Who a contact goes to (None: it waits in the queue), by which rule, and every
    operator the decision considered, as it saw them."""

    operator_id: int | None
    reason: str  # a ContactEvent.Reason value; "" when queued
    candidates: list[Candidate]


def candidates_of(
    operators: dict[int, Operator],
    loads: dict[int, int],
    now: datetime,
    weights: Weights,
    *,
    missed: Iterable[int] = (),
    owner: int | None = None,
) -> list[Candidate]:
    """Every operator weighted for the source (and a sticky owner), with why it may not
    take the contact now: its own state first (refusal), then no weight, then having
    missed this contact's response time, then no room."""
    weight_of = dict(weights)
    missed = set(missed)
    ids = [pk for pk, _ in weights]
    if owner is not None and owner not in weight_of:
        ids.append(owner)
    result = []
    for pk in ids:
        operator = operators.get(pk)
        if operator is None:
            continue
        load = loads.get(pk, 0)
        why_not = refusal(operator, now)
        if why_not is None and pk not in weight_of:
            why_not = decision_log.NO_WEIGHT
        if why_not is None and pk in missed:
            why_not = decision_log.MISSED
        if why_not is None and load >= operator.workload_limit:
            why_not = decision_log.FULL
        result.append(Candidate(pk, weight_of.get(pk), load, operator.workload_limit, why_not))
    return result


@dataclass
class Pool:
    """Operators locked by this transaction, with their current loads, and what the
    transaction's decisions will write: the balanced mode's state and the decision log.

    Room is always computed from the operator's state and its load, never kept as a
    separate count: a slot freed on an operator that does not accept contacts, or that is
    still at or above its limit, gives it nothing.
    """

    operators: dict[int, Operator]
    loads: dict[int, int]
    # The moment this transaction decides at: presence and shifts are read as of then.
    now: datetime = field(default_factory=timezone.now)
    # Who caused the decisions (written into their events).
    actor: Actor = SYSTEM
    # Sources whose row this transaction holds locked: only under that lock may a
    # decision among several operators move a source's balanced state.
    sources: frozenset[int] = frozenset()
    modes: dict[int, str] = field(default_factory=dict)
    balances: dict[int, dict[int, int]] = field(default_factory=dict)
    moved: set[int] = field(default_factory=set)  # sources whose balances changed
    events: list[ContactEvent] = field(default_factory=list)
    # How the transaction's contacts moved between (source, operator, status) counts.
    moves: tallies.Moves = field(default_factory=tallies.Moves)

    @classmethod
    def lock(
        cls, operator_ids: Iterable[int], *, actor: Actor = SYSTEM, sources: Iterable[int] = ()
    ) -> "Pool":
        ids = sorted(set(operator_ids))
        if not ids:
            return cls(operators={}, loads={}, actor=actor, sources=frozenset(sources))
        # Race prevented: two transactions reading the same load and both assigning the
        # operator's last free slot. Whoever assigns to an operator holds its row lock
        # from before it counts the load until it commits the new contact.
        # One query, ascending id: every transaction locks operators in the same order.
        operators = {
            op.pk: op
            for op in Operator.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        }
        return cls(
            operators=operators,
            loads=operator_loads(operators.keys()),
            actor=actor,
            sources=frozenset(sources),
        )

    def room(self, operator_id: int) -> int:
        operator = self.operators.get(operator_id)
        if operator is None or not accepts_contacts(operator, self.now):
            return 0
        return max(0, operator.workload_limit - self.loads.get(operator_id, 0))

    def eligible(self, weights: Iterable[tuple[int, int]]) -> Weights:
        return [(pk, w) for pk, w in weights if self.room(pk) > 0]

    def take(self, operator_id: int) -> None:
        """One more open contact for this operator."""
        self.loads[operator_id] = self.loads.get(operator_id, 0) + 1

    def release(self, operator_id: int) -> None:
        """One open contact fewer for this operator (closed or moved away)."""
        self.loads[operator_id] = self.loads.get(operator_id, 0) - 1

    def load_modes(self, source_ids: Iterable[int]) -> None:
        missing = set(source_ids) - set(self.modes)
        if missing:
            self.modes.update(Source.objects.filter(pk__in=missing).values_list("pk", "mode"))

    def balanced_pick(self, source_id: int, eligible: Weights) -> int | None:
        if len(eligible) <= 1:
            # One step with a single operator leaves its balance where it was.
            return eligible[0][0] if eligible else None
        # Race prevented: two transactions moving one source's round robin from the same
        # state. Every path that decides among several operators holds the source's lock
        # (a registration, a drain of the source, a weight change, a requeue, a time-out);
        # a drain onto one operator whose room appeared never needs it.
        assert source_id in self.sources, f"source {source_id} must be locked to balance"
        if source_id not in self.balances:
            self.balances[source_id] = dict(
                SourceOperatorConfig.objects.filter(source_id=source_id).values_list(
                    "operator_id", "balance"
                )
            )
        self.moved.add(source_id)
        return smooth_pick(self.balances[source_id], eligible)

    def finish(self, events: Iterable[ContactEvent | SettingChange] = ()) -> None:
        """Write what the decisions left: moved balances (one UPDATE per source), the
        tallies of the contacts that moved (one upsert) and the log in one INSERT: `events`
        (the caller's own: a close, a reassignment) first, then the pool's (the drain's
        decisions that followed it)."""
        for source_id in sorted(self.moved):
            state = self.balances[source_id]
            SourceOperatorConfig.objects.filter(source_id=source_id, operator_id__in=state).update(
                balance=Case(
                    *(When(operator_id=pk, then=Value(b)) for pk, b in state.items()),
                    default=F("balance"),
                )
            )
        self.moved.clear()
        tallies.write(self.moves)
        self.moves.clear()
        decision_log.record([*events, *self.events])
        self.events.clear()


def decide(
    pool: Pool,
    source_id: int,
    weights: Weights,
    *,
    rng: random.Random,
    missed: Iterable[int] = (),
    owner: int | None = None,
) -> Decision:
    """Choose the operator for one contact of `source_id` (taking its slot in the pool):
    the sticky owner when it is eligible, else the source's mode among the eligible
    operators, none of which may have missed this contact's response time."""
    candidates = candidates_of(
        pool.operators, pool.loads, pool.now, weights, missed=missed, owner=owner
    )
    eligible = [(c.operator_id, c.weight or 0) for c in candidates if c.eligible]
    chosen: int | None
    if owner is not None and any(pk == owner for pk, _ in eligible):
        chosen, reason = owner, Reason.STICKY
    elif pool.modes.get(source_id) == RoutingMode.BALANCED:
        chosen, reason = pool.balanced_pick(source_id, eligible), Reason.BALANCED
    else:
        chosen, reason = choose_operator(eligible, rng=rng), Reason.WEIGHTED
    if chosen is None:
        return Decision(None, "", candidates)
    pool.take(chosen)
    return Decision(chosen, reason, candidates)


def source_configs(source_id: int) -> tuple[Weights, dict[int, int]]:
    """One source's weights (ascending operator id) and balanced state, in one query."""
    rows = list(
        SourceOperatorConfig.objects.filter(source_id=source_id)
        .order_by("operator_id")
        .values_list("operator_id", "weight", "balance")
    )
    return [(pk, w) for pk, w, _ in rows], {pk: b for pk, _, b in rows}


def source_weights(source_ids: Iterable[int]) -> dict[int, Weights]:
    """{source_id: [(operator_id, weight)]} in ascending operator id."""
    weights: dict[int, Weights] = {}
    rows = (
        SourceOperatorConfig.objects.filter(source_id__in=list(source_ids))
        .order_by("source_id", "operator_id")
        .values_list("source_id", "operator_id", "weight")
    )
    for source_id, operator_id, weight in rows:
        weights.setdefault(source_id, []).append((operator_id, weight))
    return weights


def operator_weights(operator_id: int) -> dict[int, Weights]:
    """{source_id: [(operator_id, weight)]} for the sources this one operator serves.

    Read it only while holding the operator's lock: a weight of an operator only changes
    under that lock, so the read is current.
    """
    rows = SourceOperatorConfig.objects.filter(operator_id=operator_id).values_list(
        "source_id", "weight"
    )
    return {source_id: [(operator_id, weight)] for source_id, weight in rows}


def sticky_owner(identifier_key: str, days: int | None, now: datetime) -> int | None:
    """The operator of the lead's latest contact (any source, assigned) created within
    `days` before `now`; None when sticky is off or there is none. One query, when on."""
    if not days:
        return None
    return (
        Contact.objects.filter(
            lead__identifier_key=identifier_key,
            operator__isnull=False,
            created_at__gte=now - timedelta(days=days),
        )
        .order_by("-created_at", "-id")
        .values_list("operator_id", flat=True)
        .first()
    )


def open_contacts(operator: OuterRef) -> Coalesce:
    """The load of the operator `operator` names, as a column of an outer query (through the
    partial index contact_open_by_operator)."""
    count = (
        Contact.objects.filter(operator_id=operator, status=Contact.Status.OPEN)
        .order_by()
        .values("operator_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(count), 0)


def loads_read_under_lock() -> bool:
    """Whether the registration's locking statement may count the loads itself.

    On SQLite writers run one at a time (BEGIN IMMEDIATE): nothing changes a load between
    the start of our statement and our commit. On PostgreSQL a statement reads the
    snapshot taken when it started: if it waited for an operator's lock, the contact the
    lock's holder just committed is not in it, so the loads (and the weights) are read by
    a statement of their own, after the locks."""
    return connection.vendor == "sqlite"


class WeightsMoved(Exception):
    """PostgreSQL: the source gained a weighted operator while the registration waited for
    the source's lock, so its locks miss that operator; the registration starts over."""


@dataclass(frozen=True)
class Arrival:
    """What a registration found under its locks (lock_arrival): the source, the pool of
    its weighted operators with their loads, its weights, the sticky owner (within the
    window; None when sticky is off or there is none), and the lead (created: by us)."""

    source: Source
    pool: Pool
    weights: Weights
    owner: int | None
    lead: Lead
    created: bool


def _arrival_columns(key: str) -> dict[str, Any]:
    """For a source without weights, the lead and sticky owner columns of the locking
    statement (_arrival_sql) as annotations of the source's row."""
    lead = Lead.objects.filter(identifier_key=key).order_by()
    # By the lead's id, not a join on its key: the planner then walks the lead's own
    # contacts (the lead_id index) rather than the newest contacts of everyone.
    latest = Contact.objects.filter(
        lead_id=Subquery(lead.values("pk")[:1]), operator__isnull=False
    ).order_by("-created_at", "-id")
    sticky = Q(sticky_days__isnull=False)
    return {
        "lead_pk": Subquery(lead.values("pk")[:1]),
        "lead_identifier": Subquery(lead.values("identifier")[:1]),
        "lead_name": Subquery(lead.values("name")[:1]),
        "owner_pk": Case(When(sticky, then=Subquery(latest.values("operator_id")[:1]))),
        "owner_at": Case(When(sticky, then=Subquery(latest.values("created_at")[:1]))),
    }


# An operator's open contacts, written as a literal: with the status bound as a parameter
# SQLite does not match the partial index contact_open_by_operator (five times slower),
# nor does a generic plan on PostgreSQL.
OPEN = f" AND c.status = '{Contact.Status.OPEN}'"


def _new_lead_sql() -> str:
    """The insert of a new lead: nothing (no row returned) when its key exists by now.

    No savepoint is needed: a concurrent first contact of the same lead that inserted it
    since our read makes ours insert nothing (PostgreSQL waits for it to commit), and the
    caller reads the lead instead."""
    table = connection.ops.quote_name(Lead._meta.db_table)
    return (
        f"INSERT INTO {table} (identifier, identifier_key, name, created_at) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (identifier_key) DO NOTHING RETURNING id"
    )


def _fresh_sql(new_lead: bool) -> str:
    """PostgreSQL's read after the locks: the source's weights, balances and loads (rows
    with an operator id) and, for a new lead, its insert (the row without one)."""
    config = connection.ops.quote_name(SourceOperatorConfig._meta.db_table)
    contact = connection.ops.quote_name(Contact._meta.db_table)
    read = (
        f"SELECT w.operator_id, w.weight, w.balance, (SELECT COUNT(*) FROM {contact} c"
        f" WHERE c.operator_id = w.operator_id{OPEN}) FROM {config} w WHERE w.source_id = %s"
    )
    if not new_lead:
        return read
    return (
        f"WITH new_lead AS ({_new_lead_sql()}) {read} UNION ALL SELECT NULL, 0, 0, id FROM new_lead"
    )


@dataclass
class _Head:
    """The columns every row of the locking statement repeats."""

    source: Source
    lead_pk: int | None
    lead_identifier: str | None
    lead_name: str | None
    owner_pk: int | None
    owner_at: Any


def _aware(value: Any) -> Any:
    """A datetime column of the locking statement as the ORM gives it: on SQLite a
    table's column comes parsed but naive (in UTC), a subquery's as text."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if isinstance(value, datetime) and timezone.is_naive(value):
        return timezone.make_aware(value, UTC)
    return value


def _from_row(model: type[M], fields: list[Field], values: Sequence[Any]) -> M:
    """A model instance from its columns (PostgreSQL's driver returns Python's types;
    SQLite's, through Django's converters, all but aware datetimes)."""
    if connection.vendor == "sqlite":
        values = [
            _aware(v) if isinstance(f, DateTimeField) else v
            for f, v in zip(fields, values, strict=True)
        ]
    return model.from_db(connection.alias, [f.attname for f in fields], values)


# What refusal() and Pool.room() read of an operator.
ACCEPTS_CONTACTS_FIELDS = (
    "id",
    "is_active",
    "workload_limit",
    "presence",
    "on_shift",
    "shift_changes_at",
)


@functools.cache
def _arrival_sql(vendor: str) -> tuple[str, list[Field], list[Field]]:
    """The registration's locking statement (lock_arrival), written once per process: the
    ORM would build and compile it again for every registration, which cost more than
    running it. Its columns: operator id, weight, balance, the source's fields, the
    operator's fields the engine decides by (ACCEPTS_CONTACTS_FIELDS; the others are
    deferred), the lead's id, identifier and name, the sticky owner and the time of its
    contact, and on SQLite the operator's load."""
    q = connection.ops.quote_name
    source_fields = list(Source._meta.concrete_fields)
    operator_fields = [
        f for f in Operator._meta.concrete_fields if f.name in ACCEPTS_CONTACTS_FIELDS
    ]
    config, source, operator, lead, contact = (
        q(model._meta.db_table) for model in (SourceOperatorConfig, Source, Operator, Lead, Contact)
    )

    def lead_column(name: str) -> str:
        return f"(SELECT l.{q(name)} FROM {lead} l WHERE l.identifier_key = %(key)s)"

    def owner_column(name: str) -> str:
        # By the lead's id: the planner walks the lead's own contacts (lead_id's index).
        return (
            f"CASE WHEN s.sticky_days IS NOT NULL THEN (SELECT c.{q(name)} FROM {contact} c"
            f" WHERE c.lead_id = {lead_column('id')} AND c.operator_id IS NOT NULL"
            " ORDER BY c.created_at DESC, c.id DESC LIMIT 1) END"
        )

    columns = [
        "w.operator_id",
        "w.weight",
        "w.balance",
        *(f"s.{q(f.column)}" for f in source_fields),
        *(f"o.{q(f.column)}" for f in operator_fields),
        lead_column("id"),
        lead_column("identifier"),
        lead_column("name"),
        owner_column("operator_id"),
        owner_column("created_at"),
    ]
    if vendor == "sqlite":
        columns.append(
            f"(SELECT COUNT(*) FROM {contact} c WHERE c.operator_id = w.operator_id{OPEN})"
        )
    sql = (
        f"SELECT {', '.join(columns)} FROM {config} w"
        f" JOIN {source} s ON s.id = w.source_id JOIN {operator} o ON o.id = w.operator_id"
        " WHERE w.source_id = %(source)s ORDER BY w.operator_id"
    )
    if vendor != "sqlite":
        # Sorted first, then locked row by row, each row's source before its operator.
        sql += " FOR UPDATE OF s, o"
    return sql, source_fields, operator_fields


def lock_arrival(
    source_id: int,
    *,
    identifier: str,
    key: str,
    name: str,
    now: datetime,
    actor: Actor,
) -> Arrival | None:
    """Lock what a registration of lead `key` through the source decides under, read what
    it decides by, and find or insert the lead; None when there is no such source.

    One statement, when the source has weights: its weighted operators joined to the
    source and to themselves, in ascending operator id, FOR UPDATE OF the source and the
    operators. PostgreSQL sorts before it locks, and locks each row's source before its
    operator, so the locks are taken in the engine's order: the source (at the first row),
    then the operators, ascending. The lead and the sticky owner are columns of it; on
    SQLite the loads too (loads_read_under_lock). Then:

    * SQLite: a new lead's insert, one statement.
    * PostgreSQL: one statement after the locks reads the weights, the balanced state
      and the loads again, from a snapshot taken after them (the locking statement's may
      predate a weight edit, a close or a registration it waited for), and inserts a new
      lead. An operator weighted since (the edit held the source when we asked for it) is
      not locked: WeightsMoved, and the caller starts over.
    * A source without weights (no row): the source is locked (and the lead and the owner
      read) by one more statement.
    * A sticky owner without a weight for the source is read (not locked) by one more
      statement, only for the decision log: it cannot receive the contact.
    * A lead inserted by a concurrent registration since our read is read (one more), a
      known lead without a name takes the one given (one more UPDATE).
    """
    under_lock = loads_read_under_lock()
    sql, source_fields, operator_fields = _arrival_sql(connection.vendor)
    # Race prevented: two registrations (or a registration and a close) both counting an
    # operator's last free slot, and a weight or a balance of the source changing while
    # we decide by it. Every transaction that assigns to an operator, or edits a weight,
    # holds these locks from before it reads until it commits. Inactive operators are
    # locked too: one being activated right now either waits for us (and then drains our
    # contact from the queue) or is seen active by us.
    with connection.cursor() as cursor:
        cursor.execute(sql, {"source": source_id, "key": key})
        rows = cursor.fetchall()
    # The first row (or the source's) carries the lead's and the owner's columns.
    first: Any
    operators: dict[int, Operator] = {}
    loads: dict[int, int] = {}
    weights: Weights = []
    balances: dict[int, int] = {}
    if rows:
        ns, no = len(source_fields), len(operator_fields)
        source = _from_row(Source, source_fields, rows[0][3 : 3 + ns])
        first = _Head(source, *rows[0][3 + ns + no : 3 + ns + no + 5])
        first.owner_at = _aware(first.owner_at)
        for row in rows:
            pk = row[0]
            weights.append((pk, row[1]))
            balances[pk] = row[2]
            operators[pk] = _from_row(Operator, operator_fields, row[3 + ns : 3 + ns + no])
            if under_lock:
                loads[pk] = row[-1]
    else:
        found = (
            Source.objects.select_for_update()
            .filter(pk=source_id)
            .annotate(**_arrival_columns(key))
            .first()
        )
        if found is None:
            return None
        first = source = found
    new_lead = first.lead_pk is None
    inserted: int | None = None
    lead_row = [identifier, key, name, connection.ops.adapt_datetimefield_value(now)]
    if under_lock:
        if new_lead:
            with connection.cursor() as cursor:
                cursor.execute(_new_lead_sql(), lead_row)
                found_row = cursor.fetchone()
            inserted = found_row[0] if found_row else None
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                _fresh_sql(new_lead),
                [*(lead_row if new_lead else []), source_id],
            )
            fresh = cursor.fetchall()
        inserted = next((load for pk, _, _, load in fresh if pk is None), None)
        fresh = sorted(row for row in fresh if row[0] is not None)
        if any(pk not in operators for pk, *_ in fresh):
            raise WeightsMoved(source_id)
        weights = [(pk, weight) for pk, weight, _, _ in fresh]
        balances = {pk: balance for pk, _, balance, _ in fresh}
        loads = {pk: load for pk, _, _, load in fresh}
    owner = first.owner_pk
    if owner is not None and first.owner_at < now - timedelta(days=source.sticky_days or 0):
        owner = None
    pool = Pool(
        operators=operators,
        loads=loads,
        now=now,
        actor=actor,
        sources=frozenset([source.pk]),
        modes={source.pk: source.mode},
        balances={source.pk: balances},
    )
    if owner is not None and owner not in operators:
        # Shown in the log with its state, never chosen: it has no weight here.
        shown = (
            Operator.objects.filter(pk=owner).annotate(load=open_contacts(OuterRef("pk"))).first()
        )
        if shown is not None:
            pool.operators[owner] = shown
            pool.loads[owner] = shown.load
    if inserted is not None:
        lead = Lead.from_db(
            connection.alias,
            ["id", "identifier", "identifier_key", "name", "created_at"],
            [inserted, identifier, key, name, now],
        )
        return Arrival(source, pool, weights, owner, lead, created=True)
    if new_lead:
        lead = Lead.objects.get(identifier_key=key)  # inserted by a concurrent registration
    else:
        # Its creation time is not read: deferred, it is loaded if anyone asks for it.
        lead = Lead.from_db(
            connection.alias,
            ["id", "identifier", "identifier_key", "name"],
            [first.lead_pk, first.lead_identifier, key, first.lead_name],
        )
    if name and not lead.name:
        # Only while it has none: a name given meanwhile by another registration stays.
        Lead.objects.filter(pk=lead.pk, name="").update(name=name)
        lead.name = name
    return Arrival(source, pool, weights, owner, lead, created=False)


@dataclass(frozen=True)
class Preview:
    """What the source's rule would do with a contact now (allocation.preview)."""

    operator_id: int | None  # None: queued, or (random mode) a draw among several
    reason: str  # weighted, balanced, sticky, or "queued" when nobody is eligible
    candidates: list[Candidate]
    probability: dict[int, float] | None  # random mode: each candidate's chance


def preview(
    source_id: int, *, lead_identifier: str | None = None, now: datetime | None = None
) -> Preview:
    """Who would get the source's next contact now (from this lead, for its sticky owner),
    and why every other operator would not. Reads only: no lock is taken and nothing is
    written, so a registration may decide otherwise a moment later. Raises
    Source.DoesNotExist for an unknown source."""
    now = now or timezone.now()
    source = Source.objects.get(pk=source_id)
    weights, balances = source_configs(source_id)
    owner = (
        sticky_owner(normalize_identifier(lead_identifier), source.sticky_days, now)
        if lead_identifier
        else None
    )
    ids = {pk for pk, _ in weights} | ({owner} if owner else set())
    operators = {op.pk: op for op in Operator.objects.filter(pk__in=ids)}
    loads = operator_loads(ids)
    candidates = candidates_of(operators, loads, now, weights, owner=owner)
    sticky = any(c.operator_id == owner and c.eligible for c in candidates)
    if source.mode == RoutingMode.RANDOM and not sticky:
        eligible = [(c.operator_id, c.weight or 0) for c in candidates if c.eligible]
        total = sum(weight for _, weight in eligible)
        chance = dict.fromkeys((c.operator_id for c in candidates), 0.0)
        chance.update({pk: weight / total for pk, weight in eligible})
        only = eligible[0][0] if len(eligible) == 1 else None
        return Preview(only, Reason.WEIGHTED if eligible else "queued", candidates, chance)
    # The real decision, on an unlocked pool and a copy of the balanced state, never
    # finished: the same code as a registration's, writing nothing.
    pool = Pool(
        operators=operators,
        loads=loads,
        now=now,
        sources=frozenset([source_id]),
        modes={source_id: source.mode},
        balances={source_id: dict(balances)},
    )
    decision = decide(pool, source_id, weights, owner=owner, rng=system_rng)
    return Preview(decision.operator_id, decision.reason or "queued", decision.candidates, None)


def drain(pool: Pool, weights: dict[int, Weights], *, rng: random.Random) -> int:
    """Assign queued contacts of these sources to the pool's operators, oldest first, each
    by its source's mode and never to an operator that missed its response time. The
    events go into the pool (written by pool.finish()).

    `weights` must only name operators the pool holds locked. Returns how many were assigned.
    """
    # The moment of the assignments: after whatever made the room in this transaction (a
    # close's closed_at), so that the timeline lists the cause before its effect.
    now = timezone.now()
    assigned_total = 0
    # Contacts this drain looked at and could not give to anyone (every operator with
    # room missed them): not fetched again, or the loop would see them forever.
    passed: list[int] = []
    while True:
        open_sources = {sid: pool.eligible(pairs) for sid, pairs in weights.items()}
        open_sources = {sid: pairs for sid, pairs in open_sources.items() if pairs}
        takers = {pk for pairs in open_sources.values() for pk, _ in pairs}
        capacity = min(sum(pool.room(pk) for pk in takers), QUEUE_BATCH_SIZE)
        if not capacity:
            return assigned_total
        # Race prevented: two drains on two operators of one source at once. Each locks
        # only as many of the oldest queued contacts as it can assign now, and SKIP LOCKED
        # lets the other take the next ones instead of waiting, or finding none.
        batch = list(
            Contact.objects.select_for_update(skip_locked=True)
            .filter(status=Contact.Status.OPEN, operator__isnull=True, source_id__in=open_sources)
            .exclude(pk__in=passed)
            .order_by("created_at", "id")[:capacity]
        )
        pool.load_modes({contact.source_id for contact in batch})
        assigned = []
        for contact in batch:
            decision = decide(
                pool,
                contact.source_id,
                weights[contact.source_id],
                rng=rng,
                missed=contact.missed_by,
            )
            if decision.operator_id is None:
                # Its operators filled up on other sources earlier in this batch, or
                # every one with room missed it.
                passed.append(contact.pk)
                continue
            contact.operator_id = decision.operator_id
            contact.assigned_at = now
            assigned.append(contact)
            pool.moves.change(
                contact.source_id,
                (None, Contact.Status.OPEN),
                (decision.operator_id, Contact.Status.OPEN),
            )
            pool.events.append(
                decision_log.contact_event(
                    contact.pk,
                    ContactEvent.Kind.ASSIGNED,
                    actor=pool.actor,
                    at=now,
                    operator_id=decision.operator_id,
                    reason=Reason.DRAINED,
                    candidates=decision.candidates,
                )
            )
        Contact.objects.bulk_update(assigned, ["operator", "assigned_at"])
        assigned_total += len(assigned)
        if len(batch) < capacity:
            return assigned_total


def drain_operator(pool: Pool, operator_id: int, *, rng: random.Random) -> int:
    """Room appeared on this operator (locked in the pool): give it the queue of its sources."""
    return drain(pool, operator_weights(operator_id), rng=rng)


def requeue(
    pool: Pool, operator_id: int, weights: dict[int, Weights], *, rng: random.Random
) -> int:
    """Return an operator's open contacts to the queue and hand them out again at once.

    The pool holds the operator and every operator weighted for the sources in `weights`
    (the sources of its open contacts, locked by the caller); a contact of any other
    source (one that arrived since the caller looked) stays where it is. Contacts locked
    by another transaction (being closed or reassigned right now) are skipped, which also
    keeps the lock order. Returns how many went back to the queue.
    """
    # SKIP LOCKED: a contact locked elsewhere is being closed or moved right now; waiting
    # for it while holding operator locks could deadlock.
    contacts = list(
        Contact.objects.select_for_update(skip_locked=True)
        .filter(operator_id=operator_id, status=Contact.Status.OPEN, source_id__in=weights)
        .order_by("created_at", "id")
    )
    for contact in contacts:
        contact.operator_id = None
        contact.assigned_at = None
        pool.release(operator_id)
        pool.moves.change(
            contact.source_id, (operator_id, Contact.Status.OPEN), (None, Contact.Status.OPEN)
        )
        pool.events.append(
            decision_log.contact_event(
                contact.pk,
                ContactEvent.Kind.REQUEUED,
                actor=pool.actor,
                at=pool.now,
                operator_id=operator_id,
                previous_operator_id=operator_id,
            )
        )
    Contact.objects.bulk_update(contacts, ["operator", "assigned_at"])
    drain(pool, weights, rng=rng)
    return len(contacts)


def queued_source_ids() -> list[int]:
    """Sources that have queued contacts now."""
    return list(
        Contact.objects.filter(status=Contact.Status.OPEN, operator__isnull=True)
        .order_by("source_id")
        .values_list("source_id", flat=True)
        .distinct()
    )


def drain_source(source_id: int, *, rng: random.Random, actor: Actor = SYSTEM) -> int:
    """Assign what can be assigned now of one source's queue, in one transaction."""
    with transaction.atomic():
        # The source lock keeps its weights still while we read them (every weight edit
        # locks the source row first), then the operators are locked as a registration does.
        if not Source.objects.select_for_update().filter(pk=source_id).exists():
            return 0
        weights = source_weights([source_id]).get(source_id, [])
        pool = Pool.lock((pk for pk, _ in weights), actor=actor, sources=[source_id])
        assigned = drain(pool, {source_id: weights}, rng=rng)
        pool.finish()
        return assigned


def drain_all(*, rng: random.Random | None = None, actor: Actor = SYSTEM) -> int:
    """The safety sweep: assign whatever can be assigned now, one source per transaction.

    Idempotent, and safe beside the app and beside another sweep: it takes the same locks,
    in the same order, as a registration does. Returns how many contacts it assigned.
    """
    rng = rng or system_rng
    return sum(drain_source(source_id, rng=rng, actor=actor) for source_id in queued_source_ids())
