"""/contacts/ and /contacts/new/: filters, paging, closing, reassigning, registering."""

import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains

from distribution import search, selectors, services
from distribution.models import Contact, Lead
from tests.history_support import add_history
from tests.views_support import HTMX, as_supervisor, is_fragment, queries_for


@pytest.fixture
def supervisor_client(client, db):
    return as_supervisor(client)


def listed_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="contact-(\d+)"', html)]


def close_url(contact) -> str:
    return reverse("distribution:contact_close", args=[contact.pk])


def reopen_url(contact) -> str:
    return reverse("distribution:contact_reopen", args=[contact.pk])


def reassign_url(contact) -> str:
    return reverse("distribution:contact_reassign", args=[contact.pk])


@pytest.fixture
def two_sources(make_operator, make_source, register):
    ann, bob = make_operator("Ann", limit=1), make_operator("Bob", limit=5)
    bot = make_source("Bot", weights={ann: 1})
    ads = make_source("Ads", weights={bob: 1})
    contacts = {
        "to_ann": register(bot),
        "queued": register(bot),
        "to_bob": register(ads),
        "closed": register(ads),
    }
    services.contact_close(contact_id=contacts["closed"].pk)
    return {"ann": ann, "bob": bob, "bot": bot, "ads": ads, **contacts}


def test_list_shows_newest_first_with_queued_marked(supervisor_client, two_sources):
    html = supervisor_client.get("/contacts/").content.decode()
    c = two_sources
    assert listed_ids(html) == [c["closed"].pk, c["to_bob"].pk, c["queued"].pk, c["to_ann"].pk]
    assert f'<tr id="contact-{c["queued"].pk}" class="is-queued">' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"source": "bot"}, ["queued", "to_ann"]),
        ({"operator": "bob"}, ["closed", "to_bob"]),
        ({"status": "closed"}, ["closed"]),
        ({"status": "open", "source": "ads"}, ["to_bob"]),
        ({"unassigned": "on"}, ["queued"]),
    ],
)
def test_filters_narrow_the_list(supervisor_client, two_sources, query, expected):
    params = {
        key: two_sources[value].pk if key in {"source", "operator"} else value
        for key, value in query.items()
    }
    html = supervisor_client.get("/contacts/", params).content.decode()
    assert listed_ids(html) == [two_sources[name].pk for name in expected]


def test_a_filter_change_by_htmx_gets_only_the_list(supervisor_client, two_sources):
    response = supervisor_client.get("/contacts/", {"status": "closed"}, **HTMX)
    assert is_fragment(response)
    assert response.content.decode().strip().startswith('<section class="card" id="contact-list"')
    assert listed_ids(response.content.decode()) == [two_sources["closed"].pk]
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_nonsense_filters_are_ignored(supervisor_client, two_sources):
    html = supervisor_client.get("/contacts/", {"source": "x", "status": "??"}).content.decode()
    assert len(listed_ids(html)) == 4


def link(html: str, text: str) -> str | None:
    """The href of the pager's link whose text contains `text`, unescaped, or None."""
    for href, label in re.findall(r'<a href="(\?[^"]*)"[^>]*>([^<]*)</a>', html):
        if text in label:
            return href.replace("&amp;", "&")
    return None


def test_the_list_is_paged_newest_first_by_keyset_with_the_total(
    supervisor_client, make_source, register
):
    source = make_source()
    newest_first = [c.pk for c in reversed([register(source) for _ in range(60)])]

    first = supervisor_client.get("/contacts/").content.decode()
    assert listed_ids(first) == newest_first[:25]
    assert link(first, "Newer") is None and link(first, "Newest") is None
    assert "60 in all" in first

    second = supervisor_client.get("/contacts/" + link(first, "Older")).content.decode()
    assert listed_ids(second) == newest_first[25:50]
    assert "60 in all" in second

    back = supervisor_client.get("/contacts/" + link(second, "Newer")).content.decode()
    assert listed_ids(back) == newest_first[:25]
    assert link(back, "Newer") is None  # the first page again: nothing newer

    oldest = supervisor_client.get("/contacts/" + link(second, "Oldest")).content.decode()
    assert listed_ids(oldest) == newest_first[35:]
    assert link(oldest, "Older") is None and link(oldest, "Oldest") is None
    before_oldest = supervisor_client.get("/contacts/" + link(oldest, "Newer")).content.decode()
    assert listed_ids(before_oldest) == newest_first[10:35]
    assert (
        listed_ids(supervisor_client.get("/contacts/" + link(oldest, "Newest")).content.decode())
        == newest_first[:25]
    )


def test_paging_keeps_the_filters_and_the_rows_of_the_same_moment_apart(
    supervisor_client, make_source, register
):
    bot, ads = make_source("Bot"), make_source("Ads")
    # All at one moment: the id keeps them in order across the pages.
    with time_machine.travel(timezone.now(), tick=False):
        mine = [register(bot) for _ in range(30)]
        for _ in range(10):
            register(ads)
    newest_first = [c.pk for c in reversed(mine)]

    first = supervisor_client.get("/contacts/", {"source": bot.pk}).content.decode()
    older = link(first, "Older")
    assert f"source={bot.pk}" in older
    second = supervisor_client.get("/contacts/" + older).content.decode()
    assert listed_ids(first) + listed_ids(second) == newest_first
    assert "30 in all" in second


def test_the_queue_is_paged_oldest_first_with_the_words_turned_round(
    supervisor_client, make_source, register
):
    source = make_source()  # no weights: everything waits
    oldest_first = [register(source).pk for _ in range(30)]

    first = supervisor_client.get("/contacts/", {"view": "queue"}).content.decode()
    assert listed_ids(first) == oldest_first[:25]
    newer = link(first, "Newer")
    assert "view=queue" in newer and link(first, "Older") is None
    second = supervisor_client.get("/contacts/" + newer).content.decode()
    assert listed_ids(second) == oldest_first[25:]
    assert link(second, "Oldest") is not None and link(second, "Newest") is None


def test_the_pager_links_swap_the_list_in_place_with_htmx(supervisor_client, make_source, register):
    source = make_source()
    for _ in range(30):
        register(source)
    first = supervisor_client.get("/contacts/").content.decode()
    older = link(first, "Older")
    assert f'hx-get="{older.replace("&", "&amp;")}"' in first

    response = supervisor_client.get("/contacts/" + older, **HTMX)

    assert is_fragment(response)
    assert len(listed_ids(response.content.decode())) == 5


@pytest.mark.parametrize(
    "query",
    [
        {"after": "garbage"},
        {"before": "12-0"},
        {"after": "9999999999999999999-1"},  # beyond the calendar
        {"after": "1-9999999999999999999"},  # beyond any id
        {"before": "1-01"},
        {"after": "1-1", "before": "1-1"},
        {"last": "yes"},
    ],
)
def test_a_page_link_that_is_not_one_shows_the_first_page_and_says_so(
    supervisor_client, make_source, register, query
):
    source = make_source()
    newest_first = [c.pk for c in reversed([register(source) for _ in range(30)])]

    response = supervisor_client.get("/contacts/", query)

    assert response.status_code == 200
    html = response.content.decode()
    assert listed_ids(html) == newest_first[:25]
    assert "That page link is not valid (any more): this is the first page." in html


def test_a_cursor_past_the_end_shows_an_empty_page_with_the_way_back(
    supervisor_client, make_source, register
):
    source = make_source()
    contacts = [register(source) for _ in range(3)]
    cursor = selectors.Cursor.of(contacts[0])  # the oldest: nothing is older

    html = supervisor_client.get("/contacts/", {"after": str(cursor)}).content.decode()

    assert listed_ids(html) == []
    assert "No contacts match these filters." in html
    assert link(html, "Newest") is not None


def test_closing_in_place_returns_its_row_greyed_with_the_news_and_a_reopen_button(
    supervisor_client, two_sources
):
    c = two_sources
    response = supervisor_client.post(
        close_url(c["to_ann"]) + "?source=" + str(c["bot"].pk), **HTMX
    )
    assert response.status_code == 200
    assert is_fragment(response)
    html = response.content.decode()
    # Its own row comes back, and out of band the row of the queued contact that took its
    # slot (both where they were: the rows do not move).
    assert listed_ids(html) == [c["to_ann"].pk, c["queued"].pk]
    assert f'<tr id="contact-{c["queued"].pk}" class="" hx-swap-oob="true">' in html
    assert f'<tr id="contact-{c["to_ann"].pk}" class="is-closed">' in html
    assert (
        f'<p class="row-notice" role="status">Closed #{c["to_ann"].pk}; '
        f"its slot went to #{c['queued'].pk}.</p>"
    ) in html
    assert reopen_url(c["to_ann"]) in html and close_url(c["to_ann"]) not in html
    assert Contact.objects.get(pk=c["to_ann"].pk).status == Contact.Status.CLOSED
    assert Contact.objects.get(pk=c["queued"].pk).operator_id == c["ann"].pk


def test_a_second_close_of_the_same_row_says_it_was_already_closed(supervisor_client, two_sources):
    response = supervisor_client.post(close_url(two_sources["closed"]), **HTMX)
    assert response.status_code == 200
    assert "was already closed" in response.content.decode()


def test_closing_without_javascript_redirects_to_the_same_filtered_list(
    supervisor_client, two_sources
):
    response = supervisor_client.post(close_url(two_sources["to_bob"]) + "?status=open&page=1")
    assert response.status_code == 302
    assert response["Location"] == "/contacts/?status=open&page=1"
    assert Contact.objects.get(pk=two_sources["to_bob"].pk).status == Contact.Status.CLOSED


def test_closing_an_unknown_contact_is_404(supervisor_client, db):
    assert supervisor_client.post("/contacts/999/close/").status_code == 404


def test_reassigning_by_hand_moves_the_contact(supervisor_client, two_sources):
    c = two_sources
    response = supervisor_client.post(reassign_url(c["to_ann"]), {"operator": c["bob"].pk}, **HTMX)
    assert response.status_code == 200
    assert is_fragment(response)
    assert Contact.objects.get(pk=c["to_ann"].pk).operator_id == c["bob"].pk
    # Ann's freed slot went to the contact waiting for her source.
    assert Contact.objects.get(pk=c["queued"].pk).operator_id == c["ann"].pk


def test_the_reassign_select_lists_active_operators_with_their_load(
    supervisor_client, two_sources, make_operator
):
    make_operator("Zed", active=False)
    response = supervisor_client.get("/contacts/")
    html = response.content.decode()
    select_id = f"id_contact{two_sources['to_bob'].pk}_operator"
    select = re.search(rf'<select name="operator" [^>]*id="{select_id}".*?</select>', html, re.S)
    select = select.group(0)
    assert "Ann (1/1)" in select and "Bob (1/5)" in select and "Zed" not in select
    label = f'<label for="id_contact{two_sources["to_bob"].pk}_operator">Reassign to</label>'
    assertContains(response, label, html=True)


def test_reassigning_to_an_operator_at_the_limit_shows_the_error_and_changes_nothing(
    supervisor_client, two_sources
):
    c = two_sources
    response = supervisor_client.post(reassign_url(c["to_bob"]), {"operator": c["ann"].pk}, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="id_contact{c["to_bob"].pk}_operator_error"' in html
    assert "at the limit" in html
    assert Contact.objects.get(pk=c["to_bob"].pk).operator_id == c["bob"].pk


@pytest.mark.parametrize("operator", ["", "999", "nobody"])
def test_reassigning_to_no_or_an_unknown_operator_changes_nothing(
    supervisor_client, two_sources, operator
):
    c = two_sources
    response = supervisor_client.post(reassign_url(c["to_bob"]), {"operator": operator})
    assert response.status_code == 422
    assert f'id="id_contact{c["to_bob"].pk}_operator_error"' in response.content.decode()
    assert Contact.objects.get(pk=c["to_bob"].pk).operator_id == c["bob"].pk


def test_reassigning_to_an_operator_deactivated_meanwhile_says_so(supervisor_client, two_sources):
    # The page was loaded while Ann was active; she was deactivated before the submit.
    c = two_sources
    services.operator_update(operator_id=c["ann"].pk, is_active=False)
    response = supervisor_client.post(reassign_url(c["to_bob"]), {"operator": c["ann"].pk})
    assert response.status_code == 422
    assert "This operator is inactive or no longer exists" in response.content.decode()
    assert Contact.objects.get(pk=c["to_bob"].pk).operator_id == c["bob"].pk


def test_a_closed_contact_cannot_be_reassigned(supervisor_client, two_sources):
    c = two_sources
    response = supervisor_client.post(reassign_url(c["closed"]), {"operator": c["bob"].pk})
    assert response.status_code == 422
    assert "A closed contact cannot be reassigned." in response.content.decode()
    assert Contact.objects.get(pk=c["closed"].pk).operator_id == c["bob"].pk


def test_list_issues_the_same_queries_for_few_and_many_contacts(
    supervisor_client, make_operator, make_source, register
):
    def grow(n):
        operators = [make_operator(limit=n) for _ in range(3)]
        source = make_source(weights={op: 1 for op in operators})
        for _ in range(n):
            register(source)
            register(make_source())  # queued

    grow(2)
    few = queries_for(lambda: supervisor_client.get("/contacts/"))
    grow(15)
    many = queries_for(lambda: supervisor_client.get("/contacts/"))
    assert few == many


# --- /contacts/new/ -------------------------------------------------------------------


def test_the_form_has_a_visible_label_for_every_field(supervisor_client, db):
    html = supervisor_client.get("/contacts/new/").content.decode()
    for field in ("lead_identifier", "lead_name", "source", "message"):
        assert f'<label for="id_{field}">' in html


def test_registering_says_who_got_the_contact(supervisor_client, make_operator, make_source):
    ann = make_operator("Ann")
    source = make_source("Bot", weights={ann: 1})
    response = supervisor_client.post(
        "/contacts/new/",
        {"lead_identifier": " Eve@Example.com ", "lead_name": "Eve", "source": source.pk},
    )
    contact = Contact.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/contacts/new/?registered={contact.pk}"
    html = supervisor_client.get(response["Location"]).content.decode()
    assert 'was assigned to <strong class="assignee">Ann</strong>' in html
    assert contact.lead.identifier == "Eve@Example.com" and contact.operator_id == ann.pk


def test_registering_without_room_says_the_contact_is_queued(supervisor_client, make_source):
    source = make_source("Bot")
    response = supervisor_client.post(
        "/contacts/new/", {"lead_identifier": "eve@example.com", "source": source.pk}, follow=True
    )
    assert 'is <strong class="assignee">queued</strong>' in response.content.decode()
    assert Contact.objects.get().operator_id is None


@pytest.mark.parametrize("identifier", ["ß" * 255, "ΐ" * 255])
def test_an_identifier_that_grows_when_case_folded_is_registered(
    supervisor_client, make_source, identifier
):
    # "ß" folds to "ss" and "ΐ" to three characters: the key is longer than the identifier.
    source = make_source()
    response = supervisor_client.post(
        "/contacts/new/", {"lead_identifier": identifier, "source": source.pk}
    )
    assert response.status_code == 302
    lead = Lead.objects.get()
    assert lead.identifier == identifier
    assert lead.identifier_key == identifier.casefold()
    assert len(lead.identifier_key) <= Lead._meta.get_field("identifier_key").max_length


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"lead_identifier": "   ", "source": "SOURCE"}, "lead_identifier"),
        ({"lead_identifier": "x" * 256, "source": "SOURCE"}, "lead_identifier"),
        ({"lead_identifier": "eve@example.com"}, "source"),
        ({"lead_identifier": "eve@example.com", "source": "999"}, "source"),
    ],
)
def test_bad_input_shows_the_error_next_to_the_field_and_registers_nothing(
    supervisor_client, make_source, data, field
):
    source = make_source()
    data = {k: source.pk if v == "SOURCE" else v for k, v in data.items()}
    response = supervisor_client.post("/contacts/new/", data)
    assert response.status_code == 422
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Contact.objects.exists() and not Lead.objects.exists()


def test_an_identifier_of_invisible_characters_is_a_form_error(
    supervisor_client, make_operator, make_source
):
    source = make_source(weights={make_operator(): 1})

    response = supervisor_client.post(
        "/contacts/new/", {"lead_identifier": "\u200b\ufeff", "source": source.pk}
    )

    assert response.status_code == 422
    assert not Contact.objects.exists()


# --- reopening ----------------------------------------------------------------------


def test_reopening_in_place_returns_the_open_row_saying_where_it_went(
    supervisor_client, two_sources
):
    c = two_sources
    response = supervisor_client.post(reopen_url(c["closed"]), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert listed_ids(html) == [c["closed"].pk]
    assert f"Reopened #{c['closed'].pk}: assigned to Bob." in html
    assert close_url(c["closed"]) in html
    contact = Contact.objects.get(pk=c["closed"].pk)
    assert contact.is_open and contact.operator_id == c["bob"].pk
    assert contact.events.get(kind="reopened").actor_name == "boss"


def test_reopening_an_open_contact_is_a_422_said_in_its_row(supervisor_client, two_sources):
    response = supervisor_client.post(reopen_url(two_sources["to_bob"]), **HTMX)
    assert response.status_code == 422
    assert "only a closed contact can be reopened" in response.content.decode()
    assert (
        not Contact.objects.get(pk=two_sources["to_bob"].pk).events.filter(kind="reopened").exists()
    )


def test_reopening_without_javascript_redirects_and_an_unknown_contact_is_404(
    supervisor_client, two_sources
):
    response = supervisor_client.post(reopen_url(two_sources["closed"]) + "?status=closed")
    assert response.status_code == 302
    assert response["Location"] == "/contacts/?status=closed"
    assert supervisor_client.post("/contacts/999/reopen/").status_code == 404
    assert supervisor_client.get(reopen_url(two_sources["closed"])).status_code == 405


# --- search, the queue ---------------------------------------------------


def test_search_by_lead_identifier_or_name_combines_with_the_filters(
    supervisor_client, make_source, register
):
    bot, ads = make_source("Bot"), make_source("Ads")
    eve_bot = register(bot, "Eve.Stone@Example.com")
    eve_ads = register(ads, "eve.stone@example.com")
    named = register(bot, "+1 555 0100", lead_name="Evelyn Park")
    register(bot, "adam@example.com")

    def found(**params):
        return listed_ids(supervisor_client.get("/contacts/", params).content.decode())

    assert found(lead="EVE.STONE") == [eve_ads.pk, eve_bot.pk]
    assert found(lead="eve", source=bot.pk) == [named.pk, eve_bot.pk]
    assert found(lead="park") == [named.pk]
    assert found(lead="nobody") == []


def test_a_lead_search_too_long_is_ignored_and_the_other_filters_kept(
    supervisor_client, two_sources
):
    response = supervisor_client.get("/contacts/", {"lead": "x" * 300, "status": "closed"})
    assert response.status_code == 200
    assert listed_ids(response.content.decode()) == [two_sources["closed"].pk]


def test_the_queue_view_lists_queued_contacts_oldest_first_with_their_wait(
    supervisor_client, make_source, register, two_sources
):
    later = register(two_sources["bot"])
    response = supervisor_client.get("/contacts/", {"view": "queue"})
    html = response.content.decode()
    assert listed_ids(html) == [two_sources["queued"].pk, later.pk]
    assert html.count('<div class="waited">waiting ') == 2


# --- bulk actions ---------------------------------------------------------------------


def bulk(client, action, contacts, **data):
    ids = [c.pk if hasattr(c, "pk") else c for c in contacts]
    return client.post(
        reverse("distribution:contact_bulk"), {"action": action, "contacts": ids, **data}, **HTMX
    )


def test_bulk_close_reports_what_it_closed_and_what_was_closed_already(
    supervisor_client, two_sources
):
    c = two_sources
    response = bulk(
        supervisor_client, "close", [c["to_ann"], c["to_bob"], c["closed"]], outcome="won"
    )
    assert response.status_code == 200
    assert is_fragment(response)
    assert f"2 closed; #{c['closed'].pk} was already closed." in response.content.decode()
    assert Contact.objects.get(pk=c["to_bob"].pk).outcome == "won"


def test_bulk_reassign_reports_the_refused_rows(supervisor_client, make_operator, two_sources):
    c = two_sources
    chen = make_operator("Chen", limit=2)
    extra = services.contact_reassign(contact_id=c["to_bob"].pk, operator_id=chen.pk)
    response = bulk(
        supervisor_client,
        "reassign",
        [c["to_ann"], c["queued"], extra],
        operator=chen.pk,
    )
    html = response.content.decode()
    assert response.status_code == 200
    # In ascending id: to_ann fits, the queued one finds Chen at the limit, and the
    # last one was Chen's already.
    assert (
        f"1 reassigned to Chen; #{c['queued'].pk} refused: Chen is at the limit (2); "
        f"#{extra.pk} is already with this operator." in html
    )
    assert Contact.objects.filter(operator=chen).count() == 2


def test_bulk_return_to_queue_routes_them_again(supervisor_client, two_sources):
    c = two_sources
    response = bulk(supervisor_client, "requeue", [c["to_bob"], c["queued"]])
    assert f"1 returned to the queue; #{c['queued'].pk} is already in the queue." in (
        response.content.decode()
    )
    # Bob is the only one for Ads, with room: it is his again at once.
    assert Contact.objects.get(pk=c["to_bob"].pk).operator_id == c["bob"].pk


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"action": "close"}, "Select at least one contact."),
        ({"action": "close", "contacts": ["1_0"]}, "not a contact"),
        ({"action": "reassign", "contacts": ["1"]}, "Choose the operator"),
        ({"action": "explode", "contacts": ["1"]}, "Select a valid choice"),
        ({"action": "close", "contacts": ["1"], "outcome": "maybe"}, "Select a valid choice"),
    ],
)
def test_a_bad_bulk_request_is_a_422_with_the_error_and_changes_nothing(
    supervisor_client, two_sources, data, error
):
    response = supervisor_client.post(reverse("distribution:contact_bulk"), data, **HTMX)
    assert response.status_code == 422
    assert error in response.content.decode()
    assert Contact.objects.filter(status="closed").count() == 1


def test_bulk_without_javascript_redirects_with_the_report(supervisor_client, two_sources):
    response = supervisor_client.post(
        reverse("distribution:contact_bulk") + "?status=open",
        {"action": "close", "contacts": [two_sources["to_bob"].pk]},
        follow=True,
    )
    assert response.redirect_chain == [("/contacts/?status=open", 302)]
    assert "1 closed." in response.content.decode()


def test_with_a_lead_search_the_total_is_counted_up_to_a_cap(
    supervisor_client, make_operator, make_source, register
):
    source = make_source()
    register(source, "eve@example.com")
    register(source, "EVE@example.com")
    add_history(source, [make_operator()], 1002)  # leads past0@example.com...

    few = supervisor_client.get("/contacts/", {"lead": "eve"}).content.decode()
    many = supervisor_client.get("/contacts/", {"lead": "past"}).content.decode()

    assert "2 in all" in few
    assert "More than 500 in all" in many


def walk(client, url: str, text: str) -> tuple[list[int], int]:
    """The contacts of every page from `url` on, following its `text` link ("Older",
    "Newer") to the end, and how many pages that took."""
    ids, pages, html = [], 0, client.get(url).content.decode()
    while True:
        ids, pages = ids + listed_ids(html), pages + 1
        href = link(html, text)
        if href is None:
            return ids, pages
        html = client.get("/contacts/" + href).content.decode()


@pytest.mark.parametrize("params", ["", "&status=closed"])
def test_a_broad_lead_search_reads_a_window_a_page_and_misses_nothing(
    supervisor_client, make_operator, make_source, monkeypatch, params
):
    """A search that finds more than search.SELECTIVE leads reads at most SEARCH_WINDOW
    contacts a page (here 8 of 60): a page may end short, says so, and its links go on
    from where it stopped; walked to either end, it lists what the whole search finds."""
    add_history(make_source(), [make_operator()], 60)  # past1 and past10-19: 22 contacts
    exact = [c.pk for c in selectors.contact_list(lead="past1")]
    assert len(exact) == 22
    monkeypatch.setattr(search, "SELECTIVE", 0)
    monkeypatch.setattr(selectors, "SEARCH_WINDOW", 8)

    first = supervisor_client.get(f"/contacts/?lead=past1{params}").content.decode()
    assert listed_ids(first) == []  # The newest 8 contacts are of other leads.
    assert "The lead search read 8 contacts for this page" in first
    assert "At least 0 in all" in first

    older, pages = walk(supervisor_client, f"/contacts/?lead=past1{params}", "Older")
    assert older == exact
    assert pages <= 60 // 8 + 1
    newer, _ = walk(supervisor_client, f"/contacts/?lead=past1{params}&last=1", "Newer")
    assert sorted(newer) == sorted(exact) and len(newer) == len(exact)


def test_a_broad_lead_search_that_fills_its_pages_reads_as_before(
    supervisor_client, make_operator, make_source, monkeypatch
):
    add_history(make_source(), [make_operator()], 60)
    monkeypatch.setattr(search, "SELECTIVE", 0)
    monkeypatch.setattr(selectors, "SEARCH_WINDOW", 30)
    html = supervisor_client.get("/contacts/?lead=example").content.decode()
    assert listed_ids(html) == [c.pk for c in selectors.contact_list()[:25]]
    assert "The lead search read" not in html
    # Counted within the window: 30 contacts, all of them matches.
    assert "At least 30 in all" in html
