"""The pages a history makes long (leads, a lead, a contact, /my/, a fairness report) issue
the same queries with 10 contacts as with 1,000: what they read is bounded by the page,
never by the history (the timings are in bench/)."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from distribution import selectors, services
from distribution.models import Contact, Lead
from distribution.selectors import Cursor
from tests.views_support import as_operator, as_supervisor, queries_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_operator, make_source):
    ann = make_operator("Ann", limit=100_000)
    return {"ann": ann, "source": make_source("Bot", weights={ann: 1})}


def grow(world, register, until: int) -> None:
    """Contacts up to `until`: a third of them from one lead (eve), the others from new
    leads, every other one closed."""
    n = Contact.objects.count()
    while n < until:
        n += 1
        identifier = "eve@example.com" if n % 3 == 0 else f"lead{n}@example.com"
        contact = register(world["source"], identifier)
        if n % 2:
            services.contact_close(contact_id=contact.pk)


def pages(world) -> dict[str, str]:
    eve = Lead.objects.get(identifier_key="eve@example.com")
    oldest = Lead.objects.order_by("pk").values_list("pk", flat=True)[5]
    # A place in eve's history with contacts on both sides of it.
    middle = str(Cursor.of(selectors.lead_contacts(eve)[1]))
    return {
        "leads": "/leads/",
        "leads, a search": "/leads/?search=example",
        "leads, a short search": "/leads/?search=le",
        "leads, an older page": f"/leads/?before={oldest}",
        "a lead": f"/leads/{eve.pk}/",
        "a lead, an older page": f"/leads/{eve.pk}/?after={middle}",
        "a lead, a page back": f"/leads/{eve.pk}/?before={middle}",
        "a lead, its oldest page": f"/leads/{eve.pk}/?last=1",
        "a contact": f"/contacts/{Contact.objects.filter(lead=eve).latest('pk').pk}/",
        "fairness": f"/sources/{world['source'].pk}/fairness/",
    }


def test_pages_issue_the_same_queries_with_10_and_1000_contacts(world, register):
    supervisor = as_supervisor(Client())
    operator = as_operator(Client(), world["ann"])

    def counts() -> dict[str, int]:
        measured = {
            name: queries_for(lambda url=url: supervisor.get(url))
            for name, url in pages(world).items()
        }
        measured["/my/"] = queries_for(lambda: operator.get("/my/"))
        return measured

    grow(world, register, 10)
    few = counts()
    grow(world, register, 1000)
    assert counts() == few


def test_a_leads_history_is_paged_without_skipping_rows(world, register):
    grow(world, register, 100)
    supervisor = as_supervisor(Client())
    for name, url in pages(world).items():
        if not name.startswith("a lead"):
            continue
        with CaptureQueriesContext(connection) as captured:
            assert supervisor.get(url).status_code == 200
        assert not any(" OFFSET " in q["sql"].upper() for q in captured.captured_queries), name
