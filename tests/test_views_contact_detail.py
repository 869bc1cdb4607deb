"""/contacts/<id>/: one contact and its decision log; the lead page's timeline of all its
contacts; links to the contact from the contacts list and the lead page."""

import pytest
from pytest_django.asserts import assertContains, assertNotContains

from distribution import decision_log, services
from distribution.actors import SYSTEM
from distribution.models import Operator
from tests.log_support import log_story
from tests.views_support import as_clerk, as_operator, as_supervisor, queries_for


@pytest.fixture
def supervisor_client(client, db):
    return as_supervisor(client)


@pytest.fixture
def story(make_operator, make_source, register):
    """A contact of eve@example.com through Bot, given to Ann (Bob was full), handed to Bob
    by hand and closed as won."""
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source("Bot", weights={ann: 1})
    contact = register(source, "eve@example.com", message="Call me back")
    services.contact_reassign(contact_id=contact.pk, operator_id=bob.pk)
    services.contact_close(contact_id=contact.pk, outcome="won", note="Signed up")
    log_story(contact, ann, bob)
    return contact


def test_the_contact_page_shows_its_details(supervisor_client, story):
    response = supervisor_client.get(f"/contacts/{story.pk}/")

    assert response.status_code == 200
    assertContains(response, f'<a href="/leads/{story.lead_id}/">eve@example.com</a>', html=True)
    assertContains(response, f'<a href="/sources/{story.source_id}/">Bot</a>', html=True)
    assertContains(response, '<dd class="contact-operator">Bob</dd>', html=True)
    assertContains(response, '<dd class="contact-outcome">Won</dd>', html=True)
    assertContains(response, "Signed up")
    assertContains(response, "Call me back")


def test_the_contact_page_shows_its_timeline_in_words(supervisor_client, story):
    response = supervisor_client.get(f"/contacts/{story.pk}/")
    html = response.content.decode()

    kinds = ["Registered", "Assigned", "Reassigned by hand", "Closed"]
    positions = [html.index(f'<strong class="event-kind">{kind}</strong>') for kind in kinds]
    assert positions == sorted(positions)  # Oldest first.
    assertContains(response, '<span class="event-reason">· drawn by weight</span>', html=True)
    assertContains(response, '<span class="event-previous">Ann</span>', html=True)
    assertContains(
        response,
        '<span class="event-actor">boss <span class="muted">(supervisor)</span></span>',
        html=True,
    )
    assertContains(response, '<span class="event-actor">System</span>', html=True)
    assertContains(
        response,
        '<tr class="is-closed"><th scope="row">Bob</th><td class="num">1</td>'
        '<td class="num">5/5</td><td>full</td></tr>',
        html=True,
    )
    assertContains(response, '<span class="badge badge-ok">eligible</span>', html=True)


def test_a_deleted_operator_in_the_log_shows_as_its_id(
    supervisor_client, make_operator, make_source, register
):
    ann, gone = make_operator("Ann"), make_operator("Gone")
    contact = register(make_source(weights={ann: 1}))
    log_story(contact, ann, gone)
    gone_id = gone.pk
    Operator.objects.filter(pk=gone_id).delete()

    response = supervisor_client.get(f"/contacts/{contact.pk}/")

    assertContains(response, f'<th scope="row">#{gone_id}</th>', html=True)


def test_a_contact_without_events_says_so(supervisor_client, make_source, register):
    contact = register(make_source())
    contact.events.all().delete()  # As for a contact from before the log.
    response = supervisor_client.get(f"/contacts/{contact.pk}/")
    assertContains(response, '<li class="empty">Nothing recorded yet.</li>', html=True)


def test_an_unknown_contact_is_the_404_page(supervisor_client, db):
    response = supervisor_client.get("/contacts/31337/")
    assert response.status_code == 404


def test_the_contact_page_costs_the_same_queries_however_long_its_log(
    supervisor_client, story, make_operator
):
    url = f"/contacts/{story.pk}/"
    before = queries_for(lambda: supervisor_client.get(url))
    for _ in range(3):
        log_story(story, make_operator(), make_operator())
    assert queries_for(lambda: supervisor_client.get(url)) == before


def test_the_contact_page_is_for_supervisors_only(client, story, make_operator):
    url = f"/contacts/{story.pk}/"
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert as_operator(client, make_operator("Cleo")).get(url).status_code == 403
    client.logout()
    assert as_clerk(client).get(url).status_code == 403


def test_the_contacts_list_links_each_contact_to_its_page(supervisor_client, story):
    response = supervisor_client.get("/contacts/")
    assertContains(response, f'<a href="/contacts/{story.pk}/">#{story.pk}</a>', html=True)


def test_the_lead_page_links_its_contacts_and_shows_all_their_events(
    supervisor_client, story, register
):
    second = register(story.source, "eve@example.com")
    log_story(second, story.operator, story.operator)
    register(story.source, "other@example.com")

    response = supervisor_client.get(f"/leads/{story.lead_id}/")

    assertContains(response, f'<a href="/contacts/{second.pk}/">#{second.pk}</a>', html=True)
    assertContains(
        response, f'<a href="/contacts/{story.pk}/">Contact #{story.pk}</a>', count=4, html=True
    )
    assertContains(
        response, f'<a href="/contacts/{second.pk}/">Contact #{second.pk}</a>', count=4, html=True
    )
    assertNotContains(response, "The latest")


def test_the_lead_page_costs_the_same_queries_however_many_events(
    supervisor_client, story, make_operator
):
    url = f"/leads/{story.lead_id}/"
    before = queries_for(lambda: supervisor_client.get(url))
    for _ in range(3):
        log_story(story, make_operator(), make_operator())
    assert queries_for(lambda: supervisor_client.get(url)) == before


def test_a_timed_out_event_names_the_operator_it_left_once(supervisor_client, story):
    ann = Operator.objects.get(name="Ann")
    decision_log.record(
        [
            decision_log.contact_event(
                story.pk, "timed_out", actor=SYSTEM, operator_id=ann.pk, previous_operator_id=ann.pk
            )
        ]
    )

    response = supervisor_client.get(f"/contacts/{story.pk}/")

    assertContains(response, 'from\n          <span class="event-operator">Ann</span>')
    # The one it left is not named a second time as "(was Ann)".
    assert response.content.decode().count('<span class="event-previous">Ann</span>') == 1
