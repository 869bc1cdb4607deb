"""/operators/<id>/: an operator and the changes made to its settings."""

from datetime import timedelta

import pytest
from pytest_django.asserts import assertContains

from distribution import decision_log
from distribution.actors import SYSTEM
from tests.log_support import BOSS, START
from tests.views_support import as_clerk, as_operator, as_supervisor, queries_for


@pytest.fixture
def supervisor_client(client, db):
    return as_supervisor(client)


def log_changes(ann, source, *, start=START) -> None:
    minute = timedelta(minutes=1)
    decision_log.record(
        [
            decision_log.setting_change(
                "workload_limit", 10, 12, actor=BOSS, operator_id=ann.pk, at=start
            ),
            decision_log.setting_change(
                "presence",
                "available",
                "away",
                actor=SYSTEM,
                operator_id=ann.pk,
                at=start + minute,
            ),
            decision_log.setting_change(
                "weight",
                None,
                3,
                actor=BOSS,
                operator_id=ann.pk,
                source_id=source.pk,
                at=start + 2 * minute,
            ),
        ]
    )


def test_the_operator_page_shows_its_changes_newest_first(
    supervisor_client, make_operator, make_source
):
    ann = make_operator("Ann")
    log_changes(ann, make_source("Bot"))

    response = supervisor_client.get(f"/operators/{ann.pk}/")
    html = response.content.decode()

    assert response.status_code == 200
    assertContains(response, "<h1>Ann</h1>", html=True)
    whats = ["Weight for Bot", "Presence", "Limit"]
    positions = [html.index(f'<td data-label="What">{what}</td>') for what in whats]
    assert positions == sorted(positions)
    assertContains(response, '<td data-label="Change">none → 3</td>', html=True)
    assertContains(response, '<td data-label="Change">10 → 12</td>', html=True)
    assertContains(response, '<td data-label="Who">System</td>', html=True)


def test_an_operator_without_changes_says_so(supervisor_client, make_operator):
    ann = make_operator("Ann")
    response = supervisor_client.get(f"/operators/{ann.pk}/")
    assertContains(response, "No changes recorded yet.")


def test_the_operators_list_links_to_each_operators_page(supervisor_client, make_operator):
    ann = make_operator("Ann")
    response = supervisor_client.get("/operators/")
    assertContains(
        response,
        f'<a class="op-history small" href="/operators/{ann.pk}/">Settings history</a>',
        html=True,
    )


def test_the_operator_page_costs_the_same_queries_however_many_changes(
    supervisor_client, make_operator, make_source
):
    ann = make_operator("Ann")
    source = make_source("Bot")
    log_changes(ann, source)
    url = f"/operators/{ann.pk}/"
    before = queries_for(lambda: supervisor_client.get(url))
    for hours in range(1, 4):
        log_changes(ann, make_source(), start=START + timedelta(hours=hours))
    assert queries_for(lambda: supervisor_client.get(url)) == before


def test_an_unknown_operator_is_404(supervisor_client, db):
    assert supervisor_client.get("/operators/31337/").status_code == 404


def test_the_operator_page_is_for_supervisors_only(client, make_operator):
    ann = make_operator("Ann")
    url = f"/operators/{ann.pk}/"
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert as_operator(client, ann).get(url).status_code == 403
    client.logout()
    assert as_clerk(client).get(url).status_code == 403
