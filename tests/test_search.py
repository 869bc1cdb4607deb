"""search.py: which leads a search finds (the same as a scan of every key would), on the
leads page, the API and the contacts list alike, and that the index answers it."""

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from distribution import search, selectors, services
from distribution.models import Lead, casefold_key
from tests.plan_support import plan

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["selective", "common"])
def how_common(request, monkeypatch):
    """Each test twice: a search read as a list of ids, and one checked row by row
    (search.lead_filter), as if it found more than search.SELECTIVE leads."""
    if request.param == "common":
        monkeypatch.setattr(search, "SELECTIVE", 0)


@pytest.fixture
def leads(make_source, register):
    source = make_source()
    made = {}
    for identifier, name in [
        ("alice@example.com", "Alice Martin"),
        ("Bob.Smith@Example.org", ""),
        ("+447700918827", "Carol"),
        ("@dave_t", "Dave Alderman"),
        ("malory@example.net", ""),
    ]:
        made[identifier] = register(source, identifier, lead_name=name).lead
    return made


def found(term: str) -> list[str]:
    """The identifiers of the leads the leads list finds, newest first."""
    return [lead.identifier for lead in selectors.lead_search(term)]


def contacts_found(term: str) -> set[str]:
    return {c.lead.identifier for c in selectors.contact_list(lead=term)}


def test_a_search_finds_part_of_the_identifier_in_any_case(leads):
    assert found("ALI") == ["alice@example.com"]
    assert found("smith@exam") == ["Bob.Smith@Example.org"]
    assert found("example") == ["malory@example.net", "Bob.Smith@Example.org", "alice@example.com"]
    assert found("  xample.ORG ") == ["Bob.Smith@Example.org"]
    assert found("nobody") == []


@pytest.mark.parametrize(
    "term", ["+447700918827", "0044 7700 918827", "+44 (0)7700 918 827", "7700 918", "00447700"]
)
def test_a_phone_number_is_found_by_any_spelling_of_it_or_of_a_part(leads, term):
    assert found(term) == ["+447700918827"]
    assert contacts_found(term) == {"+447700918827"}


def test_a_search_of_one_or_two_characters_finds_the_identifiers_that_start_with_it(leads):
    assert found("a") == ["alice@example.com"]
    assert found("MA") == ["malory@example.net"]
    assert found("@d") == ["@dave_t"]
    # Not anywhere in the identifier: "li" is in alice's, not at its start.
    assert found("li") == []
    assert found("+4") == ["+447700918827"]


def test_the_contacts_list_also_finds_leads_by_name(leads):
    assert contacts_found("alder") == {"@dave_t"}
    assert contacts_found("MARTIN") == {"alice@example.com"}
    # The leads list and the API look at identifiers only (the contract's "part of the
    # identifier").
    assert found("alder") == []


def test_a_name_given_later_is_found(leads, make_source, register):
    register(make_source(), "malory@example.net", lead_name="Mallory Knox")
    assert contacts_found("knox") == {"malory@example.net"}


@pytest.mark.parametrize(
    "term",
    ['"', 'a"b', "al*", "AND", "NEAR(a b)", "x OR y", "{name}: x", "^ali", "'; --", "%", "_"],
)
def test_query_syntax_is_searched_as_text_and_never_fails(leads, term):
    key = casefold_key(term)
    expected = [
        lead.identifier for lead in Lead.objects.order_by("-pk") if key in lead.identifier_key
    ]
    if len(key) < search.TRIGRAM:
        expected = [
            lead.identifier
            for lead in Lead.objects.order_by("-pk")
            if lead.identifier_key.startswith(key)
        ]
    assert found(term) == expected
    contacts_found(term)  # no error either


def test_the_index_finds_what_a_scan_of_every_key_finds(make_source, register):
    rng = random.Random(5)
    source = make_source()
    alphabet = "abcé.@+-_ 0123ß"
    for _ in range(60):
        identifier = "".join(rng.choice(alphabet) for _ in range(rng.randint(3, 12))).strip()
        if identifier:
            register(source, identifier)
    keys = dict(Lead.objects.values_list("pk", "identifier_key"))
    for _ in range(150):
        term = "".join(rng.choice(alphabet) for _ in range(rng.randint(3, 5)))
        folded = casefold_key(term)
        if len(folded) < search.TRIGRAM or search.terms(term).keys != (folded,):
            continue  # short, or read as a phone number: the tests above
        expected = sorted((pk for pk, key in keys.items() if folded in key), reverse=True)
        assert [lead.pk for lead in selectors.lead_search(term)] == expected, term


def test_a_lead_deleted_leaves_the_index(make_source, register):
    contact = register(make_source(), "gone@example.com")
    contact.events.all().delete()
    contact.delete()
    contact.lead.delete()
    assert found("gone@") == []


def test_an_identifier_changed_is_found_by_its_new_spelling_only(leads):
    lead = leads["alice@example.com"]
    lead.identifier = "Alicia@Example.com"
    lead.full_clean()
    lead.save()
    assert found("alicia") == ["Alicia@Example.com"]
    assert found("alice") == []


def test_the_leads_page_and_its_count_agree_with_the_search(leads):
    page = selectors.lead_list(search="example")
    assert [lead.identifier for lead in page.leads] == found("example")
    assert (page.total, page.searched) == (3, True)


def test_a_search_count_stops_after_the_cap(leads, monkeypatch):
    assert search.count_matches("example", cap=1) == 2
    assert search.count_matches("e", cap=100) == 0


# --- the index is used ---------------------------------------------------------------


def plans_of(run) -> list[str]:
    """The plans of the queries `run` issues (SQLite)."""
    with CaptureQueriesContext(connection) as captured:
        run()
    plans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            cursor.execute(f"EXPLAIN QUERY PLAN {query['sql']}")
            plans.append("\n".join(str(row[-1]) for row in cursor.fetchall()))
    return plans


@pytest.mark.sqlite
def test_sqlite_reads_a_search_from_the_full_text_index(leads, monkeypatch):
    fts = "distribution_lead_search VIRTUAL TABLE INDEX"
    assert fts in plan(search.lead_page("example", size=26))
    assert any(fts in p for p in plans_of(lambda: list(selectors.contact_list(lead="martin"))))
    # A common search is checked row by row as the contacts are walked newest first.
    monkeypatch.setattr(search, "SELECTIVE", 0)
    walked = plan(selectors.contact_list(lead="example")[:25])
    assert "SCAN distribution_contact USING INDEX contact_newest" in walked


@pytest.mark.sqlite
def test_sqlite_reads_a_short_search_from_the_unique_index_on_the_key(leads, monkeypatch):
    unique = "USING COVERING INDEX sqlite_autoindex_distribution_lead"
    assert any(unique in p for p in plans_of(lambda: list(selectors.lead_search("al"))))
    monkeypatch.setattr(search, "SELECTIVE", 0)
    walked = plan(selectors.lead_search("al")[:26])
    assert "SCAN distribution_lead" in walked and "TEMP B-TREE" not in walked


@pytest.mark.sqlite
def test_the_search_index_is_kept_by_triggers_after_every_migration(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        triggers = [row[0] for row in cursor.fetchall()]
    assert triggers == [
        "distribution_lead_search_delete",
        "distribution_lead_search_insert",
        "distribution_lead_search_update",
    ]


@pytest.mark.postgres
def test_postgres_reads_the_search_from_the_trigram_indexes(leads):
    # Unordered: with a few rows, walking the primary key backwards wins any ordered plan.
    assert "lead_identifier_key_trgm" in plan(selectors.lead_search("example").order_by())
    with_names = plan(Lead.objects.filter(search.lead_filter("martin", names=True)))
    assert "lead_identifier_key_trgm" in with_names and "lead_name_trgm" in with_names


@pytest.mark.postgres
def test_postgres_reads_a_short_search_from_the_pattern_index_on_the_key(leads):
    assert "_like on distribution_lead" in plan(selectors.lead_search("al").order_by())


def test_registering_through_the_services_is_searchable_at_once(make_source):
    services.contact_register(
        lead_identifier=" New.Customer@Example.com ", source_id=make_source().pk
    )
    assert found("customer@") == ["New.Customer@Example.com"]
