"""The tallies (distribution/tallies.py): kept exact by every write, one statement per
transaction, and the counts the pages read from them equal a count of the contacts."""

from collections import defaultdict
from datetime import timedelta
from itertools import product

import pytest
import time_machine
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from distribution import allocation, invariants, selectors, services, tallies
from distribution.models import Contact, ContactTally, Lead, Operator, Source

pytestmark = pytest.mark.django_db


def stats_by_counting() -> dict:
    """distribution_stats() as it was computed before the tallies: from the contacts."""
    counts: dict = defaultdict(lambda: defaultdict(int))
    queued: dict = defaultdict(int)
    operator_open: dict = defaultdict(int)
    operator_total: dict = defaultdict(int)
    totals = {"leads": Lead.objects.filter(contacts__isnull=False).distinct().count()}
    totals |= {"contacts": 0, "open_contacts": 0}
    rows = Contact.objects.values_list("source_id", "operator_id", "status").annotate(n=Count("id"))
    for source_id, operator_id, status, n in rows.order_by():
        is_open = status == Contact.Status.OPEN
        counts[source_id][operator_id] += n
        totals["contacts"] += n
        totals["open_contacts"] += n if is_open else 0
        if operator_id is None:
            queued[source_id] += n if is_open else 0
        else:
            operator_total[operator_id] += n
            operator_open[operator_id] += n if is_open else 0
    totals["unassigned_contacts"] = sum(queued.values())
    sources = []
    for source in Source.objects.order_by("name", "id"):
        configs = list(source.weights.order_by("operator_id"))
        sources.append(
            selectors._source_stats(source, configs, counts[source.pk], queued[source.pk])
        )
    operators = [
        {
            "id": op.pk,
            "name": op.name,
            "is_active": op.is_active,
            "workload_limit": op.workload_limit,
            "open_contacts": operator_open[op.pk],
            "total_contacts": operator_total[op.pk],
        }
        for op in Operator.objects.order_by("name", "id")
    ]
    return {"totals": totals, "operators": operators, "sources": sources}


def assert_counts_true() -> None:
    assert invariants.tally_violations() == []
    assert tallies.stored() == tallies.recount()
    assert selectors.distribution_stats() == stats_by_counting()
    sources = [None, *Source.objects.values_list("pk", flat=True)]
    operators = [None, *Operator.objects.values_list("pk", flat=True)]
    for status, source_id, operator_id, unassigned in product(
        [None, "open", "closed"], sources, operators, [False, True]
    ):
        filters = {
            "status": status,
            "source_id": source_id,
            "operator_id": operator_id,
            "unassigned": unassigned,
        }
        assert selectors.contact_count(**filters) == selectors.contact_list(**filters).count()
    for source in selectors.source_list_with_counts():
        assert source.contact_count == source.contacts.count()
        assert source.queued == source.contacts.filter(status="open", operator=None).count()


def test_the_tallies_equal_a_recount_through_a_working_day(
    make_operator, make_source, register, rng
):
    ann, bob = make_operator("Ann", limit=2), make_operator("Bob", limit=1)
    cid, dee = make_operator("Cid", limit=3), make_operator("Dee", limit=5)
    web = make_source("Web", weights={ann: 1, bob: 1})
    ads = make_source("Ads", weights={cid: 1})
    services.source_update(source_id=ads.pk, response_minutes=5)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        first = [register(web, "alice@example.com") for _ in range(3)]
        others = [register(web), register(ads), register(ads, "ALICE@example.com")]
        assert others[0].operator_id is None
        assert_counts_true()

        services.contact_close(contact_id=first[0].pk, rng=rng)  # the queued one drains
        services.contact_reassign(contact_id=others[1].pk, operator_id=dee.pk, rng=rng)
        assert_counts_true()

        services.contact_reopen(contact_id=first[0].pk, rng=rng)
        services.contact_return_to_queue(contact_id=first[1].pk, rng=rng)
        assert_counts_true()

        clock.shift(timedelta(minutes=6))
        assert services.contacts_time_out(rng=rng) >= 1
        services.operator_update(operator_id=bob.pk, is_active=False, requeue_open_contacts=True)
        assert_counts_true()

        services.operator_update(operator_id=cid.pk, workload_limit=10, rng=rng)
        services.source_set_weight(source_id=web.pk, operator_id=cid.pk, weight=2, rng=rng)
        allocation.drain_all(rng=rng)
        open_ids = list(Contact.objects.filter(status="open").values_list("pk", flat=True))
        services.contact_bulk_close(contact_ids=open_ids[:2], outcome="won", rng=rng)
        services.contact_bulk_reassign(contact_ids=open_ids[2:], operator_id=dee.pk, rng=rng)
        services.contact_bulk_return_to_queue(contact_ids=open_ids[2:3], rng=rng)
        assert_counts_true()


def test_the_stateful_check_reports_a_tally_that_is_off(make_source, register):
    source = make_source()
    register(source)
    ContactTally.objects.filter(source=source, status="open").update(n=5)

    assert invariants.tally_violations() == [
        f"I9: the tally of ({source.pk}, 0, 'open') is 5, the rows count 1"
    ]


def tally_statements(action) -> int:
    with CaptureQueriesContext(connection) as captured:
        action()
    return sum(1 for q in captured.captured_queries if "contacttally" in q["sql"].lower())


def test_each_write_counts_its_moves_in_one_statement(make_operator, make_source, register, rng):
    ann, bob = make_operator("Ann", limit=1), make_operator("Bob", limit=5)
    source = make_source(weights={ann: 1})
    held, queued = register(source), register(source)

    def close():
        services.contact_close(contact_id=held.pk, rng=rng)  # and the queued one drains

    assert tally_statements(close) == 1
    assert (
        tally_statements(
            lambda: services.contact_reassign(contact_id=queued.pk, operator_id=bob.pk, rng=rng)
        )
        == 1
    )
    assert tally_statements(lambda: services.contact_reopen(contact_id=held.pk, rng=rng)) == 1
    assert (
        tally_statements(lambda: services.contact_return_to_queue(contact_id=queued.pk, rng=rng))
        == 1
    )
    assert invariants.tally_violations() == []


def test_a_move_away_from_a_row_subtracts_and_a_new_key_is_created(make_source):
    source = make_source()
    tallies.write({(source.pk, 0, "open"): 3})
    moves = tallies.Moves()
    moves.change(source.pk, (None, "open"), (7, "open"))
    moves.change(source.pk, (None, "open"), (7, "closed"))

    tallies.write(moves)

    assert tallies.stored() == {
        (source.pk, 0, "open"): 1,
        (source.pk, 7, "open"): 1,
        (source.pk, 7, "closed"): 1,
    }


def test_rebuild_replaces_the_tallies_by_a_recount(make_source, register):
    source = make_source()
    register(source)
    register(source)
    ContactTally.objects.all().delete()

    tallies.rebuild()

    assert tallies.stored() == {(source.pk, 0, "open"): 2, (source.pk, 0, "lead"): 2}


def test_a_lead_counts_under_the_source_whose_contact_inserted_it(make_operator, make_source):
    """Two first contacts of one new lead racing on PostgreSQL: the one that waited for the
    other's lead insert may carry the earlier time (taken before it waited). The lead is
    counted where it was inserted, and the recount agrees (lowest id, not oldest time)."""
    web = make_source(weights={make_operator(): 1})
    phone = make_source(weights={make_operator(): 1})
    first = services.contact_register(lead_identifier="new@example.com", source_id=web.pk)
    second = services.contact_register(lead_identifier="new@example.com", source_id=phone.pk)
    Contact.objects.filter(pk=second.pk).update(
        created_at=first.created_at - timedelta(seconds=1),
        assigned_at=first.created_at - timedelta(seconds=1),
    )

    assert tallies.stored()[web.pk, 0, tallies.LEAD] == 1
    assert tallies.stored() == tallies.recount()
    assert invariants.tally_violations() == []
