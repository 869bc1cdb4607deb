"""
Every write of the distribution domain. Views, forms, the API, the admin and the
management commands call these functions; none of them changes these rows itself.

Each function is one transaction. Who gets a contact, how much room an operator has and
how the queue drains is decided by the assignment engine, allocation.py, whose docstring
gives the rules, the invariants and the order in which rows are locked.
"""

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import actors, allocation, decision_log, selectors, shifts, tallies
from .actors import SYSTEM, Actor
from .allocation import Pool
from .decision_log import contact_event, setting_change
from .models import (
    MAX_IDENTIFIER_LENGTH,
    MAX_MESSAGE_LENGTH,
    MAX_NAME_LENGTH,
    MAX_NOTE_LENGTH,
    MAX_RESPONSE_MINUTES,
    MAX_STICKY_DAYS,
    MAX_WEIGHT,
    Contact,
    ContactEvent,
    EventKind,
    Operator,
    Presence,
    RoutingMode,
    SettingChange,
    ShiftHours,
    Source,
    SourceOperatorConfig,
    normalize_identifier,
    trim,
)

MAX_LEAD_NAME_LENGTH = MAX_NAME_LENGTH


class NameTaken(ValidationError):
    """A unique name is already used by another row (the API answers 409)."""


# How many times a registration starts over when the source's weights moved while it
# waited for the source's lock (allocation.WeightsMoved). Each time takes a weight edit
# committed within that wait, so a few suffice (20 threads editing weights and
# registering at once in tests/test_concurrency.py gave up once in a run with 3); the
# bound stops a registration from spinning while weights are edited without a pause.
REGISTER_ATTEMPTS = 5


class WeightsKeptMoving(Exception):
    """A registration found the source's weights moved on each of its REGISTER_ATTEMPTS
    attempts. Nothing was written; the request may be sent again (a request answers 503
    with Retry-After, like a database outage: distribution/views/errors.py)."""


# --- contacts ---------------------------------------------------------------------


def _clean_text(value: str | None, *, field: str, max_length: int, required: bool) -> str:
    value = trim(value or "")
    if "\x00" in value:
        # PostgreSQL cannot store NUL in text; refuse it here rather than fail on insert.
        raise ValidationError({field: "Must not contain NUL characters."}, code="null_characters")
    if required and not value:
        raise ValidationError({field: "This field is required."}, code="required")
    if len(value) > max_length:
        raise ValidationError(
            {field: f"At most {max_length} characters (got {len(value)})."}, code="max_length"
        )
    return value


def contact_register(
    *,
    lead_identifier: str,
    source_id: int,
    message: str = "",
    lead_name: str = "",
    rng: random.Random | None = None,
    actor: Actor = SYSTEM,
) -> Contact:
    """Store a new contact of a lead through a source, assigned by the source's rule
    (sticky owner, balanced or weighted) or queued, with its events in the decision log.

    A fixed number of queries, whatever the history (allocation.lock_arrival, README
    "Benchmarks"): BEGIN, the locking statement (on PostgreSQL one more read after it),
    the lead's insert when it is new, the contact's insert, the events' insert, the
    tallies' upsert, COMMIT; the balanced mode's UPDATE when a choice among several
    operators moves the source's state."""
    identifier = _clean_text(
        lead_identifier, field="lead_identifier", max_length=MAX_IDENTIFIER_LENGTH, required=True
    )
    message = _clean_text(message, field="message", max_length=MAX_MESSAGE_LENGTH, required=False)
    lead_name = _clean_text(
        lead_name, field="lead_name", max_length=MAX_LEAD_NAME_LENGTH, required=False
    )
    for _attempt in range(REGISTER_ATTEMPTS):
        try:
            return _register(
                identifier=identifier,
                source_id=source_id,
                message=message,
                lead_name=lead_name,
                rng=rng or allocation.system_rng,
                actor=actor,
            )
        except allocation.WeightsMoved:
            # PostgreSQL, rarely: a weight edit committed while we waited for the source.
            # Nothing was written; the next attempt locks the operators it added.
            continue
    raise WeightsKeptMoving(source_id)


@transaction.atomic
def _register(
    *,
    identifier: str,
    source_id: int,
    message: str,
    lead_name: str,
    rng: random.Random,
    actor: Actor,
) -> Contact:
    now = timezone.now()
    arrival = allocation.lock_arrival(
        source_id,
        identifier=identifier,
        key=normalize_identifier(identifier),
        name=lead_name,
        now=now,
        actor=actor,
    )
    if arrival is None:
        raise ValidationError({"source_id": f"There is no source with id {source_id}."})
    source, pool = arrival.source, arrival.pool
    decision = allocation.decide(pool, source.pk, arrival.weights, owner=arrival.owner, rng=rng)
    operator_id = decision.operator_id
    contact = Contact.objects.create(
        lead=arrival.lead,
        source=source,
        operator_id=operator_id,
        message=message,
        created_at=now,
        assigned_at=now if operator_id else None,
    )
    pool.moves.add(source.pk, operator_id, Contact.Status.OPEN)
    if arrival.created:
        pool.moves.add(source.pk, None, tallies.LEAD)
    pool.finish(
        [
            contact_event(contact.pk, ContactEvent.Kind.REGISTERED, actor=actor, at=now),
            _decision_event(contact.pk, decision, actor=actor, at=now),
        ]
    )
    return contact


def _decision_event(
    contact_id: int, decision: allocation.Decision, *, actor: Actor, at
) -> ContactEvent:
    """`assigned` (with the rule that chose) or `queued`, with the candidates."""
    kind = ContactEvent.Kind.ASSIGNED if decision.operator_id else ContactEvent.Kind.QUEUED
    return contact_event(
        contact_id,
        kind,
        actor=actor,
        at=at,
        operator_id=decision.operator_id,
        reason=decision.reason,
        candidates=decision.candidates,
    )


@transaction.atomic
def contact_close(
    *,
    contact_id: int,
    outcome: str | None = None,
    note: str = "",
    rng: random.Random | None = None,
    actor: Actor = SYSTEM,
) -> Contact:
    """Close a contact (with an outcome and a note, both optional); its operator's freed
    slot goes to the oldest queued contact it can take."""
    if outcome is not None and outcome not in Contact.Outcome.values:
        choices = ", ".join(Contact.Outcome.values)
        raise ValidationError({"outcome": f"The outcome must be one of {choices}."})
    note = _clean_text(note, field="note", max_length=MAX_NOTE_LENGTH, required=False)
    # Lock the contact first: two closes (or a close and a reassign) of one contact
    # run one after the other.
    contact = Contact.objects.select_for_update().get(pk=contact_id)
    if not contact.is_open:
        return contact  # Closing a closed contact changes nothing.
    pool = Pool.lock([contact.operator_id] if contact.operator_id else [], actor=actor)
    pool.moves.change(
        contact.source_id,
        (contact.operator_id, Contact.Status.OPEN),
        (contact.operator_id, Contact.Status.CLOSED),
    )
    contact.status = Contact.Status.CLOSED
    contact.closed_at = timezone.now()
    contact.outcome = outcome
    contact.note = note
    contact.save(update_fields=["status", "closed_at", "outcome", "note"])
    closed = contact_event(
        contact.pk,
        ContactEvent.Kind.CLOSED,
        actor=actor,
        at=contact.closed_at,
        operator_id=contact.operator_id,
        detail=outcome or "",
    )
    if contact.operator_id:
        pool.release(contact.operator_id)
        allocation.drain_operator(pool, contact.operator_id, rng=rng or allocation.system_rng)
    pool.finish([closed])
    return contact


@transaction.atomic
def contact_respond(*, contact_id: int, actor: Actor = SYSTEM) -> Contact:
    """Record the first response to an open, assigned contact; repeating it changes nothing."""
    contact = Contact.objects.select_for_update().get(pk=contact_id)
    if contact.responded_at is not None:
        return contact
    if not contact.is_open:
        raise ValidationError({NON_FIELD_ERRORS: "A closed contact cannot be marked responded."})
    if contact.operator_id is None:
        raise ValidationError(
            {NON_FIELD_ERRORS: "A queued contact has no operator to have responded yet."}
        )
    contact.responded_at = timezone.now()
    contact.save(update_fields=["responded_at"])
    decision_log.record(
        [
            contact_event(
                contact.pk,
                ContactEvent.Kind.RESPONDED,
                actor=actor,
                at=contact.responded_at,
                operator_id=contact.operator_id,
            )
        ]
    )
    return contact


@transaction.atomic
def contact_reassign(
    *,
    contact_id: int,
    operator_id: int,
    rng: random.Random | None = None,
    actor: Actor = SYSTEM,
) -> Contact:
    """Hand an open contact to another operator, who must accept contacts (active,
    available, on shift) and be below its limit; it needs no weight for the source."""
    contact = Contact.objects.select_for_update().get(pk=contact_id)
    if not contact.is_open:
        raise ValidationError({NON_FIELD_ERRORS: "A closed contact cannot be reassigned."})
    if contact.operator_id == operator_id:
        return contact
    previous = contact.operator_id
    pool = Pool.lock([operator_id] + ([previous] if previous else []), actor=actor)
    target = pool.operators.get(operator_id)
    if target is None:
        raise ValidationError({"operator_id": f"There is no operator with id {operator_id}."})
    refusal = allocation.refusal(target, pool.now)
    if refusal:
        raise ValidationError({"operator_id": f"{target.name} is {refusal}."})
    if pool.room(operator_id) <= 0:
        raise ValidationError(
            {"operator_id": f"{target.name} is at the limit ({target.workload_limit})."}
        )
    contact.operator_id = operator_id
    contact.assigned_at = timezone.now()
    contact.save(update_fields=["operator", "assigned_at"])
    pool.take(operator_id)
    pool.moves.change(
        contact.source_id, (previous, Contact.Status.OPEN), (operator_id, Contact.Status.OPEN)
    )
    reassigned = contact_event(
        contact.pk,
        ContactEvent.Kind.REASSIGNED,
        actor=actor,
        at=contact.assigned_at,
        operator_id=operator_id,
        previous_operator_id=previous,
    )
    if previous:
        pool.release(previous)
        allocation.drain_operator(pool, previous, rng=rng or allocation.system_rng)
    pool.finish([reassigned])
    return contact


def contacts_time_out(*, rng: random.Random | None = None, actor: Actor = SYSTEM) -> int:
    """Take back every open contact not responded to within its source's response time and
    route it again by the source's rule, never to an operator that missed it; with nobody
    left it waits in the queue, in its original place (created_at). One transaction per
    contact; safe beside another worker. Returns how many contacts were taken back."""
    now = timezone.now()
    overdue = selectors.overdue_contact_ids(now)
    rng = rng or allocation.system_rng
    return sum(_time_out(contact_id, now=now, rng=rng, actor=actor) for contact_id in overdue)


@transaction.atomic
def _time_out(contact_id: int, *, now: datetime, rng: random.Random, actor: Actor) -> int:
    # Race prevented: two workers taking back one contact, or a respond, close or
    # reassignment of it at the same moment. The contact's lock is the first of the
    # engine's order; one held elsewhere is skipped (the next tick sees it if still due),
    # and the conditions are read again under the lock.
    contact = (
        Contact.objects.select_for_update(skip_locked=True)
        .filter(
            pk=contact_id,
            status=Contact.Status.OPEN,
            operator__isnull=False,
            responded_at__isnull=True,
        )
        .first()
    )
    if contact is None or contact.operator_id is None or contact.assigned_at is None:
        return 0
    source = Source.objects.select_for_update().get(pk=contact.source_id)
    minutes = source.response_minutes
    if minutes is None or contact.assigned_at + timedelta(minutes=minutes) > now:
        return 0  # Another worker routed it again meanwhile, or the setting changed.
    missed = contact.operator_id
    weights, balances = allocation.source_configs(source.pk)
    pool = Pool.lock({pk for pk, _ in weights} | {missed}, actor=actor, sources=[source.pk])
    pool.modes[source.pk] = source.mode
    pool.balances[source.pk] = balances
    pool.release(missed)
    if missed not in contact.missed_by:
        contact.missed_by = [*contact.missed_by, missed]
    decision = allocation.decide(pool, source.pk, weights, missed=contact.missed_by, rng=rng)
    contact.operator_id = decision.operator_id
    contact.assigned_at = pool.now if decision.operator_id else None
    contact.save(update_fields=["operator", "assigned_at", "missed_by"])
    pool.moves.change(
        source.pk, (missed, Contact.Status.OPEN), (decision.operator_id, Contact.Status.OPEN)
    )
    pool.events += [
        contact_event(
            contact.pk,
            ContactEvent.Kind.TIMED_OUT,
            actor=actor,
            at=pool.now,
            operator_id=missed,
            previous_operator_id=missed,
        ),
        _decision_event(contact.pk, decision, actor=actor, at=pool.now),
    ]
    # Its slot is free again: the queue of its sources (never a contact it missed).
    allocation.drain_operator(pool, missed, rng=rng)
    pool.finish()
    return 1


# --- reopening, returning to the queue -------------------------------------------------


def _route_again(
    contact: Contact,
    *,
    keep: int | None = None,
    freed: int | None = None,
    rng: random.Random,
    actor: Actor,
) -> tuple[int | None, allocation.Decision | None, Pool]:
    """Where a contact the caller holds locked goes now, by its source's rule; None: queued.

    Every use of the engine by reopen and return-to-queue is here. The locks follow the
    engine's order: contact (the caller's) -> source -> operators weighted for it, plus
    `keep` and `freed`.

    keep:  the operator it had (a reopen). It gets it back when it still accepts contacts
           and has room; otherwise the source's rule decides, as for a new contact.
    freed: the operator it is taken from (a return to the queue). The caller has already
           unassigned the contact; the freed slot and the queue, this contact among it,
           are drained oldest first, as a requeue does, so that nobody eligible with room
           is left while something waits (I2).
    """
    # Race prevented: a weight of this source changing while we route by its weights
    # (every weight edit locks the source first), and its balanced state moving.
    source = Source.objects.select_for_update().get(pk=contact.source_id)
    weights, balances = allocation.source_configs(source.pk)
    extra = {pk for pk in (keep, freed) if pk is not None}
    pool = Pool.lock({pk for pk, _ in weights} | extra, actor=actor, sources=[source.pk])
    pool.modes[source.pk] = source.mode
    pool.balances[source.pk] = balances
    if freed is not None:
        # The loads were counted after the caller unassigned the contact: the freed slot
        # is already in the pool. The drain's decisions are logged by pool.finish().
        allocation.drain(
            pool,
            {**allocation.operator_weights(freed), contact.source_id: weights},
            rng=rng,
        )
        routed = Contact.objects.values_list("operator_id", flat=True).get(pk=contact.pk)
        return routed, None, pool
    if keep is not None and pool.room(keep) > 0:
        pool.take(keep)
        return keep, None, pool
    decision = allocation.decide(pool, source.pk, weights, missed=contact.missed_by, rng=rng)
    return decision.operator_id, decision, pool


def _lock_contact(contact_id: int) -> Contact:
    contact = Contact.objects.select_for_update().filter(pk=contact_id).first()
    if contact is None:
        raise Contact.DoesNotExist(f"There is no contact with id {contact_id}.")
    return contact


@transaction.atomic
def contact_reopen(
    *, contact_id: int, actor: Actor = actors.SYSTEM, rng: random.Random | None = None
) -> Contact:
    """Open a closed contact again (its outcome cleared, its note kept): back to its
    operator if that one still accepts contacts and has room, otherwise to whoever the
    source's rule picks, or to the queue. Recorded in the decision log as "reopened"."""
    # The contact first, as every write of a contact does (the engine's lock order).
    contact = _lock_contact(contact_id)
    if contact.is_open:
        raise ValidationError(
            {
                NON_FIELD_ERRORS: f"Contact #{contact.pk} is open: "
                "only a closed contact can be reopened."
            },
            code="not_closed",
        )
    previous = contact.operator_id
    operator_id, decision, pool = _route_again(
        contact, keep=previous, rng=rng or allocation.system_rng, actor=actor
    )
    now = pool.now
    contact.status = Contact.Status.OPEN
    contact.closed_at = None
    contact.outcome = None
    contact.operator_id = operator_id
    contact.assigned_at = now if operator_id else None
    contact.save(update_fields=["status", "closed_at", "outcome", "operator", "assigned_at"])
    pool.moves.change(
        contact.source_id, (previous, Contact.Status.CLOSED), (operator_id, Contact.Status.OPEN)
    )
    # Routed by the rule: its decision, with the candidates, follows the reopen.
    routed = [_decision_event(contact.pk, decision, actor=actor, at=now)] if decision else []
    pool.finish(
        [
            decision_log.contact_event(
                contact.pk,
                EventKind.REOPENED,
                actor=actor,
                at=now,
                operator_id=operator_id,
                previous_operator_id=previous,
                detail="back to its operator"
                if operator_id and operator_id == previous
                else ("routed by the source's rule" if operator_id else "queued"),
            ),
            *routed,
        ]
    )
    return contact


@transaction.atomic
def contact_return_to_queue(
    *, contact_id: int, actor: Actor = actors.SYSTEM, rng: random.Random | None = None
) -> Contact:
    """Take an open contact from its operator and route it again by its source's rule,
    as a requeue does: it is handed at once to whoever is eligible with room (oldest
    waiting contact first), its former operator included, or waits in the queue."""
    contact = _lock_contact(contact_id)
    if not contact.is_open:
        raise ValidationError(
            {NON_FIELD_ERRORS: "A closed contact cannot be returned to the queue."}
        )
    if contact.operator_id is None:
        raise ValidationError({NON_FIELD_ERRORS: f"Contact #{contact.pk} is already in the queue."})
    previous = contact.operator_id
    now = timezone.now()
    contact.operator_id = None
    contact.assigned_at = None
    contact.save(update_fields=["operator", "assigned_at"])
    decision_log.record(
        [
            decision_log.contact_event(
                contact.pk, EventKind.REQUEUED, actor=actor, at=now, operator_id=previous
            )
        ]
    )
    _, _, pool = _route_again(
        contact, freed=previous, rng=rng or allocation.system_rng, actor=actor
    )
    # Its way back out of the queue, if the drain in _route_again gave it to someone, is
    # among the drain's own moves.
    pool.moves.change(
        contact.source_id, (previous, Contact.Status.OPEN), (None, Contact.Status.OPEN)
    )
    pool.finish()
    contact.refresh_from_db()
    return contact


# --- bulk actions on selected contacts ---------------------------------------------------


@dataclass
class BulkResult:
    """What a bulk action did: the contacts it changed, and the ones it refused, each with
    why (a sentence about that contact)."""

    done: list[Contact] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)


def _each(contact_ids: Iterable[int], action: Callable[[int], Contact]) -> BulkResult:
    """Run `action` on each contact, in ascending id, one transaction per contact.

    One transaction per contact, not one for all: each action locks its contact, then its
    source and operators (the engine's order); one transaction for all would take the next
    contact's lock while holding operator locks, which can deadlock against a registration
    or a drain. It also keeps a refused contact from undoing the others, and holds each
    operator's lock only for one contact's time.
    """
    result = BulkResult()
    for contact_id in sorted(set(contact_ids)):
        try:
            with transaction.atomic():
                result.done.append(action(contact_id))
        except Contact.DoesNotExist:
            result.refused.append((contact_id, "no longer exists"))
        except ValidationError as exc:
            result.refused.append((contact_id, " ".join(exc.messages)))
    return result


def contact_bulk_close(
    *,
    contact_ids: Iterable[int],
    outcome: str | None = None,
    actor: Actor = actors.SYSTEM,
    rng: random.Random | None = None,
) -> BulkResult:
    """Close the selected contacts (with one outcome, optional); a closed one is reported."""
    if outcome is not None and outcome not in Contact.Outcome.values:
        choices = ", ".join(Contact.Outcome.values)
        raise ValidationError({"outcome": f"The outcome must be one of {choices}."})

    def close(contact_id: int) -> Contact:
        if not _lock_contact(contact_id).is_open:
            raise ValidationError("was already closed")
        return contact_close(contact_id=contact_id, outcome=outcome, rng=rng, actor=actor)

    return _each(contact_ids, close)


def contact_bulk_reassign(
    *,
    contact_ids: Iterable[int],
    operator_id: int,
    actor: Actor = actors.SYSTEM,
    rng: random.Random | None = None,
) -> BulkResult:
    """Hand the selected contacts to one operator, as far as its room goes; the rest are
    reported with the reason (closed, already its own, the operator at its limit...)."""

    def reassign(contact_id: int) -> Contact:
        if _lock_contact(contact_id).operator_id == operator_id:
            raise ValidationError("is already with this operator")
        return contact_reassign(
            contact_id=contact_id, operator_id=operator_id, rng=rng, actor=actor
        )

    return _each(contact_ids, reassign)


def contact_bulk_return_to_queue(
    *,
    contact_ids: Iterable[int],
    actor: Actor = actors.SYSTEM,
    rng: random.Random | None = None,
) -> BulkResult:
    """Return the selected contacts to the queue, each routed again by the rule."""

    def return_to_queue(contact_id: int) -> Contact:
        contact = _lock_contact(contact_id)
        if not contact.is_open:
            raise ValidationError("is closed")
        if contact.operator_id is None:
            raise ValidationError("is already in the queue")
        return contact_return_to_queue(contact_id=contact_id, actor=actor, rng=rng)

    return _each(contact_ids, return_to_queue)


# --- operators --------------------------------------------------------------------


def _raise_name_taken_or(exc: ValidationError) -> None:
    errors = exc.error_dict.get(NON_FIELD_ERRORS, []) if hasattr(exc, "error_dict") else []
    taken = [error for error in errors if error.code == "name_taken"]
    if taken:
        raise NameTaken({"name": taken}) from None
    raise exc


def _save_named(instance: Operator | Source, *, update_fields: list[str] | None = None) -> None:
    """Validate against the model's own constraints, then save; a taken name is NameTaken."""
    instance.name = (instance.name or "").strip()
    try:
        instance.full_clean()
    except ValidationError as exc:
        _raise_name_taken_or(exc)
    if update_fields is not None and "name" in update_fields:
        update_fields = [*update_fields, "name_key"]  # Set by full_clean() above.
    try:
        # A savepoint, so that the surrounding transaction survives the insert failing.
        with transaction.atomic():
            instance.save(update_fields=update_fields)
    except IntegrityError:
        # Race: another request took the name between full_clean() and the save.
        raise NameTaken({"name": f"The name {instance.name!r} is already taken."}) from None


@transaction.atomic
def operator_create(
    *, name: str, is_active: bool = True, workload_limit: int = 10, actor: Actor = SYSTEM
) -> Operator:
    operator = Operator(name=name, is_active=is_active, workload_limit=workload_limit)
    _save_named(operator)
    return operator


def _lock_operator(operator_id: int, *, with_its_sources: bool, actor: Actor) -> tuple[Pool, dict]:
    """Lock one operator; with_its_sources also locks the sources of its open contacts and
    every operator weighted for them, in the engine's lock order, so that its contacts can
    be handed to them. Returns the pool and those sources' weights."""
    if not with_its_sources:
        return Pool.lock([operator_id], actor=actor), {}
    source_ids = sorted(
        set(
            Contact.objects.filter(operator_id=operator_id, status=Contact.Status.OPEN).values_list(
                "source_id", flat=True
            )
        )
    )
    # Race prevented: a weight of these sources changing while we hand their contacts out
    # (every weight edit locks its source first).
    list(Source.objects.select_for_update().filter(pk__in=source_ids).order_by("pk"))
    weights = allocation.source_weights(source_ids)
    others = {pk for pairs in weights.values() for pk, _ in pairs}
    return Pool.lock(others | {operator_id}, actor=actor, sources=source_ids), weights


@transaction.atomic
def operator_update(
    *,
    operator_id: int,
    name: str | None = None,
    is_active: bool | None = None,
    workload_limit: int | None = None,
    presence: str | None = None,
    requeue_open_contacts: bool = False,
    rng: random.Random | None = None,
    actor: Actor = SYSTEM,
) -> Operator:
    """Change an operator; if that gives it room, queued contacts of its sources drain.

    With requeue_open_contacts, an operator that no longer accepts contacts after the
    change (inactive, away, offline) returns its open contacts to the queue, and they are
    handed at once, oldest first, to those eligible, in this same transaction.
    """
    if presence is not None and presence not in Presence.values:
        choices = ", ".join(Presence.values)
        raise ValidationError({"presence": f"The presence must be one of {choices}."})
    # Race prevented: a registration counting this operator's load while we change its
    # limit or activity; and one queueing a contact that our drain below would miss.
    pool, weights = _lock_operator(operator_id, with_its_sources=requeue_open_contacts, actor=actor)
    operator = pool.operators.get(operator_id)
    if operator is None:
        raise Operator.DoesNotExist(f"There is no operator with id {operator_id}.")
    changed = []
    old: dict[str, object] = {}
    for attr, value in (
        ("name", name),
        ("is_active", is_active),
        ("workload_limit", workload_limit),
        ("presence", presence),
    ):
        if value is not None and getattr(operator, attr) != value:
            old[attr] = getattr(operator, attr)
            setattr(operator, attr, value)
            changed.append(attr)
    if changed:
        _save_named(operator, update_fields=changed)
    # Read after the save: the name as stored (trimmed), not as given.
    changes = [
        setting_change(
            attr, old[attr], getattr(operator, attr), actor=actor, operator_id=operator_id
        )
        for attr in changed
        if getattr(operator, attr) != old[attr]
    ]
    rng = rng or allocation.system_rng
    if requeue_open_contacts and not allocation.accepts_contacts(operator, pool.now):
        allocation.requeue(pool, operator_id, weights, rng=rng)
    elif {"is_active", "workload_limit", "presence"} & set(changed):
        # The pool holds this very instance, so its room follows the change.
        allocation.drain_operator(pool, operator_id, rng=rng)
    pool.finish(changes)
    return operator


def _validate_hours(time_zone: str, hours: Iterable[shifts.Hours]) -> list[shifts.Hours]:
    errors = []
    if not shifts.is_time_zone(time_zone):
        errors.append(f"Unknown time zone {time_zone!r}; use an IANA name such as Europe/Berlin.")
    result = []
    for weekday, start, end in hours:
        if not 0 <= weekday <= 6:
            errors.append(f"The weekday must be 0 (Monday) to 6 (Sunday), not {weekday}.")
        elif not shifts.ends_after(start, end):
            errors.append(f"{start:%H:%M}-{end:%H:%M} on day {weekday} ends before it starts.")
        result.append((weekday, start, end))
    errors += [
        f"{a[1]:%H:%M}-{a[2]:%H:%M} and {b[1]:%H:%M}-{b[2]:%H:%M} on day {a[0]} overlap."
        for a, b in shifts.overlaps(result)
    ]
    if errors:
        raise ValidationError({"hours": errors})
    return result


def _store_shift(operator: Operator, hours: list[shifts.Hours], now) -> None:
    operator.on_shift = shifts.is_on_shift(hours, operator.time_zone, now)
    operator.shift_changes_at = shifts.next_change(hours, operator.time_zone, now)
    operator.save(update_fields=["on_shift", "shift_changes_at"])


def _hours_of(operator_id: int) -> list[shifts.Hours]:
    return list(
        ShiftHours.objects.filter(operator_id=operator_id).values_list("weekday", "start", "end")
    )


@transaction.atomic
def operator_set_schedule(
    *,
    operator_id: int,
    time_zone: str,
    hours: Iterable[shifts.Hours],
    rng: random.Random | None = None,
    actor: Actor = SYSTEM,
) -> Operator:
    """Replace an operator's weekly working hours ([] removes them: always on shift)."""
    new = _validate_hours(time_zone, hours)
    pool = Pool.lock([operator_id], actor=actor)
    operator = pool.operators.get(operator_id)
    if operator is None:
        raise Operator.DoesNotExist(f"There is no operator with id {operator_id}.")
    old_hours, old_zone = _hours_text(_hours_of(operator_id)), operator.time_zone
    changes = [
        setting_change(field_name, old_value, new_value, actor=actor, operator_id=operator_id)
        for field_name, old_value, new_value in (
            ("working hours", old_hours, _hours_text(new)),
            ("time_zone", old_zone, time_zone),
        )
        if old_value != new_value
    ]
    ShiftHours.objects.filter(operator=operator).delete()
    ShiftHours.objects.bulk_create(
        ShiftHours(operator=operator, weekday=d, start=s, end=e) for d, s, e in new
    )
    operator.time_zone = time_zone
    operator.save(update_fields=["time_zone"])
    _store_shift(operator, new, pool.now)
    allocation.drain_operator(pool, operator_id, rng=rng or allocation.system_rng)
    pool.finish(changes)
    return operator


WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _hours_text(hours: Iterable[shifts.Hours]) -> str:
    """Working hours in short text for the log ("Mon 09:00-17:00, ..."; "" for none),
    cut to what a log entry holds."""
    text = ", ".join(
        f"{WEEKDAYS[day]} {start:%H:%M}-{end:%H:%M}" for day, start, end in sorted(hours)
    )
    limit = SettingChange._meta.get_field("new").max_length or MAX_NAME_LENGTH
    return text if len(text) <= limit else text[: limit - 1] + "…"


def operator_sync_shifts(*, rng: random.Random | None = None, actor: Actor = SYSTEM) -> int:
    """Store the shift state of every operator whose shift started or ended, and drain the
    queue to those whose shift started; one transaction per operator. Safe to run from
    several workers at once: each operator is re-read under its lock, and one already
    brought up to date is skipped. Returns how many operators changed."""
    changed = 0
    now = timezone.now()
    for operator_id in Operator.objects.filter(shift_changes_at__lte=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            pool = Pool.lock([operator_id], actor=actor)
            operator = pool.operators.get(operator_id)
            if operator is None or not (
                operator.shift_changes_at and operator.shift_changes_at <= pool.now
            ):
                continue  # Deleted, or another worker got here first.
            _store_shift(operator, _hours_of(operator_id), pool.now)
            allocation.drain_operator(pool, operator_id, rng=rng or allocation.system_rng)
            pool.finish()
            changed += 1
    return changed


# --- operators' logins -----------------------------------------------------------


def _clean_username(username: str) -> str:
    User = get_user_model()
    username = trim(username or "")
    max_length = getattr(User._meta.get_field(User.USERNAME_FIELD), "max_length", None) or 150
    errors = []
    if not username:
        errors.append("A user name is required.")
    elif len(username) > max_length:
        errors.append(f"At most {max_length} characters (got {len(username)}).")
    else:
        try:
            User.username_validator(username)
        except ValidationError as exc:
            errors += exc.messages
    # Logging in is case-sensitive, but "Ann" and "ann" side by side is a mistake waiting.
    if not errors and User.objects.filter(username__iexact=username).exists():
        errors.append(f"The user name {username!r} is already taken.")
    if errors:
        raise ValidationError({"username": errors})
    return username


@transaction.atomic
def operator_login_create(
    *, operator_id: int, username: str, password: str, actor: Actor = SYSTEM
) -> AbstractBaseUser:
    """Give an operator its login: a new user, not staff, linked to it (one per operator).

    The password must pass the project's password validators (AUTH_PASSWORD_VALIDATORS).
    """
    # Race prevented: two supervisors giving one operator a login at once, which would
    # leave the first user linked to nothing.
    operator = Operator.objects.select_for_update().filter(pk=operator_id).first()
    if operator is None:
        raise Operator.DoesNotExist(f"There is no operator with id {operator_id}.")
    if operator.user_id is not None:
        raise ValidationError(
            {NON_FIELD_ERRORS: f"{operator.name} already has a login; remove it first."}
        )
    errors: dict[str, list[str]] = {}
    try:
        username = _clean_username(username)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    User = get_user_model()
    try:
        password_validation.validate_password(password, user=User(username=username))
    except ValidationError as exc:
        errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    try:
        # A savepoint, so that the surrounding transaction survives the insert failing.
        with transaction.atomic():
            user = User.objects.create_user(username=username, password=password)
    except IntegrityError:
        # Race: another request took the name between the check and the insert.
        raise ValidationError(
            {"username": f"The user name {username!r} is already taken."}
        ) from None
    operator.user = user
    operator.save(update_fields=["user"])
    return user


@transaction.atomic
def operator_login_remove(*, operator_id: int, actor: Actor = SYSTEM) -> Operator:
    """Take an operator's login away: its user is deleted (its sessions end with it).

    A staff user linked to an operator (possible through the admin) is a supervisor's
    account: it is only unlinked, never deleted from here.
    """
    operator = Operator.objects.select_for_update().filter(pk=operator_id).first()
    if operator is None:
        raise Operator.DoesNotExist(f"There is no operator with id {operator_id}.")
    if operator.user_id is None:
        return operator
    user = get_user_model().objects.get(pk=operator.user_id)
    operator.user = None
    operator.save(update_fields=["user"])
    if not (user.is_staff or user.is_superuser):
        user.delete()
    return operator


# --- an operator's own work (its workspace) -----------------------------------------


def _lock_own_contact(operator_id: int, contact_id: int) -> None:
    """Lock the contact if it is the operator's, else raise Contact.DoesNotExist.

    Race prevented: the contact being handed to someone else (a requeue, a reassignment)
    between the operator loading its page and acting on it. The check holds the contact's
    lock, the first lock of the engine's order, until the action commits.
    """
    owned = (
        Contact.objects.select_for_update()
        .filter(pk=contact_id, operator_id=operator_id)
        .values_list("pk", flat=True)
        .first()
    )
    if owned is None:
        raise Contact.DoesNotExist(f"Operator {operator_id} has no contact {contact_id}.")


@transaction.atomic
def operator_contact_respond(
    *, operator_id: int, contact_id: int, actor: Actor = SYSTEM
) -> Contact:
    """contact_respond, for the operator's own contact only."""
    _lock_own_contact(operator_id, contact_id)
    return contact_respond(contact_id=contact_id, actor=actor)


@transaction.atomic
def operator_contact_close(
    *,
    operator_id: int,
    contact_id: int,
    outcome: str | None,
    note: str = "",
    rng: random.Random | None = None,
    actor: Actor = SYSTEM,
) -> Contact:
    """contact_close, for the operator's own contact only."""
    _lock_own_contact(operator_id, contact_id)
    return contact_close(contact_id=contact_id, outcome=outcome, note=note, rng=rng, actor=actor)


# --- sources and weights ----------------------------------------------------------


@transaction.atomic
def source_create(*, name: str, actor: Actor = SYSTEM) -> Source:
    source = Source(name=name)
    _save_named(source)
    return source


# What source_update() may change (docs/distribution.md, "Routing settings").
SOURCE_SETTINGS = ("name", "mode", "sticky_days", "response_minutes")
_SETTING_RANGES = {
    "sticky_days": MAX_STICKY_DAYS,
    "response_minutes": MAX_RESPONSE_MINUTES,
}


def _validate_source_settings(changes: Mapping[str, object]) -> None:
    """Refuse a bad routing setting, by field, before anything is read or written."""
    errors: dict[str, str] = {}
    if "mode" in changes and changes["mode"] not in RoutingMode.values:
        errors["mode"] = f"The mode must be one of {', '.join(RoutingMode.values)}."
    for key, maximum in _SETTING_RANGES.items():
        if key not in changes or changes[key] is None:
            continue  # Absent: unchanged; None: off.
        value = changes[key]
        if not isinstance(value, int) or isinstance(value, bool):
            errors[key] = "Must be a whole number, or empty for off."
        elif not 1 <= value <= maximum:
            errors[key] = f"Must be between 1 and {maximum}, or empty for off."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def source_update(*, source_id: int, actor: Actor = actors.SYSTEM, **changes: object) -> Source:
    """Change any of a source's name, mode, sticky_days and response_minutes (None turns
    the last two off); each field that changes is logged as a SettingChange.

    A bad value is a ValidationError keyed by its field and changes nothing; a setting
    this function does not know is a TypeError (a caller's bug, not a user's).
    """
    unknown = sorted(set(changes) - set(SOURCE_SETTINGS))
    if unknown:
        raise TypeError(f"source_update() got unknown settings: {', '.join(unknown)}")
    _validate_source_settings(changes)
    # Two edits of one source run one after the other, so each logs the old value the
    # other left (and a registration reads the settings from before or after, whole).
    source = Source.objects.select_for_update().get(pk=source_id)
    if isinstance(changes.get("name"), str):
        changes["name"] = trim(changes["name"])  # type: ignore[arg-type]
    old = {key: getattr(source, key) for key in changes}
    changed = [key for key in SOURCE_SETTINGS if key in changes and changes[key] != old[key]]
    if not changed:
        return source
    for key in changed:
        setattr(source, key, changes[key])
    _save_named(source, update_fields=changed)
    decision_log.record(
        decision_log.setting_change(
            key, old[key], getattr(source, key), actor=actor, source_id=source.pk
        )
        for key in changed
    )
    return source


def _validate_weights(weights: Iterable[tuple[int, int]]) -> dict[int, int]:
    result: dict[int, int] = {}
    errors = []
    for operator_id, weight in weights:
        if operator_id in result:
            errors.append(f"Operator {operator_id} is listed more than once.")
        elif (
            not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= MAX_WEIGHT
        ):
            errors.append(
                f"The weight of operator {operator_id} must be between 1 and {MAX_WEIGHT}."
            )
        result[operator_id] = weight
    known = set(Operator.objects.filter(pk__in=list(result)).values_list("pk", flat=True))
    errors += [f"There is no operator with id {pk}." for pk in result if pk not in known]
    if errors:
        raise ValidationError({"weights": errors})
    return result


def _replace_weights(
    source: Source, new: Mapping[int, int], *, rng: random.Random, actor: Actor
) -> Source:
    current = dict(
        SourceOperatorConfig.objects.filter(source=source).values_list("operator_id", "weight")
    )
    # Every operator whose weight changes is locked, those losing theirs included: an
    # operator's weights only ever change under its lock, which drains rely on, and a
    # registration that already read the old weights finishes before we change them.
    pool = Pool.lock(set(current) | set(new), actor=actor, sources=[source.pk])
    SourceOperatorConfig.objects.filter(source=source).exclude(operator_id__in=list(new)).delete()
    changed = [
        SourceOperatorConfig(source=source, operator_id=pk, weight=w)
        for pk, w in new.items()
        if current.get(pk) != w
    ]
    SourceOperatorConfig.objects.bulk_create(
        changed,
        update_conflicts=True,
        unique_fields=["source", "operator"],
        update_fields=["weight"],
    )
    changes = [
        setting_change(
            "weight", current.get(pk), new.get(pk), actor=actor, operator_id=pk, source_id=source.pk
        )
        for pk in sorted(set(current) | set(new))
        if current.get(pk) != new.get(pk)
    ]
    if changes:
        # A new weight set starts the balanced round robin afresh: states built under the
        # old weights would skew the first turns under the new ones.
        SourceOperatorConfig.objects.filter(source=source).update(balance=0)
    pool.modes[source.pk] = source.mode
    allocation.drain(pool, {source.pk: sorted(new.items())}, rng=rng)
    pool.finish(changes)
    return source


@transaction.atomic
def source_set_weights(
    *,
    source_id: int,
    weights: Iterable[tuple[int, int]],
    rng: random.Random | None = None,
    actor: Actor = SYSTEM,
) -> Source:
    """Replace the whole weight set of a source in one step; a bad entry changes nothing."""
    new = _validate_weights(weights)
    # Two edits of one source's weights run one after the other.
    source = Source.objects.select_for_update().get(pk=source_id)
    return _replace_weights(source, new, rng=rng or allocation.system_rng, actor=actor)


@transaction.atomic
def source_set_weight(
    *,
    source_id: int,
    operator_id: int,
    weight: int | None,
    rng: random.Random | None = None,
    actor: Actor = SYSTEM,
) -> Source:
    """Add, change (weight) or remove (weight=None) one operator's weight for a source."""
    source = Source.objects.select_for_update().get(pk=source_id)
    new = dict(
        SourceOperatorConfig.objects.filter(source=source).values_list("operator_id", "weight")
    )
    if weight is None:
        new.pop(operator_id, None)
    else:
        new[operator_id] = weight
    new = _validate_weights(new.items())
    return _replace_weights(source, new, rng=rng or allocation.system_rng, actor=actor)
