"""/leads/ and /leads/<id>/: searching customers and one customer's contacts over time."""

import re

import pytest
from pytest_django.asserts import assertContains

from distribution import selectors, services
from tests.views_support import HTMX, as_supervisor, is_fragment, queries_for


@pytest.fixture
def supervisor_client(client, db):
    return as_supervisor(client)


def listed_leads(html: str) -> list[str]:
    return re.findall(r'<a href="/leads/\d+/">([^<]+)</a>', html)


def test_list_shows_leads_newest_first_with_their_contact_counts(
    supervisor_client, make_source, register
):
    source = make_source()
    register(source, "old@example.com")
    register(source, "new@example.com")
    register(source, "NEW@example.com ")
    response = supervisor_client.get("/leads/")
    html = response.content.decode()
    assert listed_leads(html) == ["new@example.com", "old@example.com"]
    assertContains(response, '<td data-label="Contacts" class="num">2</td>', html=True)


def test_search_matches_part_of_the_identifier_in_any_case(
    supervisor_client, make_source, register
):
    source = make_source()
    register(source, "alice@example.com")
    register(source, "bob@example.com")
    html = supervisor_client.get("/leads/", {"search": "  ALI "}).content.decode()
    assert listed_leads(html) == ["alice@example.com"]
    assert 'value="  ALI "' in html  # The search box keeps what was typed.


def test_search_finds_a_phone_number_written_another_way(supervisor_client, make_source, register):
    source = make_source()
    register(source, "+447700918827")
    register(source, "bob@example.com")
    html = supervisor_client.get("/leads/", {"search": "0044 7700 918 827"}).content.decode()
    assert listed_leads(html) == ["+447700918827"]


def test_a_search_without_results_says_so(supervisor_client, db):
    html = supervisor_client.get("/leads/", {"search": "zzz"}).content.decode()
    assert "No lead matches “zzz”." in html


def test_search_by_htmx_gets_only_the_list(supervisor_client, make_source, register):
    register(make_source(), "alice@example.com")
    response = supervisor_client.get("/leads/", {"search": "ali"}, **HTMX)
    assert is_fragment(response)
    assert response.content.decode().strip().startswith('<section class="card" id="lead-list"')


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_a_search_longer_than_the_field_shows_the_error_and_lists_no_lead(
    supervisor_client, make_source, register, headers
):
    register(make_source(), "alice@example.com")
    response = supervisor_client.get("/leads/", {"search": "a" * 256}, **headers)
    assert response.status_code == 422
    assert is_fragment(response) == bool(headers)
    # htmx swaps the list only: the errors replace those under the search box out of band.
    out_of_band = ' hx-swap-oob="true"' if headers else ""
    assertContains(
        response,
        f'<div id="search-errors" data-field-errors{out_of_band}><div class="errorlist"'
        ' id="id_search_error" role="alert"><ul><li>Ensure this value has at most 255'
        " characters (it has 256).</li></ul></div></div>",
        count=1,
        status_code=422,
        html=True,
    )
    html = response.content.decode()
    assert listed_leads(html) == []
    assert "Correct the search to list leads." in html


def test_a_valid_search_by_htmx_clears_an_earlier_error(supervisor_client, db):
    response = supervisor_client.get("/leads/", {"search": "ali"}, **HTMX)
    assertContains(
        response, '<div id="search-errors" data-field-errors hx-swap-oob="true"></div>', html=True
    )


def pager_links(html: str) -> dict[str, str]:
    """The pager's links by their words ("Newer", "Older", "Newest"): href, unescaped."""
    links = re.findall(r'<a href="([^"]*)" hx-get="[^"]*" hx-push-url="true">([^<]*)</a>', html)
    return {
        text.replace("&larr;", "").replace("&rarr;", "").strip(): "/leads/"
        + href.replace("&amp;", "&")
        for href, text in links
    }


def test_the_list_is_paged_by_older_and_newer_links(supervisor_client, make_source, register):
    source = make_source()
    for i in range(30):
        register(source, f"lead{i:02d}@example.com")
    first = supervisor_client.get("/leads/").content.decode()
    assert listed_leads(first) == [f"lead{i:02d}@example.com" for i in range(29, 4, -1)]
    assert "30 leads in all" in first
    links = pager_links(first)
    assert set(links) == {"Older"}

    second = supervisor_client.get(links["Older"]).content.decode()
    assert listed_leads(second) == [f"lead{i:02d}@example.com" for i in range(4, -1, -1)]
    links = pager_links(second)
    assert set(links) == {"Newer"}

    back = supervisor_client.get(links["Newer"], **HTMX)
    assert is_fragment(back)
    assert listed_leads(back.content.decode()) == listed_leads(first)


def test_a_search_is_paged_and_counted(supervisor_client, make_source, register):
    source = make_source()
    for i in range(27):
        register(source, f"match{i:02d}@example.com")
        register(source, f"other{i:02d}@example.org")
    first = supervisor_client.get("/leads/", {"search": "MATCH"}).content.decode()
    assert "27 matches" in first
    assert listed_leads(first) == [f"match{i:02d}@example.com" for i in range(26, 1, -1)]
    older = pager_links(first)["Older"]
    assert "search=MATCH" in older
    second = supervisor_client.get(older).content.decode()
    assert listed_leads(second) == ["match01@example.com", "match00@example.com"]


def test_a_search_that_finds_more_than_the_count_goes_says_so(
    supervisor_client, make_source, register, monkeypatch
):
    monkeypatch.setattr(selectors, "LEAD_MATCHES_COUNTED", 3)
    source = make_source()
    for i in range(5):
        register(source, f"lead{i}@example.com")
    html = supervisor_client.get("/leads/", {"search": "example"}).content.decode()
    assert "More than 3 matches" in html
    assert len(listed_leads(html)) == 5


@pytest.mark.parametrize(
    "query",
    [
        {"before": "x"},
        {"before": "-1"},
        {"after": "1e9"},
        {"before": "99999999999999999999999"},
        {"after": ""},
        {"page": "2"},
        {"before": "0"},
        {"after": "9223372036854775807"},
    ],
)
def test_a_cursor_that_is_no_lead_gives_a_page_never_an_error(
    supervisor_client, make_source, register, query
):
    register(make_source(), "alice@example.com")
    response = supervisor_client.get("/leads/", query)
    assert response.status_code == 200
    html = response.content.decode()
    assert listed_leads(html) in (["alice@example.com"], [])
    if not listed_leads(html):
        # An empty page past either end offers the way back to the first one.
        assert "Newest" in pager_links(html)


def test_detail_shows_the_leads_contacts_newest_first(
    supervisor_client, make_operator, make_source, register
):
    ann = make_operator("Ann")
    bot, ads = make_source("Bot", weights={ann: 1}), make_source("Ads")
    first = register(bot, "eve@example.com", message="Price?", lead_name="Eve")
    second = register(ads, "Eve@Example.com")
    services.contact_close(contact_id=first.pk)
    response = supervisor_client.get(f"/leads/{first.lead_id}/")
    html = response.content.decode()
    assertContains(response, "<h1>eve@example.com</h1>", html=True)
    assert "Eve · first seen" in html
    assert re.findall(r"<strong><a href=\"/contacts/\d+/\">#(\d+)</a></strong>", html) == [
        str(second.pk),
        str(first.pk),
    ]
    assert "via Bot →\n          Ann" in html and "Price?" in html
    assert "Queued" in html and "Closed" in html


def history_numbers(html: str) -> list[int]:
    """The contacts a lead's page lists, by number, in its order."""
    return [
        int(n) for n in re.findall(r"<strong><a href=\"/contacts/\d+/\">#(\d+)</a></strong>", html)
    ]


def lead_pager_links(html: str, lead_id: int) -> dict[str, str]:
    return {
        text.replace("&laquo;", "").replace("&raquo;", "").strip(): href.replace(
            "/leads/", f"/leads/{lead_id}/", 1
        )
        for text, href in pager_links(html).items()
    }


def test_detail_history_is_paged_by_older_and_newer_links(supervisor_client, make_source, register):
    source = make_source()
    contacts = [register(source, "eve@example.com") for _ in range(27)]
    lead_id = contacts[0].lead_id
    first = supervisor_client.get(f"/leads/{lead_id}/").content.decode()
    assert history_numbers(first) == [c.pk for c in contacts[:1:-1]]
    links = lead_pager_links(first, lead_id)
    assert set(links) == {"Older", "Oldest"}
    assert "27 in all" in first

    response = supervisor_client.get(links["Older"], **HTMX)
    assert is_fragment(response)
    older = response.content.decode()
    assert history_numbers(older) == [contacts[1].pk, contacts[0].pk]
    links = lead_pager_links(older, lead_id)
    assert set(links) == {"Newer", "Newest"}
    assert history_numbers(supervisor_client.get(links["Newer"]).content.decode()) == (
        history_numbers(first)
    )
    oldest = supervisor_client.get(lead_pager_links(first, lead_id)["Oldest"]).content.decode()
    # The oldest page is a full one, as in the contacts list.
    assert history_numbers(oldest) == [c.pk for c in contacts[24::-1]]


def test_a_lead_with_one_page_of_contacts_shows_no_pager(supervisor_client, make_source, register):
    contact = register(make_source(), "eve@example.com")
    html = supervisor_client.get(f"/leads/{contact.lead_id}/").content.decode()
    assert history_numbers(html) == [contact.pk]
    assert 'class="pager"' not in html


def test_a_bad_history_cursor_gives_the_first_page_and_says_so(
    supervisor_client, make_source, register
):
    contact = register(make_source(), "eve@example.com")
    response = supervisor_client.get(f"/leads/{contact.lead_id}/", {"after": "yesterday"})
    assert response.status_code == 200
    assert history_numbers(response.content.decode()) == [contact.pk]
    assert "That page link is not valid (any more)" in response.content.decode()


def test_an_action_on_an_older_page_of_the_history_keeps_that_page(
    supervisor_client, make_operator, make_source, register
):
    source = make_source(weights={make_operator(limit=100): 1})
    contacts = [register(source, "eve@example.com") for _ in range(27)]
    lead_id = contacts[0].lead_id
    first = supervisor_client.get(f"/leads/{lead_id}/").content.decode()
    older = lead_pager_links(first, lead_id)["Older"]
    query = older.split("?", 1)[1]
    html = supervisor_client.get(older).content.decode()
    # Each open contact's forms carry the page they are on.
    assert f"/leads/{lead_id}/contacts/{contacts[0].pk}/close/?{query}" in html.replace(
        "&amp;", "&"
    )

    close = f"/leads/{lead_id}/contacts/{contacts[0].pk}/close/?{query}"
    response = supervisor_client.post(close, **HTMX)
    assert f"Closed #{contacts[0].pk}." in response.content.decode()
    assert history_numbers(response.content.decode()) == [contacts[1].pk, contacts[0].pk]

    # Without JavaScript, back to the same page.
    response = supervisor_client.post(f"/leads/{lead_id}/contacts/{contacts[1].pk}/close/?{query}")
    assert response.status_code == 302
    assert response["Location"] == f"/leads/{lead_id}/?{query}"


def test_unknown_lead_is_404(supervisor_client, db):
    assert supervisor_client.get("/leads/999/").status_code == 404


def test_list_and_detail_issue_the_same_queries_for_few_and_many_rows(
    supervisor_client, make_operator, make_source, register
):
    source = make_source(weights={make_operator(limit=1000): 1})
    lead = register(source, "eve@example.com").lead_id
    for i in range(2):
        register(source, f"lead{i}@example.com")
    few = [
        queries_for(lambda: supervisor_client.get("/leads/")),
        queries_for(lambda: supervisor_client.get(f"/leads/{lead}/")),
    ]
    for i in range(20):
        register(source, f"more{i}@example.com")
        register(source, "eve@example.com")
    many = [
        queries_for(lambda: supervisor_client.get("/leads/")),
        queries_for(lambda: supervisor_client.get(f"/leads/{lead}/")),
    ]
    assert few == many


# --- acting from the lead's page ----------------------------------------------------------


@pytest.fixture
def eve(make_operator, make_source, register):
    """A lead with open contacts at two operators at once, and one closed."""
    ann, bob = make_operator("Ann", limit=5), make_operator("Bob", limit=1)
    bot, ads = make_source("Bot", weights={ann: 1}), make_source("Ads", weights={bob: 1})
    at_ann = register(bot, "eve@example.com")
    at_bob = register(ads, "eve@example.com")
    done = register(bot, "eve@example.com")
    services.contact_close(contact_id=done.pk)
    return {
        "lead": at_ann.lead,
        "ann": ann,
        "bob": bob,
        "bot": bot,
        "ads": ads,
        "at_ann": at_ann,
        "at_bob": at_bob,
        "done": done,
    }


def test_a_lead_with_open_contacts_at_two_operators_is_flagged_on_its_page_and_in_the_list(
    supervisor_client, eve
):
    html = supervisor_client.get(f"/leads/{eve['lead'].pk}/").content.decode()
    assert "Open contacts of this lead are at 2 operators at once: Ann, Bob." in html
    listing = supervisor_client.get("/leads/").content.decode()
    assert ">2 operators</span>" in listing

    services.contact_close(contact_id=eve["at_bob"].pk)
    assert "at once" not in supervisor_client.get(f"/leads/{eve['lead'].pk}/").content.decode()
    assert "operators</span>" not in supervisor_client.get("/leads/").content.decode()


def test_registering_a_new_contact_from_the_lead_page_says_where_it_went(supervisor_client, eve):
    lead = eve["lead"]
    response = supervisor_client.post(
        f"/leads/{lead.pk}/contacts/", {"source": eve["bot"].pk, "message": "Again"}, **HTMX
    )
    assert response.status_code == 200
    assert is_fragment(response)
    contact = lead.contacts.latest("id")
    assert (contact.message, contact.operator_id) == ("Again", eve["ann"].pk)
    assert f"Registered #{contact.pk}: assigned to Ann." in response.content.decode()


@pytest.mark.parametrize("source", ["", "999", "x"])
def test_registering_from_the_lead_page_without_a_valid_source_shows_the_error(
    supervisor_client, eve, source
):
    before = eve["lead"].contacts.count()
    response = supervisor_client.post(f"/leads/{eve['lead'].pk}/contacts/", {"source": source})
    assert response.status_code == 422
    assertContains(response, 'id="id_new_source_error"', status_code=422)
    assert eve["lead"].contacts.count() == before


def test_closing_and_reassigning_from_the_lead_page(supervisor_client, eve, make_operator):
    lead = eve["lead"]
    response = supervisor_client.post(
        f"/leads/{lead.pk}/contacts/{eve['at_bob'].pk}/close/", **HTMX
    )
    assert response.status_code == 200
    assert f"Closed #{eve['at_bob'].pk}." in response.content.decode()
    assert "at once" not in response.content.decode()

    response = supervisor_client.post(
        f"/leads/{lead.pk}/contacts/{eve['at_ann'].pk}/reassign/",
        {"operator": eve["bob"].pk},
        **HTMX,
    )
    assert response.status_code == 200
    assert f"Reassigned #{eve['at_ann'].pk} to Bob." in response.content.decode()
    eve["at_ann"].refresh_from_db()
    assert eve["at_ann"].operator_id == eve["bob"].pk


def test_reassigning_from_the_lead_page_to_a_full_operator_shows_the_error(supervisor_client, eve):
    response = supervisor_client.post(
        f"/leads/{eve['lead'].pk}/contacts/{eve['at_ann'].pk}/reassign/",
        {"operator": eve["bob"].pk},
        **HTMX,
    )
    assert response.status_code == 422
    assert "Bob is at the limit (1)." in response.content.decode()
    eve["at_ann"].refresh_from_db()
    assert eve["at_ann"].operator_id == eve["ann"].pk


def test_acting_on_another_leads_contact_from_a_lead_page_is_404(
    supervisor_client, eve, make_source, register
):
    other = register(eve["ads"], "someone@example.com")
    url = f"/leads/{eve['lead'].pk}/contacts/{other.pk}/close/"
    assert supervisor_client.post(url).status_code == 404
    assert supervisor_client.post(f"/leads/999/contacts/{other.pk}/close/").status_code == 404
    assert supervisor_client.get(f"/leads/{eve['lead'].pk}/contacts/").status_code == 405
    other.refresh_from_db()
    assert other.is_open
