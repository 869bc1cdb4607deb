"""
The assignment engine: who may receive a contact, how much room each operator has, the
weighted draw, and the drain of the queue. services.py holds the use cases (register,
close, reassign, change an operator or a source's weights) and calls this module for
every decision about who gets what; nothing else assigns a contact.

The rules (docs/rules.md):

* An operator *accepts contacts* when it is active, available (presence) and on shift
  (its weekly working hours, if it has any, include the moment). Its *room* is its limit
  minus its load (open contacts) when it accepts contacts, and 0 otherwise, never below 0.
* For a contact of source S the *eligible* operators are those with a weight for S and
  room > 0; one is drawn with probability weight / sum of eligible weights.
* Whenever room appears, queued contacts that can now be assigned are, oldest first, by
  the same rule, in the transaction that made the room.

Room is derived from the locked operator row and its load every time it is asked for
(Pool.room); nothing adds a freed slot to a counter. That is what keeps a close on an
inactive operator, or on one still over a lowered limit, from handing it the queue.

The invariants (checked after every step of the stateful test, see invariants.py):

* I1  A contact is only ever assigned to an operator that, at that moment, accepts
      contacts (active, available, on shift), has a weight for the contact's source, and
      holds fewer open contacts than its limit. A manual reassignment needs the same
      except the weight.
* I2  When no transaction is running, no source has a queued contact while an operator
      eligible for that source has room (for room that time brings, a shift that starts,
      once the worker has ticked).
* I3  One lead per identifier key (models.normalize_identifier): a phone number's E.164
      form ("+44 7700 918827" and "0044 7700 918827" are one lead), otherwise the
      trimmed, case-folded identifier.
* I4  Status, timestamps and operator agree: closed iff closed_at; an operator iff
      assigned_at (the database's own constraints, and the order of the timestamps).
* I5  Every registration that was answered is stored, exactly once.
* I6  The engine's reading of whether an operator is on shift (is_on_shift) agrees with
      its working hours at that moment, given the worker ticks at least once per range.

Lock order. On SQLite every transaction begins IMMEDIATE (see settings), so writers run
one at a time and these locks are no-ops. On PostgreSQL they are taken, always in this
order, so that two transactions never wait for each other in a cycle:

    contact row  ->  source row  ->  operator rows (one query, ascending id)
        ->  queued contact rows (SKIP LOCKED)  ->  new lead row

A transaction that holds operator locks never waits for a contact lock (it skips locked
queued contacts), which is what keeps the order acyclic.

Why I2 holds. Every write keeps "no queued contact could be assigned" true when it
commits. Room that appears on operator X (a close, a reassignment away, an activation, a
raised limit, becoming available) is drained to X alone, under X's lock, with X's weights
read after the lock: a weight of X only changes under X's lock (services._replace_weights).
A registration holds the locks of every operator weighted for its source, so it either sees
room made before it or is seen by the drain that made it. A drain locks at most as many queued
contacts as it can assign at that moment, oldest first: two drains on two operators of
one source take the oldest and the next one, instead of one locking the whole queue and
the other finding nothing to take. Room that time brings (a shift that starts) has no
transaction of its own: the worker's tick drains it within its interval. The sweep
(drain_all) is the net under I2 for what no single transaction could see, and is safe
beside everything else.
"""

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .models import Contact, Operator, Presence, Source, SourceOperatorConfig
from .selectors import operator_loads

# os.urandom underneath: no shared state to copy into forked gunicorn workers.
system_rng = random.SystemRandom()

# At most this many queued contacts are locked and assigned per round of a drain.
QUEUE_BATCH_SIZE = 200

Weights = list[tuple[int, int]]  # [(operator_id, weight)]


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


@dataclass
class Pool:
    """Operators locked by this transaction, with their current loads.

    Room is always computed from the operator's state and its load, never kept as a
    separate count: a slot freed on an operator that does not accept contacts, or that is
    still at or above its limit, gives it nothing.
    """

    operators: dict[int, Operator]
    loads: dict[int, int]
    # The moment this transaction decides at: presence and shifts are read as of then.
    now: datetime = field(default_factory=timezone.now)

    @classmethod
    def lock(cls, operator_ids: Iterable[int]) -> "Pool":
        ids = sorted(set(operator_ids))
        if not ids:
            return cls(operators={}, loads={})
        # Race prevented: two transactions reading the same load and both assigning the
        # operator's last free slot. Whoever assigns to an operator holds its row lock
        # from before it counts the load until it commits the new contact.
        # One query, ascending id: every transaction locks operators in the same order.
        operators = {
            op.pk: op
            for op in Operator.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        }
        return cls(operators=operators, loads=operator_loads(operators.keys()))

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


def assign_new(pool: Pool, weights: Weights, *, rng: random.Random) -> int | None:
    """The operator a new contact goes to (taking its slot in the pool), or None: queued."""
    operator_id = choose_operator(pool.eligible(weights), rng=rng)
    if operator_id is not None:
        pool.take(operator_id)
    return operator_id


def drain(pool: Pool, weights: dict[int, Weights], *, rng: random.Random) -> int:
    """Assign queued contacts of these sources to the pool's operators, oldest first.

    `weights` must only name operators the pool holds locked. Returns how many were assigned.
    """
    now = timezone.now()
    assigned_total = 0
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
            .order_by("created_at", "id")[:capacity]
        )
        assigned = []
        for contact in batch:
            operator_id = assign_new(pool, weights[contact.source_id], rng=rng)
            if operator_id is None:
                continue  # Its operators filled up on other sources earlier in this batch.
            contact.operator_id = operator_id
            contact.assigned_at = now
            assigned.append(contact)
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


def drain_source(source_id: int, *, rng: random.Random) -> int:
    """Assign what can be assigned now of one source's queue, in one transaction."""
    with transaction.atomic():
        # The source lock keeps its weights still while we read them (every weight edit
        # locks the source row first), then the operators are locked as a registration does.
        if not Source.objects.select_for_update().filter(pk=source_id).exists():
            return 0
        weights = source_weights([source_id]).get(source_id, [])
        pool = Pool.lock(pk for pk, _ in weights)
        return drain(pool, {source_id: weights}, rng=rng)


def drain_all(*, rng: random.Random | None = None) -> int:
    """The safety sweep: assign whatever can be assigned now, one source per transaction.

    Idempotent, and safe beside the app and beside another sweep: it takes the same locks,
    in the same order, as a registration does. Returns how many contacts it assigned.
    """
    rng = rng or system_rng
    return sum(drain_source(source_id, rng=rng) for source_id in queued_source_ids())
