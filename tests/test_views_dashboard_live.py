"""/ and /dashboard/live/: the queue explained per source, the operators' state beside their
load, and the numbers' partial that the page polls."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from distribution import services
from distribution.models import Contact, Operator
from tests.views_support import HTMX, as_supervisor, is_fragment, queries_for


@pytest.fixture
def supervisor_client(client, db):
    return as_supervisor(client)


def waits(html: str) -> dict[str, tuple[str, str]]:
    """Source id -> (reason, text) of its line in "Why contacts wait"."""
    found = re.findall(r'<li id="queue-why-(\d+)" data-reason="([^"]+)">(.*?)</li>', html, re.S)
    return {sid: (reason, " ".join(text.split())) for sid, reason, text in found}


def test_the_false_wording_is_gone_and_an_empty_queue_says_so(supervisor_client):
    html = supervisor_client.get("/").content.decode()
    assert "waiting for an operator with room" not in html
    assert "nobody is waiting" in html and "Why contacts wait" not in html


def test_a_source_without_weights_waits_for_a_weight(
    supervisor_client, make_operator, make_source, register
):
    make_operator("Ann")  # Room, but no weight for the source.
    source = make_source("Ads")
    old = register(source)
    register(source)
    Contact.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=3))
    html = supervisor_client.get("/").content.decode()
    reason, text = waits(html)[str(source.pk)]
    assert reason == "no weight"
    assert "2 waiting" in text and "the oldest for" in text and "3 hours" in text
    assert "No operator has a weight for this source." in text
    assert f'href="/sources/{source.pk}/#weights"' in text
    assert "waiting for an operator with room" not in html


def test_a_source_whose_operators_are_full_waits_for_room(
    supervisor_client, make_operator, make_source, register
):
    ann, bob = make_operator("Ann", limit=1), make_operator("Bob", limit=1)
    source = make_source("Bot", weights={ann: 1, bob: 1})
    for _ in range(3):
        register(source)
    reason, text = waits(supervisor_client.get("/").content.decode())[str(source.pk)]
    assert reason == "full"
    assert "1 waiting" in text
    assert (
        "Everyone with a weight is full: Ann 1&thinsp;/&thinsp;1, Bob 1&thinsp;/&thinsp;1" in text
    )
    assert 'href="/operators/"' in text


def test_a_source_whose_operators_are_away_or_off_shift_says_who_and_why(
    supervisor_client, make_operator, make_source, register
):
    ann, bob, cid = make_operator("Ann"), make_operator("Bob"), make_operator("Cid")
    source = make_source("Bot", weights={ann: 1, bob: 1, cid: 1})
    services.operator_update(operator_id=ann.pk, presence="away")
    services.operator_update(operator_id=bob.pk, is_active=False)
    Operator.objects.filter(pk=cid.pk).update(on_shift=False)
    register(source)
    reason, text = waits(supervisor_client.get("/").content.decode())[str(source.pk)]
    assert reason == "away"
    assert "Nobody with a weight can take contacts now: Ann away, Bob inactive, Cid off shift" in (
        text
    )
    assert 'href="/operators/"' in text


def test_a_mix_of_full_and_away_operators_is_told_as_such(
    supervisor_client, make_operator, make_source, register
):
    ann, bob = make_operator("Ann", limit=1), make_operator("Bob")
    source = make_source("Bot", weights={ann: 1, bob: 1})
    services.operator_update(operator_id=bob.pk, presence="offline")
    register(source)
    register(source)
    reason, text = waits(supervisor_client.get("/").content.decode())[str(source.pk)]
    assert reason == "mixed"
    assert "Ann full (1&thinsp;/&thinsp;1), Bob offline" in text


def test_each_source_with_a_queue_has_its_own_line(
    supervisor_client, make_operator, make_source, register
):
    ann = make_operator("Ann", limit=0)
    full = make_source("Bot", weights={ann: 1})
    unweighted = make_source("Ads")
    register(full)
    register(unweighted)
    make_source("Quiet", weights={ann: 1})
    html = supervisor_client.get("/").content.decode()
    assert {sid: reason for sid, (reason, _) in waits(html).items()} == {
        str(full.pk): "full",
        str(unweighted.pk): "no weight",
    }
    assert "in 2 sources: why, below" in html


def test_the_load_list_links_each_operator_to_its_contacts_and_shows_its_state(
    supervisor_client, make_operator
):
    ann = make_operator("Ann " + "long" * 30)
    services.operator_update(operator_id=ann.pk, presence="away")
    html = supervisor_client.get("/").content.decode()
    assert f'href="/contacts/?operator={ann.pk}&amp;status=open"' in html
    assert re.search(
        r'<span class="load-name">.*?<span class="badge badge-off op-state">away</span>', html, re.S
    )


def test_the_live_partial_is_only_the_numbers(
    supervisor_client, make_operator, make_source, register
):
    source = make_source("Ads")
    register(source)
    response = supervisor_client.get("/dashboard/live/", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and is_fragment(response)
    assert re.findall(r'<span class="tile-value">(\d+)</span>', html) == ["1", "1", "1", "1"]
    assert str(source.pk) in waits(html)
    assert "Contacts per day" not in html and "Recent activity" not in html


def test_the_dashboard_polls_the_live_partial_through_a_static_script(supervisor_client):
    html = supervisor_client.get("/").content.decode()
    assert re.search(
        r'<div id="live" data-live data-live-every="5000"\s+hx-get="/dashboard/live/" '
        r'hx-trigger="live-tick"',
        html,
    )
    assert re.search(r'<script src="/static/js/live\.js[^"]*" defer></script>', html)
    assert "data-live-age" in html


def test_the_live_partial_without_htmx_is_the_dashboard(supervisor_client):
    response = supervisor_client.get("/dashboard/live/")
    assert response.status_code == 302 and response["Location"] == "/"


def test_the_live_partial_needs_a_supervisor(client, db):
    response = client.get("/dashboard/live/", **HTMX)
    assert response.status_code == 200 and response["HX-Redirect"].startswith("/accounts/login/")


def test_the_live_partial_costs_the_same_queries_for_few_and_many_rows(
    supervisor_client, make_operator, make_source, register
):
    def grow(n):
        operators = [make_operator(limit=1) for _ in range(n)]
        services.operator_update(operator_id=operators[0].pk, presence="away")
        for _ in range(n):
            source = make_source(weights={op: 1 for op in operators})
            register(source)
            register(source)
            register(make_source())

    grow(2)
    few = queries_for(lambda: supervisor_client.get("/dashboard/live/", **HTMX))
    grow(8)
    many = queries_for(lambda: supervisor_client.get("/dashboard/live/", **HTMX))
    assert few == many
