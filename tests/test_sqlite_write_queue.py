"""
SQLite's write queue (crm/sqlite_backend): a second writer waits its turn on our lock,
before BEGIN, not in SQLite's busy handler; commit, rollback and close give the turn back;
a turn not given within the busy timeout is "database is locked" (a 503).
"""

import fcntl
import os
import threading
import time

import pytest
from django.db import OperationalError, connection, connections, transaction

from crm.sqlite_backend.base import lock_path
from distribution import services

pytestmark = [pytest.mark.sqlite, pytest.mark.django_db(transaction=True)]


def queue_is_free() -> bool:
    """Whether another process could take the queue now (a descriptor of our own)."""
    fd = os.open(lock_path(connection.settings_dict["NAME"]), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_a_second_writer_begins_only_after_the_first_commits():
    events: list[str] = []
    lock = threading.Lock()
    holding, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def note(event: str) -> None:
        with lock:
            events.append(event)

    def first() -> None:
        try:
            with transaction.atomic():
                services.operator_create(name="First", workload_limit=1)
                holding.set()
                release.wait(60)
                note("first commits")
            note("first committed")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def second() -> None:
        def spy(execute, sql, params, many, context):
            if sql.startswith("BEGIN"):
                note("second BEGIN")
            return execute(sql, params, many, context)

        try:
            holding.wait(60)
            with connection.execute_wrapper(spy):
                note("second asks")
                services.operator_create(name="Second", workload_limit=1)
            note("second committed")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    holding.wait(60)
    deadline = time.monotonic() + 60
    while "second asks" not in events and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # Long enough for the second writer to reach BEGIN, were it not queued.
    assert not queue_is_free()
    release.set()
    for thread in threads:
        thread.join(90)

    assert errors == []
    assert events == [
        "second asks",
        "first commits",
        "first committed",
        "second BEGIN",
        "second committed",
    ]
    assert queue_is_free()


def test_commit_rollback_and_close_give_the_turn_back():
    with transaction.atomic():
        services.operator_create(name="Committed", workload_limit=1)
        assert not queue_is_free()
    assert queue_is_free()

    with pytest.raises(RuntimeError), transaction.atomic():
        services.operator_create(name="Rolled back", workload_limit=1)
        assert not queue_is_free()
        raise RuntimeError("roll back")
    assert queue_is_free()

    with transaction.atomic():
        services.operator_create(name="Closed", workload_limit=1)
        connection.close()
        assert queue_is_free()
    # The thread's half of the queue was given back too: another transaction can begin.
    with transaction.atomic():
        services.operator_create(name="After", workload_limit=1)
    assert queue_is_free()


@pytest.fixture
def short_timeout():
    options = connection.settings_dict["OPTIONS"]
    before = options["timeout"]
    connection.close()
    options["timeout"] = 0.3
    yield
    connection.close()
    options["timeout"] = before


def test_a_turn_not_given_within_the_busy_timeout_is_database_is_locked(short_timeout):
    # Another process's writer (a descriptor of its own) holds the queue.
    fd = os.open(lock_path(connection.settings_dict["NAME"]), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"):
            services.operator_create(name="Waits", workload_limit=1)
        waited = time.monotonic() - started
    finally:
        os.close(fd)

    assert waited < 10  # It gave up (at the 0.3 s timeout), it did not hang.
    services.operator_create(name="Then writes", workload_limit=1)
    # The waiter that gave up gets the lock once it is let go, and hands it straight back.
    deadline = time.monotonic() + 10
    while not queue_is_free() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert queue_is_free()


def test_the_queue_can_be_turned_off():
    options = connection.settings_dict["OPTIONS"]
    connection.close()
    options["write_queue"] = False
    try:
        with transaction.atomic():
            services.operator_create(name="Unqueued", workload_limit=1)
            assert queue_is_free()
    finally:
        connection.close()
        options["write_queue"] = True
