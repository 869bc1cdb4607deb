"""Reads: loads, queue, statistics and the per-day chart."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from distribution import selectors, services
from distribution.models import Contact
from tests.plan_support import plan

pytestmark = pytest.mark.django_db


def test_stats_add_up(make_operator, make_source, register, rng):
    a, b, c = make_operator(limit=50), make_operator(limit=50), make_operator(limit=1)
    web = make_source("Web", weights={a: 1, b: 3})
    bot = make_source("Bot", weights={c: 1})
    for _ in range(40):
        register(web)
    for _ in range(3):
        register(bot)
    services.contact_close(contact_id=Contact.objects.filter(operator=a).first().pk)

    stats = selectors.distribution_stats()

    totals = stats["totals"]
    assert totals["contacts"] == 43
    assert totals["open_contacts"] == 42
    assert totals["unassigned_contacts"] == 2
    assert totals["leads"] == 43
    assert sum(s["total_contacts"] for s in stats["sources"]) == totals["contacts"]
    by_name = {s["name"]: s for s in stats["sources"]}
    assert by_name["Bot"]["unassigned_contacts"] == 2
    web_ops = by_name["Web"]["operators"]
    assert sum(o["share"] for o in web_ops) == pytest.approx(1)
    assert [o["expected_share"] for o in web_ops] == [0.25, 0.75]
    assert sum(o["contacts"] for o in web_ops) == 40
    ops = {o["id"]: o for o in stats["operators"]}
    assert ops[a.pk]["total_contacts"] - ops[a.pk]["open_contacts"] == 1


def test_stats_keep_operators_whose_weight_was_removed(make_operator, make_source, register):
    a, b = make_operator(), make_operator()
    source = make_source(weights={a: 1})
    register(source)
    services.source_set_weights(source_id=source.pk, weights=[(b.pk, 1)])

    (row,) = selectors.distribution_stats()["sources"]

    assert [(o["operator_id"], o["weight"], o["contacts"]) for o in row["operators"]] == [
        (b.pk, 1, 0),
        (a.pk, 0, 1),
    ]


def test_stats_cost_a_fixed_number_of_queries(make_operator, make_source, register):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            selectors.distribution_stats()
        return len(ctx.captured_queries)

    source = make_source(weights={make_operator(): 1})
    register(source)
    few = queries()
    for _ in range(5):
        make_source(weights={make_operator(limit=100): 1})
    for _ in range(30):
        register(source)

    assert queries() == few


def test_contacts_per_day_counts_the_last_14_days(make_source, register):
    source = make_source()
    old = register(source)
    Contact.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=20))
    yesterday = register(source)
    Contact.objects.filter(pk=yesterday.pk).update(created_at=timezone.now() - timedelta(days=1))
    register(source)
    register(source)

    days = selectors.contacts_per_day(days=14)

    assert len(days) == 14
    assert days[-1] == (timezone.localdate(), 2)
    assert days[-2][1] == 1
    assert sum(n for _, n in days) == 3


def test_lead_search_matches_part_of_the_identifier_ignoring_case(make_source, register):
    source = make_source()
    register(source, "Alice@Example.com")
    register(source, "bob@example.org")

    assert [lead.identifier for lead in selectors.lead_search("EXAMPLE.COM")] == [
        "Alice@Example.com"
    ]
    assert selectors.lead_search("").count() == 2


def test_lead_search_finds_a_phone_number_written_another_way(make_source, register):
    source = make_source()
    register(source, "+44 7700 918827")
    # A lead whose identifier is no phone number keeps its spaces, and a search as typed
    # still finds it.
    register(source, "order 7700 918")

    assert [lead.identifier for lead in selectors.lead_search("+447700918827")] == [
        "+44 7700 918827"
    ]
    assert [lead.identifier for lead in selectors.lead_search("(0044) 7700-918827")] == [
        "+44 7700 918827"
    ]
    assert {lead.identifier for lead in selectors.lead_search("7700 918")} == {
        "+44 7700 918827",
        "order 7700 918",
    }


def test_lead_search_finds_a_national_spelling_in_the_configured_region(
    settings, make_source, register
):
    settings.CRM_PHONE_REGION = "GB"
    register(make_source(), "+44 20 7946 0000")

    assert selectors.lead_search("020 7946 0000").count() == 1
    assert selectors.lead_search("(020) 7946").count() == 1


def test_contact_list_filters(make_operator, make_source, register):
    op = make_operator(limit=1)
    source = make_source(weights={op: 1})
    assigned, queued = register(source), register(source)
    services.contact_close(contact_id=assigned.pk)
    queued.refresh_from_db()
    still_queued = register(source)

    assert list(selectors.contact_list(unassigned=True)) == [still_queued]
    assert list(selectors.contact_list(status="closed")) == [assigned]
    assert set(selectors.contact_list(operator_id=op.pk)) == {assigned, queued}
    assert selectors.contact_list(source_id=source.pk).count() == 3


def test_the_open_contacts_of_a_source_at_an_operator_are_read_from_their_own_index(
    make_operator, make_source, register
):
    # Walking the pair's whole history (contact_by_source_operator) for its few open
    # contacts cost SQLite 50-65 ms at 1,000,000 contacts (bench/pages.py).
    ann = make_operator("Ann")
    source = make_source("Ads", weights={ann: 1})
    register(source, "eve@example.com")
    contacts = selectors.contact_list(status="open", source_id=source.pk, operator_id=ann.pk)
    assert "contact_open_by_pair" in plan(contacts[:26])


def test_a_leads_contacts_are_read_newest_first_from_their_own_index(make_source, register):
    lead = register(make_source(), "eve@example.com").lead
    read = plan(selectors.lead_contacts(lead)[:26])
    assert "contact_by_lead" in read
    if connection.vendor == "sqlite":
        # (PostgreSQL sorts a table this small rather than walk an index in order.)
        assert "TEMP B-TREE" not in read


def test_a_load_is_counted_with_the_open_status_written_into_the_sql(
    make_operator, make_source, register
):
    # Bound as a parameter, the status hid from SQLite that the partial index of open
    # contacts holds only open ones: it read every open contact's row to check it.
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source(weights={ann: 1})
    register(source)
    register(source)
    services.contact_close(contact_id=register(source).pk)
    loads = selectors.operator_list().filter(pk__in=[ann.pk, bob.pk])

    sql, params = loads.query.sql_with_params()

    assert f"= ('{Contact.Status.OPEN}')" in sql and Contact.Status.OPEN not in params
    assert "GROUP BY" not in sql  # One aggregate row per operator, none to group.
    assert {op.pk: op.open_contacts for op in loads} == {ann.pk: 2, bob.pk: 0}
    assert selectors.operator_loads([ann.pk, bob.pk]) == {ann.pk: 2}
