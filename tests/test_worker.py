"""
The worker (`manage.py run_worker`) and what time brings: shifts that start and end,
with a frozen clock (time-machine), never sleep; and the loop as a real process.
"""

import subprocess
import sys
import time as wall_clock
from datetime import UTC, datetime, time
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from bench.server import database_url, server_env
from distribution import invariants, services
from distribution.models import Contact, Operator

from .test_concurrency import run_in_threads

# Monday 2026-11-30, 08:59:30 in Berlin (07:59:30 UTC): half a minute before 09:00.
BEFORE_NINE_BERLIN = datetime(2026, 11, 30, 7, 59, 30, tzinfo=UTC)
NINE_TO_FIVE_MONDAY = [(0, time(9), time(17))]


def tick() -> str:
    out = StringIO()
    call_command("run_worker", "--once", stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def clock():
    with time_machine.travel(BEFORE_NINE_BERLIN, tick=False) as traveller:
        yield traveller


@pytest.mark.django_db
def test_an_operator_off_shift_receives_nothing_until_its_shift_starts(
    clock, make_operator, make_source, register
):
    berlin = make_operator("Berlin", limit=5)
    services.operator_set_schedule(
        operator_id=berlin.pk, time_zone="Europe/Berlin", hours=NINE_TO_FIVE_MONDAY
    )
    source = make_source(weights={berlin: 1})

    early = register(source)
    clock.shift(31)  # 09:00:01 in Berlin
    on_time = register(source)

    assert early.operator_id is None
    # The shift's start counts at once, before any worker stored it.
    assert on_time.operator_id == berlin.pk
    # The worker stores the new state and drains the queue to her; its sweep finds no more.
    assert tick() == "Shifts changed: 1; contacts timed out: 0; queued contacts assigned: 0."
    early.refresh_from_db()
    assert early.operator_id == berlin.pk
    assert invariants.state_violations() == []


@pytest.mark.django_db
def test_a_shift_that_ends_stops_new_contacts_and_keeps_the_open_ones(
    clock, make_operator, make_source, register
):
    berlin = make_operator("Berlin", limit=5)
    services.operator_set_schedule(
        operator_id=berlin.pk, time_zone="Europe/Berlin", hours=NINE_TO_FIVE_MONDAY
    )
    source = make_source(weights={berlin: 1})
    clock.move_to(datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC))  # 16:59:59 in Berlin
    tick()  # The worker ran during the day and stored the shift's start.
    held = register(source)

    clock.shift(1)
    late = register(source)
    tick()

    held.refresh_from_db()
    assert held.operator_id == berlin.pk
    assert late.operator_id is None
    operator = Operator.objects.get(pk=berlin.pk)
    assert (operator.on_shift, operator.shift_changes_at) == (
        False,
        datetime(2026, 12, 7, 8, 0, tzinfo=UTC),  # Next Monday 09:00 in Berlin.
    )


@pytest.mark.django_db
def test_away_and_offline_operators_never_receive_contacts(make_operator, make_source, register):
    away, offline, available = (make_operator(name, limit=20) for name in ("A", "O", "V"))
    services.operator_update(operator_id=away.pk, presence="away")
    services.operator_update(operator_id=offline.pk, presence="offline")
    source = make_source(weights={away: 100, offline: 100, available: 1})

    contacts = [register(source) for _ in range(10)]
    services.operator_update(operator_id=available.pk, is_active=False)
    queued = register(source)
    tick()

    assert {c.operator_id for c in contacts} == {available.pk}
    queued.refresh_from_db()
    assert queued.operator_id is None


@pytest.mark.django_db
def test_becoming_available_drains_the_queue_to_the_operator(make_operator, make_source, register):
    alice = make_operator("Alice", limit=2)
    services.operator_update(operator_id=alice.pk, presence="away")
    source = make_source(weights={alice: 1})
    queued = [register(source) for _ in range(3)]

    services.operator_update(operator_id=alice.pk, presence="available")

    assert [Contact.objects.get(pk=c.pk).operator_id for c in queued] == [
        alice.pk,
        alice.pk,
        None,
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("change", [{"presence": "away"}, {"is_active": False}])
def test_going_away_with_requeue_hands_open_contacts_to_others_oldest_first(
    make_operator, make_source, register, change
):
    alice, bob = make_operator("Alice", limit=5), make_operator("Bob", limit=2)
    source = make_source(weights={alice: 1})
    held = [register(source) for _ in range(3)]
    services.source_set_weights(source_id=source.pk, weights=[(alice.pk, 1), (bob.pk, 1)])

    services.operator_update(operator_id=alice.pk, requeue_open_contacts=True, **change)

    after = [Contact.objects.get(pk=c.pk).operator_id for c in held]
    # Bob has room for two: the two oldest; the third waits in the queue.
    assert after == [bob.pk, bob.pk, None]
    assert invariants.state_violations() == []


@pytest.mark.django_db
def test_going_away_without_requeue_keeps_open_contacts(make_operator, make_source, register):
    alice = make_operator("Alice", limit=5)
    held = register(make_source(weights={alice: 1}))

    services.operator_update(operator_id=alice.pk, presence="offline")

    held.refresh_from_db()
    assert held.operator_id == alice.pk


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_do_no_double_work(make_operator, make_source):
    with time_machine.travel(BEFORE_NINE_BERLIN, tick=False) as clock:
        operators = [make_operator(limit=3) for _ in range(6)]
        for operator in operators:
            services.operator_set_schedule(
                operator_id=operator.pk, time_zone="Europe/Berlin", hours=NINE_TO_FIVE_MONDAY
            )
        source = make_source(weights={op: 1 for op in operators})
        for n in range(30):
            services.contact_register(lead_identifier=f"lead{n}", source_id=source.pk)
        clock.shift(60)
        results: list = []

        from distribution.management.commands.run_worker import tick as worker_tick

        errors = run_in_threads(2, lambda i: results.append(worker_tick()))

        # Still on the frozen clock: the shifts are read as of that Monday morning.
        assert invariants.state_violations() == []
    assert errors == []
    # Each operator's shift start was stored once, and drained to it by that worker; the
    # sweeps found nothing left to do.
    assert sum(done.shifts for done in results) == 6
    assert sum(done.swept for done in results) == 0
    assert Contact.objects.filter(operator__isnull=False).count() == 6 * 3


@pytest.mark.django_db(transaction=True)
def test_the_worker_process_sweeps_until_told_to_stop(make_operator, make_source, register):
    alice = make_operator("Alice", limit=1)
    source = make_source(weights={alice: 1})
    register(source)
    register(source)
    # Room that no write drained, as after a crash: for the worker's sweep to find.
    Operator.objects.filter(pk=alice.pk).update(workload_limit=2)
    env = server_env(database_url(connection.settings_dict))
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--interval", "0.2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = wall_clock.monotonic() + 60
        while Contact.objects.filter(operator__isnull=True).exists():
            assert wall_clock.monotonic() < deadline, "the worker never swept the queue"
            wall_clock.sleep(0.1)
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)

    assert worker.returncode == 0, output
    assert "Worker stopped." in output
    assert "Traceback" not in output


def test_make_run_starts_the_worker_beside_the_web_server():
    plan = subprocess.run(["make", "-n", "run"], capture_output=True, text=True, check=True).stdout
    assert "manage.py run_worker &" in plan
    assert "manage.py runserver" in plan
