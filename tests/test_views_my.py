"""/my/: an operator's workspace, with htmx and without javascript."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from distribution import services
from distribution.models import Contact, Operator, Presence
from tests.views_support import HTMX, as_operator, is_fragment, queries_for


@pytest.fixture
def ann(make_operator):
    return make_operator("Ann")


@pytest.fixture
def bob(make_operator):
    return make_operator("Bob")


@pytest.fixture
def me(client, ann):
    as_operator(client, ann)
    return client


def _assign(register, source, *identifiers, **kwargs):
    return [register(source, i, **kwargs) for i in identifiers]


def test_the_workspace_lists_my_open_contacts_longest_waiting_first(
    me, ann, bob, make_source, register
):
    mine = make_source("Bot", weights={ann: 1})
    theirs = make_source("Ads", weights={bob: 1})
    newer, older, closed = _assign(
        register, mine, "new@x.io", "old@x.io", "done@x.io", message="Price?"
    )
    Contact.objects.filter(pk=older.pk).update(assigned_at=timezone.now() - timedelta(hours=3))
    services.contact_close(contact_id=closed.pk)
    other = register(theirs, "bobs@x.io")

    response = me.get("/my/")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("old@x.io") < html.index("new@x.io")
    assert "done@x.io" not in html and "bobs@x.io" not in html
    assert f'id="contact-{other.pk}"' not in html
    assert "3\xa0hours" in html  # How long the oldest has waited.
    assert "Price?" in html
    assert 'My open contacts <span class="muted">(2)</span>' in html


def test_each_contact_shows_its_leads_other_contacts(me, ann, bob, make_source, register):
    bot = make_source("Bot", weights={ann: 1})
    ads = make_source("Ads", weights={bob: 1})
    for n in range(5):
        services.contact_close(
            contact_id=register(ads, "eve@x.io", message=f"old {n}").pk, outcome="lost"
        )
    register(bot, "eve@x.io", message="new one")

    html = me.get("/my/").content.decode()

    assert "5 other contacts of this lead" in html
    assert html.count("closed (lost)") == 3  # The latest three.
    assert "old 4" in html and "old 1" not in html


def test_the_workspace_query_count_does_not_grow_with_its_contacts(me, ann, make_source, register):
    bot = make_source("Bot", weights={ann: 1})
    ann_limit = services.operator_update(operator_id=ann.pk, workload_limit=100)
    assert ann_limit.workload_limit == 100
    register(bot, "a@x.io")
    register(bot, "a@x.io")
    few = queries_for(lambda: me.get("/my/"))
    for n in range(8):
        register(bot, f"lead{n}@x.io")
        register(bot, f"lead{n}@x.io")

    assert queries_for(lambda: me.get("/my/")) == few


def test_marking_responded_without_javascript_redirects_back(me, ann, make_source, register):
    contact = register(make_source(weights={ann: 1}))

    response = me.post(reverse("distribution:my_contact_respond", args=[contact.pk]))

    assert response.status_code == 302 and response["Location"] == "/my/"
    assert Contact.objects.get(pk=contact.pk).responded_at is not None
    assert "marked responded" in me.get("/my/").content.decode()


def test_marking_responded_with_htmx_answers_the_workspace_fragment(me, ann, make_source, register):
    contact = register(make_source(weights={ann: 1}))

    response = me.post(reverse("distribution:my_contact_respond", args=[contact.pk]), **HTMX)

    assert response.status_code == 200 and is_fragment(response)
    html = response.content.decode()
    assert 'id="workspace"' in html and "Responded " in html and "Mark responded" not in html
    assert Contact.objects.get(pk=contact.pk).responded_at is not None


def test_closing_with_an_outcome_and_a_note_hands_me_the_next_queued_contact(
    me, ann, make_source, register
):
    services.operator_update(operator_id=ann.pk, workload_limit=1)
    bot = make_source(weights={ann: 1})
    first, queued = register(bot, "first@x.io"), register(bot, "queued@x.io")
    assert queued.operator_id is None

    response = me.post(
        reverse("distribution:my_contact_close", args=[first.pk]),
        {"outcome": "won", "note": "Sold the big one"},
        **HTMX,
    )

    assert response.status_code == 200 and is_fragment(response)
    first = Contact.objects.get(pk=first.pk)
    assert (first.status, first.outcome, first.note) == ("closed", "won", "Sold the big one")
    html = response.content.decode()
    assert f"Contact #{first.pk} of first@x.io closed: won." in html
    assert f'id="contact-{first.pk}"' not in html and f'id="contact-{queued.pk}"' in html
    assert Contact.objects.get(pk=queued.pk).operator_id == ann.pk


def test_closing_without_javascript_redirects_back(me, ann, make_source, register):
    contact = register(make_source(weights={ann: 1}))

    response = me.post(
        reverse("distribution:my_contact_close", args=[contact.pk]), {"outcome": "spam"}
    )

    assert response.status_code == 302 and response["Location"] == "/my/"
    assert Contact.objects.get(pk=contact.pk).outcome == "spam"


@pytest.mark.parametrize(
    "data, error",
    [
        ({}, "This field is required."),
        ({"outcome": "maybe"}, "Select a valid choice."),
        ({"outcome": "won", "note": "x" * 2001}, "at most 2000 characters"),
        ({"outcome": "won", "note": "nul \x00"}, "Null characters are not allowed."),
    ],
)
@pytest.mark.parametrize("htmx", [True, False])
def test_bad_close_input_is_a_form_error_next_to_the_field(
    me, ann, make_source, register, data, error, htmx
):
    contact = register(make_source(weights={ann: 1}))

    response = me.post(
        reverse("distribution:my_contact_close", args=[contact.pk]), data, **(HTMX if htmx else {})
    )

    assert response.status_code == 422
    assert is_fragment(response) == htmx
    html = response.content.decode()
    assert error in html
    assert f'id="id_contact{contact.pk}_' in html
    assert Contact.objects.get(pk=contact.pk).is_open


def test_marking_a_closed_contact_responded_is_an_error_not_a_500(me, ann, make_source, register):
    contact = register(make_source(weights={ann: 1}))
    services.contact_close(contact_id=contact.pk)

    response = me.post(reverse("distribution:my_contact_respond", args=[contact.pk]), **HTMX)

    assert response.status_code == 422
    assert "A closed contact cannot be marked responded." in response.content.decode()


@pytest.mark.parametrize("action", ["my_contact_respond", "my_contact_close"])
def test_another_operators_contact_is_a_404_on_every_action(
    me, ann, bob, make_source, register, action
):
    theirs = register(make_source(weights={bob: 1}))

    response = me.post(reverse(f"distribution:{action}", args=[theirs.pk]), {"outcome": "won"})

    assert response.status_code == 404
    theirs = Contact.objects.get(pk=theirs.pk)
    assert theirs.is_open and theirs.responded_at is None


@pytest.mark.parametrize("action", ["my_contact_respond", "my_contact_close"])
def test_a_queued_or_unknown_contact_is_a_404(me, ann, make_source, register, action):
    queued = register(make_source())  # Nobody has a weight: it waits in the queue.

    for contact_id in (queued.pk, 999_999):
        response = me.post(reverse(f"distribution:{action}", args=[contact_id]), {"outcome": "won"})
        assert response.status_code == 404
    assert Contact.objects.get(pk=queued.pk).is_open


@pytest.mark.parametrize("name", ["my_presence", "my_contact_respond", "my_contact_close"])
def test_changes_are_refused_on_get(me, name):
    kwargs = {} if name == "my_presence" else {"contact_id": 1}
    assert me.get(reverse(f"distribution:{name}", kwargs=kwargs)).status_code == 405


def test_the_requeue_choice_shows_how_many_contacts_it_concerns(me, ann, make_source, register):
    bot = make_source(weights={ann: 1})
    register(bot)
    register(bot)

    html = me.get("/my/").content.decode()

    assert "return my 2 open contacts to the queue" in html


def test_going_away_keeps_my_contacts_by_default(me, ann, bob, make_source, register):
    bot = make_source(weights={ann: 1, bob: 1})
    services.operator_update(operator_id=bob.pk, presence=Presence.OFFLINE)
    contact = register(bot)

    response = me.post(reverse("distribution:my_presence"), {"presence": "away"})

    assert response.status_code == 302
    assert Operator.objects.get(pk=ann.pk).presence == "away"
    assert Contact.objects.get(pk=contact.pk).operator_id == ann.pk


def test_going_away_can_return_my_contacts_to_the_queue_where_others_take_them(
    me, ann, bob, make_source, register
):
    bot = make_source(weights={ann: 1})
    contacts = [register(bot), register(bot)]
    services.source_set_weights(source_id=bot.pk, weights=[(ann.pk, 1), (bob.pk, 1)])

    response = me.post(
        reverse("distribution:my_presence"),
        {"presence": "offline", "requeue_open_contacts": "on"},
        **HTMX,
    )

    assert response.status_code == 200 and is_fragment(response)
    html = response.content.decode()
    assert "You are offline. 2 contacts went back to the queue." in html
    assert "No open contacts." in html
    assert {c.operator_id for c in Contact.objects.filter(pk__in=[c.pk for c in contacts])} == {
        bob.pk
    }


def test_becoming_available_again_drains_the_queue_to_me(me, ann, make_source, register):
    bot = make_source(weights={ann: 1})
    services.operator_update(operator_id=ann.pk, presence=Presence.AWAY)
    queued = register(bot)
    assert queued.operator_id is None

    me.post(reverse("distribution:my_presence"), {"presence": "available"})

    assert Contact.objects.get(pk=queued.pk).operator_id == ann.pk


@pytest.mark.parametrize("presence", ["", "busy", "AWAY"])
def test_a_bad_presence_is_a_form_error(me, ann, presence):
    response = me.post(reverse("distribution:my_presence"), {"presence": presence}, **HTMX)

    assert response.status_code == 422
    assert 'role="alert"' in response.content.decode()
    assert Operator.objects.get(pk=ann.pk).presence == "available"


def test_todays_figures(me, ann, make_source, register):
    bot = make_source(weights={ann: 1})
    now = timezone.now()
    a, b, c, old = (register(bot) for _ in range(4))
    Contact.objects.filter(pk=old.pk).update(assigned_at=now - timedelta(days=2))
    for contact, minutes in ((a, 2), (b, 10), (c, 4)):
        Contact.objects.filter(pk=contact.pk).update(
            assigned_at=now - timedelta(minutes=30),
            responded_at=now - timedelta(minutes=30 - minutes),
        )
    services.contact_close(contact_id=a.pk, outcome="won")

    html = me.get("/my/").content.decode()

    assert '<span class="tile-value" id="today-received">3</span>' in html
    assert '<span class="tile-value" id="today-responded">3</span>' in html
    assert '<span class="tile-value" id="today-closed">1</span>' in html
    assert '<span class="tile-value" id="today-median">4 min</span>' in html
