"""/sources/<id>/: the routing settings form, in place, and the source's settings changes."""

from datetime import timedelta

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains

from distribution import decision_log, services
from distribution.models import SettingChange, Source
from tests.log_support import BOSS, START
from tests.views_support import HTMX, as_clerk, as_supervisor, is_fragment, queries_for


@pytest.fixture
def supervisor_client(client, db):
    return as_supervisor(client)


def settings_url(source) -> str:
    return reverse("distribution:source_settings", args=[source.pk])


def settings_of(source) -> tuple:
    source.refresh_from_db()
    return (source.mode, source.sticky_days, source.response_minutes)


def test_the_page_shows_the_current_settings(supervisor_client, make_source):
    source = make_source("Bot")
    services.source_update(source_id=source.pk, mode="balanced", sticky_days=30)

    response = supervisor_client.get(f"/sources/{source.pk}/")

    assertContains(
        response, '<option value="balanced" selected>Balanced by weight</option>', html=True
    )
    assertContains(response, 'name="sticky_days" value="30"')
    assertContains(response, "in turn by weight")


def test_saving_settings_in_place_returns_the_card_with_the_change_logged(
    supervisor_client, make_source
):
    source = make_source("Bot")

    response = supervisor_client.post(
        settings_url(source),
        {"mode": "balanced", "sticky_days": "14", "response_minutes": ""},
        **HTMX,
    )

    assert response.status_code == 200
    assert is_fragment(response)
    assert (
        response.content.decode().strip().startswith('<section class="card" id="source-settings"')
    )
    assert settings_of(source) == ("balanced", 14, None)
    assertContains(
        response, '<td data-label="Change">Random by weight → Balanced by weight</td>', html=True
    )
    assertContains(response, '<td data-label="Change">off → 14</td>', html=True)
    assertContains(
        response,
        '<td data-label="Who">boss <span class="muted">(supervisor)</span></td>',
        html=True,
    )
    logged = SettingChange.objects.filter(source=source)
    assert {(c.field, c.actor_type, c.actor_name) for c in logged} == {
        ("mode", "supervisor", "boss"),
        ("sticky_days", "supervisor", "boss"),
    }


def test_without_javascript_saving_redirects_to_the_page(supervisor_client, make_source):
    source = make_source("Bot")
    response = supervisor_client.post(
        settings_url(source), {"mode": "random", "sticky_days": "", "response_minutes": "30"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/sources/{source.pk}/"
    assert settings_of(source) == ("random", None, 30)


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"mode": "fastest"}, "mode"),
        ({"sticky_days": "0"}, "sticky_days"),
        ({"sticky_days": "366"}, "sticky_days"),
        ({"sticky_days": "٣"}, "sticky_days"),
        ({"response_minutes": "10081"}, "response_minutes"),
        ({"response_minutes": "soon"}, "response_minutes"),
    ],
)
def test_a_bad_setting_shows_its_error_next_to_its_field_and_changes_nothing(
    supervisor_client, make_source, data, field, headers
):
    source = make_source("Bot")
    body = {"mode": "balanced", "sticky_days": "7", "response_minutes": "15", **data}

    response = supervisor_client.post(settings_url(source), body, **headers)

    assert response.status_code == 422
    assertContains(response, f'id="id_{field}_error"', status_code=422)
    assert settings_of(source) == ("random", None, None)
    assert not SettingChange.objects.exists()


def test_the_changes_are_newest_first_with_a_limit_and_the_count(
    supervisor_client, make_source, make_operator
):
    source = make_source("Bot")
    ann = make_operator("Ann")
    decision_log.record(
        decision_log.setting_change(
            "weight",
            i,
            i + 1,
            actor=BOSS,
            source_id=source.pk,
            operator_id=ann.pk,
            at=START + timedelta(minutes=i),
        )
        for i in range(1, 61)
    )

    response = supervisor_client.get(f"/sources/{source.pk}/")
    html = response.content.decode()

    assert html.index('<td data-label="Change">60 → 61</td>') < html.index(
        '<td data-label="Change">59 → 60</td>'
    )
    assert '<td data-label="Change">10 → 11</td>' not in html
    assertContains(response, '<td data-label="What">Weight of Ann</td>', count=50, html=True)
    assertContains(response, "The latest 50 of 60 changes.")


def test_the_source_page_costs_the_same_queries_however_many_changes(
    supervisor_client, make_source, make_operator
):
    source = make_source("Bot", weights={make_operator(): 1})
    url = f"/sources/{source.pk}/"
    services.source_update(source_id=source.pk, mode="balanced")
    before = queries_for(lambda: supervisor_client.get(url))
    for days in range(1, 6):
        services.source_update(source_id=source.pk, sticky_days=days)
    assert queries_for(lambda: supervisor_client.get(url)) == before


def test_settings_are_refused_to_anonymous_visitors_and_non_supervisors(client, make_source):
    source = make_source("Bot")
    response = client.post(settings_url(source), {"mode": "balanced"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    response = as_clerk(client).post(settings_url(source), {"mode": "balanced"}, **HTMX)
    assert response.status_code == 403
    assert Source.objects.get(pk=source.pk).mode == "random"


def test_settings_by_get_are_refused(supervisor_client, make_source):
    source = make_source("Bot")
    assert supervisor_client.get(settings_url(source), {"mode": "balanced"}).status_code == 405
    assert settings_of(source) == ("random", None, None)


def test_settings_of_an_unknown_source_are_404(supervisor_client, db):
    assert supervisor_client.post("/sources/31337/settings/", {"mode": "random"}).status_code == 404


def test_a_rename_on_the_page_is_logged_with_its_supervisor(supervisor_client, make_source):
    source = make_source("Bot")
    supervisor_client.post(reverse("distribution:source_rename", args=[source.pk]), {"name": "Ads"})
    change = SettingChange.objects.get(source=source)
    assert (change.field, change.old, change.new, change.actor_name) == (
        "name",
        "Bot",
        "Ads",
        "boss",
    )
