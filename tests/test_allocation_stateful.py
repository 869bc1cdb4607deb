"""
The engine against its invariants (I1-I5, allocation.py), by a model-based stateful test.

Hypothesis drives the services with random sequences of every write the product has:
operators and sources created, weights set and removed, contacts registered (the same
customers spelled in other cases and spacing), closed and reassigned, operators switched
on and off, limits raised and lowered, the safety sweep. After every step the database is
checked: I1 for each contact that got an operator in that step, I2-I5 for everything.

A failing run prints the steps that led to it, as Python calls to replay, and a
@reproduce_failure line that replays it exactly.
"""

import random

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, settings
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
from distribution.models import Contact, Operator

pytestmark = pytest.mark.django_db

PEOPLE = ["alice@example.com", "bob@example.com", "+1 555 0100", "carol.o'neil@example.com"]
SPELLINGS = [str.lower, str.upper, str.title, lambda s: f"  {s} ", lambda s: f"\t{s.upper()}  "]

limits = st.integers(min_value=0, max_value=3)
weights = st.integers(min_value=1, max_value=5)


class Engine(RuleBasedStateMachine):
    operators = Bundle("operators")
    sources = Bundle("sources")
    contacts = Bundle("contacts")

    def __init__(self) -> None:
        super().__init__()
        # Every run starts from an empty database and leaves none of its rows behind.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.rng = random.Random(0)
        self.names = 0
        self.answered: dict[int, str] = {}  # contact id -> identifier sent (I5)
        self.assignments: dict[int, int | None] = {}  # contact id -> operator id
        self.manual: set[int] = set()  # contacts reassigned by hand in the last step

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _name(self, kind: str) -> str:
        self.names += 1
        return f"{kind} {self.names}"

    # --- the steps: every write of services.py, and the sweep ---------------------

    @initialize(target=operators, limit=limits)
    def first_operator(self, limit):
        return services.operator_create(name=self._name("Operator"), workload_limit=limit).pk

    @initialize(target=sources, weight=weights)
    def first_source(self, weight):
        # Weighted for whoever exists already, so that runs start with someone to route to.
        source = services.source_create(name=self._name("Source"))
        everyone = Operator.objects.values_list("pk", flat=True)
        services.source_set_weights(source_id=source.pk, weights=[(pk, weight) for pk in everyone])
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

    @rule(contact=consumes(contacts))
    def close(self, contact):
        closed = services.contact_close(contact_id=contact, rng=self.rng)
        assert closed.status == Contact.Status.CLOSED

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

    @rule(operator=operators, active=st.booleans())
    def switch(self, operator, active):
        services.operator_update(operator_id=operator, is_active=active, rng=self.rng)

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
        given = [pk for pk, op in now.items() if op is not None and self.assignments.get(pk) != op]
        violations = invariants.assignment_violations(given, manual=self.manual)
        violations += invariants.state_violations()
        violations += invariants.registration_violations(self.answered)
        self.assignments = now
        self.manual = set()
        assert violations == []


def test_the_engine_keeps_its_invariants_through_any_sequence_of_writes():
    run_state_machine_as_test(
        Engine,
        settings=settings(
            max_examples=150,
            stateful_step_count=25,
            deadline=None,
            print_blob=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
