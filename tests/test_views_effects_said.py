"""Every supervisor action that moves contacts says so next to where it was done: in the
swapped row or fragment (role="status"), or in the message after a redirect."""

import re
from datetime import UTC, datetime, time
from html import unescape

import pytest
import time_machine
from django.urls import reverse

from distribution import services
from distribution.models import Contact
from tests.test_views_schedule import form_data
from tests.views_support import HTMX, as_supervisor


@pytest.fixture
def supervisor_client(client, db):
    return as_supervisor(client)


def said(response) -> list[str]:
    """The texts of the role="status" elements in a response."""
    html = response.content.decode()
    found = re.findall(r'<(p|ul)[^>]*role="status"[^>]*>(.*?)</\1>', html, re.S)
    texts = (unescape(re.sub(r"<[^>]+>", "", text)) for _, text in found)
    return [re.sub(r"\s+", " ", text).strip() for text in texts]


def queued() -> int:
    return Contact.objects.filter(status=Contact.Status.OPEN, operator__isnull=True).count()


def test_raising_a_limit_says_which_queued_contacts_went_to_the_operator(
    supervisor_client, make_operator, make_source, register
):
    chen = make_operator("Chen", limit=1)
    source = make_source(weights={chen: 1})
    for _ in range(4):
        register(source)
    assert queued() == 3
    url = reverse("distribution:operator_set_limit", args=[chen.pk])
    response = supervisor_client.post(url, {"workload_limit": "3"}, **HTMX)
    assert response.status_code == 200
    assert said(response) == ["Limit 1 -> 3: 2 queued contacts assigned to Chen."]
    assert f'id="operator-{chen.pk}"' in response.content.decode()
    assert queued() == 1


def test_a_limit_change_that_moves_nothing_says_only_the_change(supervisor_client, make_operator):
    chen = make_operator("Chen", limit=5)
    url = reverse("distribution:operator_set_limit", args=[chen.pk])
    response = supervisor_client.post(url, {"workload_limit": "8"}, **HTMX)
    assert said(response) == ["Limit 5 -> 8."]


def test_without_javascript_the_sentence_is_the_message_after_the_redirect(
    supervisor_client, make_operator, make_source, register
):
    chen = make_operator("Chen", limit=1)
    source = make_source(weights={chen: 1})
    register(source)
    register(source)
    url = reverse("distribution:operator_set_limit", args=[chen.pk])
    response = supervisor_client.post(url, {"workload_limit": "2"}, follow=True)
    assert "Limit 1 -> 2: 1 queued contact assigned to Chen." in said(response)


def test_setting_available_says_what_the_queue_gave_the_operator(
    supervisor_client, make_operator, make_source, register
):
    chen = make_operator("Chen")
    source = make_source(weights={chen: 1})
    services.operator_update(operator_id=chen.pk, presence="away")
    for _ in range(3):
        register(source)
    url = reverse("distribution:operator_set_presence", args=[chen.pk])
    response = supervisor_client.post(url, {"presence": "available"}, **HTMX)
    assert said(response) == ["Available: 3 queued contacts assigned to Chen."]
    assert queued() == 0


def test_deactivating_with_requeue_says_where_the_contacts_went_and_what_waits(
    supervisor_client, make_operator, make_source, register
):
    ann = make_operator("Ann")
    bruno = make_operator("Bruno", limit=3)
    source = make_source(weights={ann: 1})
    for _ in range(4):
        register(source)
    services.source_set_weight(source_id=source.pk, operator_id=bruno.pk, weight=1)
    url = reverse("distribution:operator_set_active", args=[ann.pk])
    response = supervisor_client.post(
        url, {"is_active": "false", "requeue_open_contacts": "on"}, **HTMX
    )
    assert said(response) == [
        "Inactive: 4 open contacts returned to the queue; 3 went to Bruno, 1 waits."
    ]
    assert queued() == 1
    # Bruno's row, on the page too, is swapped out of band with its new load.
    html = response.content.decode()
    bruno_row = re.search(rf'<tr id="operator-{bruno.pk}"[^>]*>.*?</tr>', html, re.S)
    assert bruno_row and 'hx-swap-oob="true"' in bruno_row.group(0)
    assert 'aria-label="3 of 3 open contacts"' in bruno_row.group(0)


def test_going_away_with_requeue_says_so_in_the_row(
    supervisor_client, make_operator, make_source, register
):
    ann = make_operator("Ann")
    bruno = make_operator("Bruno")
    source = make_source(weights={ann: 1})
    register(source)
    register(source)
    services.source_set_weight(source_id=source.pk, operator_id=bruno.pk, weight=1)
    url = reverse("distribution:operator_set_presence", args=[ann.pk])
    response = supervisor_client.post(
        url, {"presence": "away", "requeue_open_contacts": "on"}, **HTMX
    )
    assert said(response) == ["Away: 2 open contacts returned to the queue; 2 went to Bruno."]


def test_adding_a_weight_says_what_the_queue_gave_the_operator(
    supervisor_client, make_operator, make_source, register
):
    ann = make_operator("Ann", limit=1)
    chen = make_operator("Chen")
    source = make_source(weights={ann: 1})
    for _ in range(3):
        register(source)
    url = reverse("distribution:source_weight_set", args=[source.pk])
    response = supervisor_client.post(url, {"operator": chen.pk, "weight": "3"}, **HTMX)
    assert response.status_code == 200
    assert said(response) == ["Weight for Chen set to 3: 2 queued contacts assigned to Chen."]
    assert 'id="weights"' in response.content.decode()


def test_changing_a_weight_that_moves_nothing_says_only_the_weight(
    supervisor_client, make_operator, make_source
):
    chen = make_operator("Chen")
    source = make_source(weights={chen: 1})
    url = reverse("distribution:source_weight_set", args=[source.pk])
    response = supervisor_client.post(url, {"operator": chen.pk, "weight": "4", "row": "1"}, **HTMX)
    assert said(response) == ["Weight for Chen set to 4."]


def test_removing_a_weight_says_so(supervisor_client, make_operator, make_source):
    chen = make_operator("Chen")
    source = make_source(weights={chen: 1})
    url = reverse("distribution:source_weight_remove", args=[source.pk, chen.pk])
    response = supervisor_client.post(url, **HTMX)
    assert said(response) == ["Weight for Chen removed."]


def test_hours_that_start_a_shift_now_say_what_the_queue_gave(
    supervisor_client, make_operator, make_source, register
):
    # A Tuesday, 10:00 UTC.
    with time_machine.travel(datetime(2026, 3, 3, 10, 0, tzinfo=UTC), tick=False):
        chen = make_operator("Chen")
        source = make_source(weights={chen: 1})
        services.operator_set_schedule(
            operator_id=chen.pk, time_zone="UTC", hours=[(1, time(12), time(13))]
        )
        register(source)
        register(source)
        assert queued() == 2
        url = reverse("distribution:operator_schedule", args=[chen.pk])
        response = supervisor_client.post(
            url, form_data("UTC", [("1", "09:00", "17:00")]), follow=True
        )
    assert "Working hours of Chen saved: 2 queued contacts assigned to Chen." in said(response)
    assert queued() == 0


def test_a_close_names_only_the_contacts_its_own_drain_gave_the_slot_to(
    supervisor_client, make_operator, make_source, register
):
    # All at one instant: a contact assigned just before the close, at the same time,
    # did not take its slot; the close's own log entries say which one did.
    with time_machine.travel(datetime(2026, 3, 3, 10, 0, tzinfo=UTC), tick=False):
        ann = make_operator("Ann", limit=2)
        source = make_source(weights={ann: 1})
        first, second, waiting = (register(source) for _ in range(3))
        assert second.operator_id == ann.pk and waiting.operator_id is None
        url = reverse("distribution:contact_close", args=[first.pk])
        response = supervisor_client.post(url, **HTMX)
    assert f"Closed #{first.pk}; its slot went to #{waiting.pk}." in said(response)
