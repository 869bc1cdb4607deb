"""
The engine against its invariants (I1-I9, allocation.py), by a model-based stateful test.

Hypothesis drives the services with random sequences of every write the product has:
operators and sources created, weights set and removed, sources' routing settings (mode,
sticky days, response time), contacts registered (the same customers spelled in other
cases and spacing), closed (with outcomes), responded to and reassigned, reopened,
returned to the queue and reassigned (one by one and in bulk), operators switched on and off, limits
raised and lowered, presence changed (with and without returning open contacts to the
queue), working hours set in several time zones, the clock moved (followed by the
worker's tick, which also takes back contacts not responded to in time), the safety
sweep. After every step the database is checked: I1 for each contact that got an
operator in that step, I2-I6 for everything, I7 for the step's decisions (one event per
contact that changed hands, candidates as the rows say), I8 after a tick, and I9 (the
tallies equal a recount) after every step.

A failing run prints the steps that led to it, as Python calls to replay, and a
@reproduce_failure line that replays it exactly.
"""

import contextlib
import random
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from distribution import allocation, invariants, services
from distribution.management.commands.run_worker import tick as worker_tick
from distribution.models import Contact, ContactEvent, Operator, Presence, RoutingMode, Source

pytestmark = pytest.mark.django_db

PEOPLE = [
    "alice@example.com",
    "bob@example.com",
    "+1 555 0100",
    "carol.o'neil@example.com",
    "+44 7700 918827",
]
SPELLINGS = [
    str.lower,
    str.upper,
    str.title,
    lambda s: f"  {s} ",
    lambda s: f"\t{s.upper()}  ",
    # Other spellings of a phone number (the e-mail addresses have neither " " nor "+").
    lambda s: s.replace(" ", ""),
    lambda s: s.replace(" ", "-").replace("+", "00"),
]

limits = st.integers(min_value=0, max_value=3)
weights = st.integers(min_value=1, max_value=5)
ZONES = ["UTC", "Europe/Berlin", "Asia/Kolkata", "America/New_York"]
# Saturday night before Berlin's DST change ends; shifts and time zones meet edges soon.
START = datetime(2026, 10, 24, 21, 0, tzinfo=UTC)


@st.composite
def working_hours(draw):
    """Up to three days with one range each, or none (always on shift)."""
    days = draw(st.lists(st.integers(0, 6), max_size=3, unique=True))
    hours = []
    for day in days:
        start = draw(st.integers(0, 23))
        length = draw(st.integers(1, 24 - start))
        end = time(0) if start + length == 24 else time(start + length)
        hours.append((day, time(start), end))
    return hours


class Engine(RuleBasedStateMachine):
    operators = Bundle("operators")
    sources = Bundle("sources")
    contacts = Bundle("contacts")
    closed = Bundle("closed")

    def __init__(self) -> None:
        super().__init__()
        # Every run starts from an empty database and leaves none of its rows behind.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self._clock = time_machine.travel(START, tick=False)
        self.clock = self._clock.start()
        self.rng = random.Random(0)
        self.names = 0
        self.answered: dict[int, str] = {}  # contact id -> identifier sent (I5)
        self.assignments: dict[int, int | None] = {}  # contact id -> operator id
        self.manual: set[int] = set()  # contacts reassigned by hand in the last step
        # Contacts given an operator in the last step even if it is the one they had
        # (a reopen, a return to the queue): I1 is checked for them too.
        self.touched: set[int] = set()
        self.last_event = 0  # the newest decision-log entry before this step
        self.ticked = False  # the worker ticked in this step (I8 holds right after)

    def teardown(self) -> None:
        self._clock.stop()
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _name(self, kind: str) -> str:
        self.names += 1
        return f"{kind} {self.names}"

    # --- the steps: every write of services.py, and the sweep ---------------------

    # Whichever of the two runs first, every run starts with a source that two operators
    # serve, so that contacts, queues and competition for room come early in a run.
    @initialize(target=operators, first=limits, second=limits)
    def team(self, first, second):
        team = [
            services.operator_create(name=self._name("Operator"), workload_limit=limit).pk
            for limit in (first, second)
        ]
        for source_id in Source.objects.values_list("pk", flat=True):
            services.source_set_weights(
                source_id=source_id, weights=[(pk, 1) for pk in team], rng=self.rng
            )
        return multiple(*team)

    @initialize(target=sources)
    def first_source(self):
        source = services.source_create(name=self._name("Source"))
        everyone = Operator.objects.values_list("pk", flat=True)
        services.source_set_weights(
            source_id=source.pk, weights=[(pk, 1) for pk in everyone], rng=self.rng
        )
        return source.pk

    @rule(target=operators, limit=limits, active=st.booleans())
    def create_operator(self, limit, active):
        name = self._name("Operator")
        return services.operator_create(name=name, workload_limit=limit, is_active=active).pk

    @rule(target=sources)
    def create_source(self):
        return services.source_create(name=self._name("Source")).pk

    @rule(source=sources, operator=operators, weight=st.none() | weights)
    def set_weight(self, source, operator, weight):
        services.source_set_weight(
            source_id=source, operator_id=operator, weight=weight, rng=self.rng
        )

    @rule(source=sources, chosen=st.lists(st.tuples(operators, weights), max_size=4))
    def replace_weights(self, source, chosen):
        services.source_set_weights(source_id=source, weights=dict(chosen).items(), rng=self.rng)

    @rule(
        target=contacts,
        source=sources,
        person=st.sampled_from(PEOPLE),
        spelling=st.sampled_from(SPELLINGS),
        times=st.integers(min_value=1, max_value=4),
    )
    def register(self, source, person, spelling, times):
        registered = []
        for _ in range(times):
            identifier = spelling(person)
            contact = services.contact_register(
                lead_identifier=identifier, source_id=source, rng=self.rng
            )
            self.answered[contact.pk] = identifier
            registered.append(contact.pk)
        return multiple(*registered)

    @rule(
        target=closed,
        contact=consumes(contacts),
        outcome=st.none() | st.sampled_from(Contact.Outcome.values),
    )
    def close(self, contact, outcome):
        closed = services.contact_close(contact_id=contact, outcome=outcome, rng=self.rng)
        assert closed.status == Contact.Status.CLOSED
        return contact

    @rule(target=contacts, contact=consumes(closed))
    def reopen(self, contact):
        before = Contact.objects.get(pk=contact).operator_id
        reopened = services.contact_reopen(contact_id=contact, rng=self.rng)
        assert reopened.status == Contact.Status.OPEN and reopened.closed_at is None
        self.touched.add(contact)
        if reopened.operator_id is not None and reopened.operator_id == before:
            # Back to its own operator, which needs room and to accept contacts, as a
            # reassignment by hand does, but no weight.
            self.manual.add(contact)
        return contact

    @rule(contact=contacts)
    def return_to_queue(self, contact):
        # Refused when closed (by an operator's own close) or already queued.
        with contextlib.suppress(ValidationError):
            services.contact_return_to_queue(contact_id=contact, rng=self.rng)
            self.touched.add(contact)

    @rule(chosen=st.lists(contacts, max_size=4), action=st.sampled_from(["close", "requeue"]))
    def bulk(self, chosen, action):
        if action == "close":
            result = services.contact_bulk_close(contact_ids=chosen, rng=self.rng)
        else:
            result = services.contact_bulk_return_to_queue(contact_ids=chosen, rng=self.rng)
            self.touched |= {c.pk for c in result.done}
        assert len(result.done) + len(result.refused) == len(set(chosen))

    @rule(chosen=st.lists(contacts, max_size=4), operator=operators)
    def bulk_reassign(self, chosen, operator):
        result = services.contact_bulk_reassign(
            contact_ids=chosen, operator_id=operator, rng=self.rng
        )
        self.manual |= {c.pk for c in result.done}
        assert len(result.done) + len(result.refused) == len(set(chosen))

    @rule(contact=contacts)
    def respond(self, contact):
        # Refused when queued, or closed before anyone responded.
        with contextlib.suppress(ValidationError):
            services.contact_respond(contact_id=contact)

    @rule(
        operator=operators,
        presence=st.sampled_from(Presence.values),
        requeue=st.booleans(),
    )
    def set_presence(self, operator, presence, requeue):
        services.operator_update(
            operator_id=operator, presence=presence, requeue_open_contacts=requeue, rng=self.rng
        )

    @rule(operator=operators, zone=st.sampled_from(ZONES), hours=working_hours())
    def set_working_hours(self, operator, zone, hours):
        services.operator_set_schedule(
            operator_id=operator, time_zone=zone, hours=hours, rng=self.rng
        )

    @rule(minutes=st.sampled_from([1, 5, 10, 29, 60, 7 * 60, 13 * 60]))
    def time_passes(self, minutes):
        """The clock moves on and the worker ticks, as it does every few seconds."""
        self.clock.shift(timedelta(minutes=minutes))
        worker_tick()
        self.ticked = True

    # The routing settings are set on the row: their service (with its log) is the
    # source page's; the engine reads them at every decision.
    @rule(source=sources, mode=st.sampled_from(RoutingMode.values))
    def set_mode(self, source, mode):
        Source.objects.filter(pk=source).update(mode=mode)

    @rule(source=sources, days=st.none() | st.sampled_from([1, 7]))
    def set_sticky_days(self, source, days):
        Source.objects.filter(pk=source).update(sticky_days=days)

    @rule(source=sources, minutes=st.none() | st.sampled_from([5, 30]))
    def set_response_minutes(self, source, minutes):
        Source.objects.filter(pk=source).update(response_minutes=minutes)

    @rule(operator=operators)
    def close_one_of(self, operator):
        """What an operator's own work does: its oldest open contact is closed."""
        held = Contact.objects.filter(operator_id=operator, status=Contact.Status.OPEN)
        contact = held.order_by("created_at", "id").first()
        if contact is not None:
            services.contact_close(contact_id=contact.pk, rng=self.rng)

    @rule(contact=contacts, operator=operators)
    def reassign(self, contact, operator):
        self._reassign(contact, operator)

    @rule(holder=operators, to=operators)
    def reassign_one_of(self, holder, to):
        held = Contact.objects.filter(operator_id=holder, status=Contact.Status.OPEN)
        contact = held.order_by("created_at", "id").first()
        if contact is not None:
            self._reassign(contact.pk, to)

    def _reassign(self, contact_id, operator_id):
        try:
            services.contact_reassign(contact_id=contact_id, operator_id=operator_id, rng=self.rng)
        except ValidationError:
            return  # Refused (closed, inactive, at its limit): nothing may have changed.
        self.manual.add(contact_id)

    @rule(operator=operators, active=st.booleans(), requeue=st.booleans())
    def switch(self, operator, active, requeue):
        services.operator_update(
            operator_id=operator, is_active=active, requeue_open_contacts=requeue, rng=self.rng
        )

    @rule(operator=operators, limit=limits)
    def change_limit(self, operator, limit):
        services.operator_update(operator_id=operator, workload_limit=limit, rng=self.rng)

    @rule(operator=operators, active=st.booleans(), limit=limits)
    def switch_and_change_limit(self, operator, active, limit):
        services.operator_update(
            operator_id=operator, is_active=active, workload_limit=limit, rng=self.rng
        )

    @rule()
    def sweep(self):
        allocation.drain_all(rng=self.rng)
        # A sweep right after a sweep finds nothing: every write already drained.
        assert allocation.drain_all(rng=self.rng) == 0

    # --- the promises, after every step --------------------------------------------

    @invariant()
    def every_promise_holds(self):
        now = dict(Contact.objects.values_list("pk", "operator_id"))
        given = [
            pk
            for pk, op in now.items()
            if op is not None and (self.assignments.get(pk) != op or pk in self.touched)
        ]
        violations = invariants.step_violations(given, manual=self.manual, answered=self.answered)
        changed = [pk for pk, op in now.items() if self.assignments.get(pk) != op]
        violations += invariants.decision_violations(changed, after_event=self.last_event)
        if self.ticked:
            violations += invariants.response_violations()
        self.assignments = now
        self.manual = set()
        self.touched = set()
        self.ticked = False
        self.last_event = (
            ContactEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        )
        assert violations == []


def test_the_engine_keeps_its_invariants_through_any_sequence_of_writes():
    run_state_machine_as_test(
        Engine,
        settings=settings(
            max_examples=60,
            stateful_step_count=40,
            deadline=None,
            print_blob=True,
            phases=[Phase.generate],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
