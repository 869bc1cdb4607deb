"""
Real threads, real transactions, a real database file (SQLite) or server (PostgreSQL):
limits hold, leads stay unique and nobody waits in the queue while someone has room.
"""

import random
import threading
from collections.abc import Callable

import pytest
from django.db import OperationalError, connection, connections, transaction

from distribution import allocation, invariants, selectors, services, tallies
from distribution.models import Contact, Lead, Operator, Source

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20


def run_in_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run work(i) in `count` threads started together; return what they raised."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def target(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as exc:  # Collected and asserted on by the test.
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker thread hung"
    return errors


def assert_invariants() -> None:
    """No load above its limit (I1's end state); I2, I3 and I4 hold."""
    operators = {op.pk: op for op in Operator.objects.all()}
    loads = selectors.operator_loads(operators)
    over = {
        op.name: loads[pk] for pk, op in operators.items() if loads.get(pk, 0) > op.workload_limit
    }
    assert over == {}
    assert invariants.state_violations() == []


def test_parallel_registrations_never_push_an_operator_past_its_limit(make_operator, make_source):
    operators = [make_operator(limit=limit) for limit in (3, 5, 7, 2)]
    # Many sources sharing the same operators: only the operators' own locks keep two
    # sources' registrations from taking one operator's last slot twice.
    sources = [
        make_source(weights={op: 1 + (i + k) % 3 for k, op in enumerate(operators)})
        for i in range(THREADS)
    ]
    per_thread = 10

    def work(i: int) -> None:
        rng = random.Random(i)
        for n in range(per_thread):
            services.contact_register(
                lead_identifier=f"t{i}-{n}@example.com", source_id=sources[i].pk, rng=rng
            )

    errors = run_in_threads(THREADS, work)

    assert errors == []
    assert Contact.objects.count() == THREADS * per_thread
    assert Contact.objects.filter(operator__isnull=False).count() == 3 + 5 + 7 + 2
    assert_invariants()


def test_parallel_first_contacts_of_one_new_lead_make_one_lead(make_operator, make_source):
    source = make_source(weights={make_operator(limit=100): 1})

    def work(i: int) -> None:
        identifier = "  New.Customer@Example.com " if i % 2 else "new.customer@example.com"
        services.contact_register(lead_identifier=identifier, source_id=source.pk)

    errors = run_in_threads(THREADS, work)

    assert errors == []
    assert Lead.objects.count() == 1
    assert Contact.objects.count() == THREADS
    assert Contact.objects.filter(lead=Lead.objects.get()).count() == THREADS


def test_parallel_registrations_closes_and_limit_changes_keep_every_rule(
    make_operator, make_source
):
    operators = [make_operator(limit=2) for _ in range(4)]
    source = make_source(weights={op: i + 1 for i, op in enumerate(operators)})
    for n in range(10):
        services.contact_register(lead_identifier=f"seed{n}", source_id=source.pk)

    def work(i: int) -> None:
        rng = random.Random(i)
        for n in range(10):
            role = i % 4
            if role in (0, 1):
                services.contact_register(
                    lead_identifier=f"lead{rng.randint(1, 30)}", source_id=source.pk, rng=rng
                )
            elif role == 2:
                contact = Contact.objects.filter(status="open").order_by("?").first()
                if contact:
                    services.contact_close(contact_id=contact.pk, rng=rng)
            else:
                services.operator_update(
                    operator_id=operators[n % 4].pk, is_active=n % 3 != 0, rng=rng
                )

    errors = run_in_threads(THREADS, work)

    assert errors == []
    assert Contact.objects.count() == 10 + 10 * 10  # Seeds plus ten registering threads.
    assert_invariants()


def wait_until_a_session_waits_for_a_lock() -> None:
    """Poll PostgreSQL until another session of this database is blocked on a lock."""
    for _ in range(1200):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0] >= 1:
                return
        threading.Event().wait(0.05)
    pytest.fail("no session ever waited for a lock")


def hold_in_transaction(work: Callable[[], None], holding, release) -> threading.Thread:
    """Run work() in a thread's transaction and keep it open until `release` is set."""

    def target() -> None:
        try:
            with transaction.atomic():
                work()
                holding.set()
                release.wait(timeout=60)
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    return thread


@pytest.mark.postgres
def test_a_close_racing_a_new_weight_drains_the_new_source_on_postgres(make_operator, make_source):
    """The closing transaction reads the operator's weights only once it holds its lock."""
    alice = make_operator(limit=1)
    old = make_source(weights={alice: 1})
    new = make_source()
    busy = services.contact_register(lead_identifier="busy", source_id=old.pk)
    waiting = services.contact_register(lead_identifier="waiting", source_id=new.pk)
    assert waiting.operator_id is None
    holding, release = threading.Event(), threading.Event()

    adder = hold_in_transaction(
        lambda: services.source_set_weight(source_id=new.pk, operator_id=alice.pk, weight=1),
        holding,
        release,
    )
    holding.wait(timeout=60)
    closer = threading.Thread(
        target=lambda: (services.contact_close(contact_id=busy.pk), connections.close_all())
    )
    closer.start()
    wait_until_a_session_waits_for_a_lock()
    release.set()
    adder.join(timeout=60)
    closer.join(timeout=60)

    waiting.refresh_from_db()
    assert waiting.operator_id == alice.pk
    assert_invariants()


@pytest.mark.postgres
def test_registration_waits_for_the_operator_row_lock_on_postgres(make_operator, make_source):
    """Two transactions never count one operator's load at once: the second waits."""
    alice = make_operator(limit=1)
    source = make_source(weights={alice: 1})
    holding = threading.Event()
    release = threading.Event()
    results: dict[str, Contact] = {}

    def holder() -> None:
        try:
            with transaction.atomic():
                results["first"] = services.contact_register(
                    lead_identifier="a", source_id=source.pk
                )
                holding.set()
                release.wait(timeout=60)
        finally:
            connections.close_all()

    def waiter() -> None:
        holding.wait(timeout=60)
        try:
            results["second"] = services.contact_register(lead_identifier="b", source_id=source.pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
    for thread in threads:
        thread.start()
    holding.wait(timeout=60)
    # The second registration is blocked on a row lock while the first is uncommitted.
    wait_until_a_session_waits_for_a_lock()
    release.set()
    for thread in threads:
        thread.join(timeout=60)
    connections.close_all()

    assert results["first"].operator_id == alice.pk
    assert results["second"].operator_id is None
    assert selectors.operator_loads([alice.pk]) == {alice.pk: 1}


def locked_elsewhere(model, pk: int) -> bool:
    """Whether another transaction holds the row's lock (a NOWAIT lock attempt fails)."""
    try:
        with transaction.atomic():
            list(model.objects.select_for_update(nowait=True).filter(pk=pk))
    except OperationalError:
        return True
    return False


@pytest.mark.postgres
def test_a_registration_locks_its_source_and_its_weighted_operators_on_postgres(
    make_operator, make_source
):
    """The locking statement holds the source and every operator weighted for it (the
    inactive one too), and nothing else, until the registration commits."""
    weighted = [make_operator(limit=5), make_operator(limit=5, active=False)]
    unweighted = make_operator(limit=5)
    source, other = make_source(weights={op: 1 for op in weighted}), make_source()
    holding, release = threading.Event(), threading.Event()

    registration = hold_in_transaction(
        lambda: services.contact_register(lead_identifier="a@b.c", source_id=source.pk),
        holding,
        release,
    )
    holding.wait(timeout=60)
    try:
        assert locked_elsewhere(Source, source.pk)
        assert [locked_elsewhere(Operator, op.pk) for op in weighted] == [True, True]
        assert not locked_elsewhere(Operator, unweighted.pk)
        assert not locked_elsewhere(Source, other.pk)
    finally:
        release.set()
        registration.join(timeout=60)
    assert not locked_elsewhere(Source, source.pk)


@pytest.mark.postgres
def test_a_registration_locks_the_source_then_operators_in_ascending_id_on_postgres(
    make_operator, make_source
):
    """Blocked at its highest operator (held elsewhere), a registration already holds the
    source and the lower operator: it locks in the engine's order."""
    low, high = make_operator(limit=5), make_operator(limit=5)
    source = make_source(weights={high: 1, low: 1})
    holding, release = threading.Event(), threading.Event()
    holder = hold_in_transaction(
        lambda: list(Operator.objects.select_for_update().filter(pk=high.pk)), holding, release
    )
    holding.wait(timeout=60)
    registration = threading.Thread(
        target=lambda: (
            services.contact_register(lead_identifier="a@b.c", source_id=source.pk),
            connections.close_all(),
        )
    )
    registration.start()
    try:
        wait_until_a_session_waits_for_a_lock()
        assert locked_elsewhere(Source, source.pk)
        assert locked_elsewhere(Operator, low.pk)
    finally:
        release.set()
        holder.join(timeout=60)
        registration.join(timeout=60)
    assert Contact.objects.count() == 1


@pytest.mark.postgres
def test_an_operator_weighted_while_a_registration_waits_gets_its_contact_on_postgres(
    make_operator, make_source
):
    """The locking statement's snapshot predates a weight edit it waited for; the read
    after the locks sees the new operator, and the registration starts over with its lock."""
    full, newcomer = make_operator(limit=1), make_operator(limit=1)
    source = make_source(weights={full: 1})
    services.contact_register(lead_identifier="first", source_id=source.pk)
    holding, release = threading.Event(), threading.Event()
    editor = hold_in_transaction(
        lambda: services.source_set_weight(source_id=source.pk, operator_id=newcomer.pk, weight=1),
        holding,
        release,
    )
    holding.wait(timeout=60)
    results: dict[str, Contact] = {}

    def register() -> None:
        try:
            results["late"] = services.contact_register(lead_identifier="late", source_id=source.pk)
        finally:
            connections.close_all()

    registration = threading.Thread(target=register)
    registration.start()
    wait_until_a_session_waits_for_a_lock()
    release.set()
    editor.join(timeout=60)
    registration.join(timeout=60)

    assert results["late"].operator_id == newcomer.pk
    assert_invariants()


@pytest.mark.postgres
def test_a_new_lead_inserted_while_a_registration_waits_is_read_not_doubled_on_postgres(
    make_operator, make_source
):
    """Two first contacts of one lead through two sources (no lock in common): the second
    insert waits for the first's uncommitted lead, inserts nothing, and reads it."""
    web, phone = (
        make_source(weights={make_operator(): 1}),
        make_source(weights={make_operator(): 1}),
    )
    holding, release = threading.Event(), threading.Event()
    first = hold_in_transaction(
        lambda: services.contact_register(lead_identifier="new@example.com", source_id=web.pk),
        holding,
        release,
    )
    holding.wait(timeout=60)
    results: dict[str, Contact] = {}

    def register() -> None:
        try:
            results["second"] = services.contact_register(
                lead_identifier="NEW@example.com", source_id=phone.pk
            )
        finally:
            connections.close_all()

    second = threading.Thread(target=register)
    second.start()
    wait_until_a_session_waits_for_a_lock()
    release.set()
    first.join(timeout=60)
    second.join(timeout=60)

    lead = Lead.objects.get()
    assert results["second"].lead_id == lead.pk
    assert Contact.objects.filter(lead=lead).count() == 2
    # The lead counts under the source of its first contact only.
    assert tallies.stored() == tallies.recount()
    assert tallies.stored()[web.pk, 0, "lead"] == 1


def test_weights_changing_during_registrations_and_closes_leave_nobody_waiting(
    make_operator, make_source
):
    operators = [make_operator(limit=3) for _ in range(4)]
    sources = [make_source(weights={operators[i]: 1}) for i in range(4)]
    for n in range(16):
        services.contact_register(lead_identifier=f"seed{n}", source_id=sources[n % 4].pk)

    def work(i: int) -> None:
        rng = random.Random(i)
        for n in range(8):
            role = i % 3
            source = sources[rng.randrange(4)]
            if role == 0:
                services.contact_register(
                    lead_identifier=f"lead{i}-{n}", source_id=source.pk, rng=rng
                )
            elif role == 1:
                contact = Contact.objects.filter(status="open", operator__isnull=False).first()
                if contact:
                    services.contact_close(contact_id=contact.pk, rng=rng)
            else:
                # Add or remove one operator's weight for a source.
                operator = operators[rng.randrange(4)]
                services.source_set_weight(
                    source_id=source.pk,
                    operator_id=operator.pk,
                    weight=rng.choice([None, 1, 2]),
                    rng=rng,
                )

    errors = run_in_threads(THREADS, work)

    # A registration may give up when an edit moved its source's weights under each of its
    # attempts (PostgreSQL, services.REGISTER_ATTEMPTS): it wrote nothing, which the
    # invariants below check with the rest.
    assert [e for e in errors if not isinstance(e, services.WeightsKeptMoving)] == []
    assert_invariants()


@pytest.mark.postgres
def test_simultaneous_closes_on_two_operators_leave_no_free_slot_beside_the_queue(
    make_operator, make_source
):
    """Each drain locks only what it can assign, so the other drain takes the next contact."""
    alice, bob = make_operator(limit=1), make_operator(limit=1)
    source = make_source(weights={alice: 1, bob: 1})
    for n in range(60):
        services.contact_register(lead_identifier=f"lead{n}", source_id=source.pk)
    assert selectors.queue_length() == 58

    for _ in range(25):
        held = [
            Contact.objects.get(status=Contact.Status.OPEN, operator=operator).pk
            for operator in (alice, bob)
        ]

        errors = run_in_threads(2, lambda i, held=held: services.contact_close(contact_id=held[i]))

        assert errors == []
        assert selectors.operator_loads([alice.pk, bob.pk]) == {alice.pk: 1, bob.pk: 1}
    assert selectors.queue_length() == 58 - 2 * 25


def test_sweeps_running_at_once_assign_each_contact_once(make_operator, make_source):
    operators = [make_operator(limit=1) for _ in range(4)]
    sources = [make_source(weights={op: 1 for op in operators[i : i + 2]}) for i in range(3)]
    for n in range(60):
        services.contact_register(lead_identifier=f"lead{n}", source_id=sources[n % 3].pk)
    # Room that no write drained, as after a crash: limits raised behind the services' back.
    Operator.objects.update(workload_limit=8)
    queued_before = selectors.queue_length()
    assigned: list[int] = []

    errors = run_in_threads(4, lambda i: assigned.append(allocation.drain_all()))

    assert errors == []
    assert sum(assigned) == queued_before - selectors.queue_length() == 4 * (8 - 1)
    assert_invariants()


def test_requeues_racing_registrations_and_closes_lose_nothing_and_assign_nothing_twice(
    make_operator, make_source
):
    operators = [make_operator(limit=3) for _ in range(4)]
    sources = [make_source(weights={op: 1 for op in operators[i : i + 3]}) for i in range(2)]
    answered: dict[int, str] = {}

    def work(i: int) -> None:
        rng = random.Random(i)
        for n in range(8):
            role = i % 3
            if role == 0:
                identifier = f"lead{i}-{n}"
                contact = services.contact_register(
                    lead_identifier=identifier, source_id=rng.choice(sources).pk, rng=rng
                )
                answered[contact.pk] = identifier
            elif role == 1:
                contact = Contact.objects.filter(status="open", operator__isnull=False).first()
                if contact:
                    services.contact_close(contact_id=contact.pk, rng=rng)
            else:
                # Go away and hand back the open contacts, then come back.
                operator = rng.choice(operators)
                services.operator_update(
                    operator_id=operator.pk, presence="away", requeue_open_contacts=True, rng=rng
                )
                services.operator_update(operator_id=operator.pk, presence="available", rng=rng)

    errors = run_in_threads(12, work)

    assert errors == []
    assert invariants.registration_violations(answered) == []
    assert_invariants()
