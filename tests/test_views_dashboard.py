"""/: totals, the queue, loads against limits, shares against weights, the last 14 days."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_django.asserts import assertContains

from distribution import services
from distribution.models import Contact
from distribution.views.dashboard import day_bars
from tests.views_support import as_supervisor, queries_for


@pytest.fixture
def supervisor_client(client, db):
    return as_supervisor(client)


def test_empty_dashboard_invites_to_start(supervisor_client):
    html = supervisor_client.get("/").content.decode()
    assert "No operators yet." in html and "No sources yet." in html
    assert "nobody is waiting" in html


def test_totals_and_the_queue_are_shown_and_the_queue_is_highlighted(
    supervisor_client, make_operator, make_source, register
):
    ann = make_operator("Ann", limit=1)
    source = make_source(weights={ann: 1})
    register(source, "a@example.com")
    register(source, "b@example.com")
    register(source, "a@example.com")
    html = supervisor_client.get("/").content.decode()
    values = re.findall(r'<span class="tile-value">(\d+)</span>', html)
    assert values == ["2", "3", "3", "2"]  # leads, contacts, open, queued
    assert 'class="tile tile-queue is-alert"' in html


def test_the_queue_is_not_highlighted_when_empty(
    supervisor_client, make_operator, make_source, register
):
    register(make_source(weights={make_operator(): 1}))
    html = supervisor_client.get("/").content.decode()
    assert 'class="tile tile-queue"' in html


def test_each_operators_load_is_a_bar_against_its_limit(
    supervisor_client, make_operator, make_source, register
):
    ann, bob = make_operator("Ann", limit=4), make_operator("Bob", limit=1)
    register(make_source(weights={ann: 1}))
    register(make_source(weights={bob: 1}))
    response = supervisor_client.get("/")
    html = response.content.decode()
    assert 'aria-label="1 of 4 open contacts"' in html
    assertContains(
        response,
        '<rect class="bar-fill" x="0" y="0" width="25" height="8" rx="2"></rect>',
        html=True,
    )
    # Bob is at his limit: his bar is full and marked so.
    assert re.search(r'class="loadbar is-full">\s*<svg[^>]*aria-label="1 of 1 open contacts"', html)


def test_each_source_shows_actual_share_next_to_weight_share(
    supervisor_client, make_operator, make_source, register
):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source("Bot", weights={ann: 3, bob: 1})
    contact = register(source)
    if contact.operator_id != ann.pk:
        services.contact_reassign(contact_id=contact.pk, operator_id=ann.pk)
    html = supervisor_client.get("/").content.decode()
    assert "75% <small>by weight</small>" in html and "25% <small>by weight</small>" in html
    assert "100% <small>actual</small>" in html and "0% <small>actual</small>" in html


def test_contacts_per_day_chart_has_fourteen_days(supervisor_client, make_source, register):
    source = make_source()
    old = register(source)
    Contact.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    register(source)
    register(source)
    html = supervisor_client.get("/").content.decode()
    assert len(re.findall(r'<text class="day-label"', html)) == 14
    counts = re.findall(r'<text class="day-count"[^>]*>(\d+)</text>', html)
    assert counts == ["1", "2"]
    assert "last 14 days · 3 in all" in html


def test_day_bars_scale_to_the_busiest_day():
    today = timezone.localdate()
    bars = day_bars([(today - timedelta(days=1), 2), (today, 4)])
    assert [bar.count for bar in bars] == [2, 4]
    assert bars[1].height == 2 * bars[0].height
    assert bars[1].y < bars[0].y
    assert day_bars([(today, 0)])[0].height == 0


def test_recent_activity_lists_the_latest_contacts(
    supervisor_client, make_operator, make_source, register
):
    ann = make_operator("Ann")
    register(make_source("Bot", weights={ann: 1}), "eve@example.com")
    html = supervisor_client.get("/").content.decode()
    assert re.search(r"eve@example.com</a> via Bot</span>\s*<span>→ Ann", html)


def test_dashboard_issues_the_same_queries_for_few_and_many_rows(
    supervisor_client, make_operator, make_source, register
):
    def grow(n):
        operators = [make_operator() for _ in range(n)]
        for _ in range(n):
            source = make_source(weights={op: 1 for op in operators})
            register(source)
            register(source)

    grow(2)
    few = queries_for(lambda: supervisor_client.get("/"))
    grow(8)
    many = queries_for(lambda: supervisor_client.get("/"))
    assert few == many
