"""/contacts/ and /contacts/new/: filters, paging, closing, reassigning, registering."""

import re

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains

from distribution import services
from distribution.models import Contact, Lead
from tests.views_support import HTMX, as_supervisor, is_fragment, queries_for


@pytest.fixture
def supervisor_client(client, db):
    return as_supervisor(client)


def listed_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="contact-(\d+)"', html)]


def close_url(contact) -> str:
    return reverse("distribution:contact_close", args=[contact.pk])


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


def test_the_list_is_paged(supervisor_client, make_source, register):
    source = make_source()
    contacts = [register(source) for _ in range(30)]
    first = supervisor_client.get("/contacts/").content.decode()
    second = supervisor_client.get("/contacts/?page=2").content.decode()
    assert listed_ids(first) == [c.pk for c in reversed(contacts)][:25]
    assert listed_ids(second) == [c.pk for c in reversed(contacts)][25:]
    assert "Page 2 of 2" in second


def test_closing_in_place_returns_the_list_with_the_queued_contact_assigned(
    supervisor_client, two_sources
):
    c = two_sources
    response = supervisor_client.post(
        close_url(c["to_ann"]) + "?source=" + str(c["bot"].pk), **HTMX
    )
    assert response.status_code == 200
    assert is_fragment(response)
    html = response.content.decode()
    assert listed_ids(html) == [c["queued"].pk, c["to_ann"].pk]
    assert f"Contact #{c['to_ann'].pk} of" in html
    assert Contact.objects.get(pk=c["to_ann"].pk).status == Contact.Status.CLOSED
    assert Contact.objects.get(pk=c["queued"].pk).operator_id == c["ann"].pk
    assert f'<tr id="contact-{c["queued"].pk}" class="">' in html


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
