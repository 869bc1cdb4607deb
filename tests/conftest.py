"""
Shared fixtures and the rules for which tests run where.

* `postgres` tests run only when the suite runs on PostgreSQL (DATABASE_URL is the
  TEST_DATABASE_URL, as `make test` does for its second pass). In the SQLite pass they are
  deselected when that second pass will run them, and reported as skipped otherwise.
* `sqlite` tests run only in the SQLite pass, which `make test` always runs: in the
  PostgreSQL pass they are deselected.
* With CRM_FORBID_SKIPS=1 (set by .ci/run) a skipped test fails the run.
"""

import os
import random

import pytest
from django.db import connection

from distribution import allocation, services
from distribution.models import Operator, Source


def pytest_collection_modifyitems(config, items):
    on_postgres = connection.vendor == "postgresql"
    keep, drop = [], []
    for item in items:
        if item.get_closest_marker("sqlite") and on_postgres:
            drop.append(item)  # The SQLite pass of `make test` runs it.
            continue
        if item.get_closest_marker("postgres") and not on_postgres:
            if os.environ.get("TEST_DATABASE_URL"):
                drop.append(item)  # The PostgreSQL pass of `make test` runs it.
                continue
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL"))
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if (
        os.environ.get("CRM_FORBID_SKIPS") == "1"
        and report.skipped
        and not hasattr(report, "wasxfail")
    ):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {report.longrepr}"


@pytest.fixture
def rng() -> random.Random:
    return random.Random(1234)


@pytest.fixture
def make_operator(db):
    counter = iter(range(1, 10_000))

    def make(name: str | None = None, *, limit: int = 10, active: bool = True) -> Operator:
        return services.operator_create(
            name=name or f"Operator {next(counter)}", workload_limit=limit, is_active=active
        )

    return make


@pytest.fixture
def make_source(db):
    counter = iter(range(1, 10_000))

    def make(name: str | None = None, *, weights: dict[Operator, int] | None = None) -> Source:
        source = services.source_create(name=name or f"Source {next(counter)}")
        if weights:
            services.source_set_weights(
                source_id=source.pk, weights=[(op.pk, w) for op, w in weights.items()]
            )
        return source

    return make


@pytest.fixture
def register(db, rng):
    counter = iter(range(1, 1_000_000))

    def make(source: Source, identifier: str | None = None, **kwargs):
        return services.contact_register(
            lead_identifier=f"lead{next(counter)}@example.com"
            if identifier is None
            else identifier,
            source_id=source.pk,
            rng=kwargs.pop("rng", rng),
            **kwargs,
        )

    return make


@pytest.fixture
def weights_moving(monkeypatch):
    """Make the next `times` registrations' locks find that the weights moved (as on
    PostgreSQL when a weight edit commits while a registration waits for the source),
    after the real locking statement and the new lead's insert. Returns the attempts
    seen, one source id each."""
    lock_arrival = allocation.lock_arrival

    def start(times: int) -> list[int]:
        attempts: list[int] = []

        def moved(source_id, **kwargs):
            attempts.append(source_id)
            arrival = lock_arrival(source_id, **kwargs)
            if len(attempts) <= times:
                raise allocation.WeightsMoved(source_id)
            return arrival

        monkeypatch.setattr(allocation, "lock_arrival", moved)
        return attempts

    return start
