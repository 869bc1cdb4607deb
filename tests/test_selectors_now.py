"""selectors.OperatorsNow and queue_by_source: what is true now, read by the engine's rules."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from distribution import selectors, services
from distribution.selectors import OperatorsNow, QueueReason


def test_shares_now_follow_the_engines_eligibility(make_operator, make_source, register):
    ann, bob, cid = make_operator(limit=5), make_operator(limit=1), make_operator()
    source = make_source(weights={bob: 1})
    register(source)  # Bob is full.
    services.operator_update(operator_id=cid.pk, is_active=False)
    now = OperatorsNow(selectors.operator_list())
    assert now.shares([(ann.pk, 2), (bob.pk, 3), (cid.pk, 5)]) == {
        ann.pk: 1.0,
        bob.pk: 0.0,
        cid.pk: 0.0,
    }
    assert [now.states[pk].why_not for pk in (ann.pk, bob.pk, cid.pk)] == [
        None,
        "full",
        "inactive",
    ]
    assert now.shares([(bob.pk, 1)]) == {bob.pk: 0.0}


def test_an_operator_over_its_lowered_limit_is_full_and_says_by_how_much(
    make_operator, make_source, register
):
    ann = make_operator(limit=3)
    source = make_source(weights={ann: 1})
    for _ in range(3):
        register(source)
    services.operator_update(operator_id=ann.pk, workload_limit=1)
    state = OperatorsNow(selectors.operator_list()).states[ann.pk]
    assert (state.load, state.why_not, state.over) == (3, "full", 2)


def test_the_queue_by_source_costs_two_queries(make_operator, make_source, register):
    ops = [make_operator(limit=1) for _ in range(4)]
    for _ in range(3):
        source = make_source(weights={op: 1 for op in ops})
        for _ in range(6):
            register(source)
    register(make_source())
    now = OperatorsNow(selectors.operator_list())
    with CaptureQueriesContext(connection) as captured:
        waits = selectors.queue_by_source(now)
    assert len(captured) == 2
    assert sorted(w.reason for w in waits) == [QueueReason.FULL] * 3 + [QueueReason.NO_WEIGHT]
    assert sum(w.count for w in waits) == selectors.queue_length()
