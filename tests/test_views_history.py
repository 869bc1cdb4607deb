"""Pages flat in history: the dashboard, the sources, a source's page and the contacts list
(first, deep and last pages, each filter) issue the same queries with 10 contacts and with
1,000, count contacts from the tallies, and page without OFFSET."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from distribution import search, selectors, services
from distribution.models import Contact
from tests.history_support import add_history
from tests.views_support import HTMX, as_supervisor


@pytest.fixture
def supervisor_client(client, db):
    return as_supervisor(client)


def pages(world) -> dict[str, tuple[str, dict]]:
    ann, web = world["ann"], world["web"]
    newest = list(Contact.objects.order_by("-created_at", "-id")[:8])
    deep = selectors.Cursor.of(newest[4])
    return {
        "dashboard": ("/", {}),
        "live numbers": ("/dashboard/live/", HTMX),
        "sources": ("/sources/", {}),
        "a source": (f"/sources/{web.pk}/", {}),
        "contacts": ("/contacts/", {}),
        "contacts by source": (f"/contacts/?source={web.pk}", {}),
        "contacts by operator": (f"/contacts/?operator={ann.pk}", {}),
        "open contacts": ("/contacts/?status=open", {}),
        "closed contacts": ("/contacts/?status=closed", {}),
        "queued contacts": ("/contacts/?unassigned=on", {}),
        "the queue": ("/contacts/?view=queue", {}),
        "all filters": (f"/contacts/?source={web.pk}&operator={ann.pk}&status=closed", {}),
        "a deep page": (f"/contacts/?after={deep}", {}),
        "a page back": (f"/contacts/?before={deep}", {}),
        "the last page": ("/contacts/?last=1", {}),
        "the list by htmx": (f"/contacts/?after={deep}", HTMX),
    }


def measure(client, world) -> dict[str, list[str]]:
    measured = {}
    for name, (url, headers) in pages(world).items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, **headers)
        assert response.status_code == 200, name
        measured[name] = [q["sql"] for q in captured.captured_queries]
    return measured


@pytest.fixture
def world(make_operator, make_source, register, rng):
    ann, bob = make_operator("Ann", limit=3), make_operator("Bob", limit=3)
    web = make_source("Web", weights={ann: 1, bob: 1})
    contacts = [register(web) for _ in range(10)]  # four of them wait in the queue
    for contact in contacts[:3]:
        services.contact_close(contact_id=contact.pk, rng=rng)
    return {"ann": ann, "bob": bob, "web": web}


def test_every_page_issues_the_same_queries_with_10_and_1000_contacts(supervisor_client, world):
    few = measure(supervisor_client, world)
    add_history(world["web"], [world["ann"], world["bob"]], 990)
    assert Contact.objects.count() == 1000

    many = measure(supervisor_client, world)

    assert {name: len(sql) for name, sql in few.items()} == {
        name: len(sql) for name, sql in many.items()
    }


def test_the_contacts_list_counts_from_the_tallies_and_never_skips_rows(supervisor_client, world):
    add_history(world["web"], [world["ann"], world["bob"]], 100)
    lists = {name: sql for name, sql in measure(supervisor_client, world).items()}
    lists = {k: v for k, v in lists.items() if pages(world)[k][0].startswith("/contacts/")}

    assert len(lists) == 12
    for name, queries in lists.items():
        for sql in queries:
            assert " OFFSET " not in sql.upper(), name
            # (An operator's load in the reassign menu is a subquery over open contacts.)
            assert not sql.startswith("SELECT COUNT("), name
        assert any("distribution_contacttally" in sql for sql in queries), name


def test_a_broad_lead_search_issues_the_same_queries_with_10_and_1000_contacts(
    supervisor_client, world, monkeypatch
):
    """A search that finds more than search.SELECTIVE leads is read a window of contacts
    at a time (selectors.SEARCH_WINDOW): its pages cost the same queries at any size."""
    monkeypatch.setattr(search, "SELECTIVE", 0)
    monkeypatch.setattr(selectors, "SEARCH_WINDOW", 5)

    def measure_search() -> dict[str, int]:
        deep = selectors.Cursor.of(Contact.objects.order_by("-created_at", "-id")[4])
        urls = {
            "first page": "/contacts/?lead=example",
            "a deep page": f"/contacts/?lead=example&after={deep}",
            "a page back": f"/contacts/?lead=example&before={deep}",
            "the last page": "/contacts/?lead=example&last=1",
            "none in the window": "/contacts/?lead=nobody.example",
        }
        measured = {}
        for name, url in urls.items():
            with CaptureQueriesContext(connection) as captured:
                assert supervisor_client.get(url).status_code == 200
            measured[name] = len(captured.captured_queries)
        return measured

    few = measure_search()
    add_history(world["web"], [world["ann"], world["bob"]], 990)
    assert measure_search() == few
