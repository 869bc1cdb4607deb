"""The decision log in the admin: read-only lists, and a contact's events inline."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from pytest_django.asserts import assertContains

from distribution import decision_log
from distribution.models import ContactEvent, SettingChange, Source
from tests.log_support import BOSS, START, log_story
from tests.views_support import queries_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", password="x" * 12)
    client.force_login(user)
    return client


@pytest.fixture
def logged(make_operator, make_source, register):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source("Bot", weights={ann: 1})
    contact = register(source)
    log_story(contact, ann, bob)
    decision_log.record(
        [
            decision_log.setting_change(
                "workload_limit", 10, 12, actor=BOSS, operator_id=ann.pk, at=START
            )
        ]
    )
    return contact


@pytest.mark.parametrize("model", [ContactEvent, SettingChange])
def test_the_log_is_listed_and_filtered_but_cannot_be_added_changed_or_deleted(
    admin_client, logged, model
):
    name = model._meta.model_name
    changelist = reverse(f"admin:distribution_{name}_changelist")
    entry = model.objects.first()

    assert admin_client.get(changelist).status_code == 200
    assert admin_client.get(changelist, {"actor_type__exact": "supervisor"}).status_code == 200
    assert admin_client.get(reverse(f"admin:distribution_{name}_add")).status_code == 403
    change = reverse(f"admin:distribution_{name}_change", args=[entry.pk])
    response = admin_client.get(change)
    assert response.status_code == 200
    assertContains(response, "Close")  # A view page: no Save button.
    assert "_save" not in response.content.decode()
    assert admin_client.post(change, {"field": "hacked"}).status_code == 403
    delete = reverse(f"admin:distribution_{name}_delete", args=[entry.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=entry.pk).exists()


def test_events_are_filtered_by_kind(admin_client, logged):
    changelist = reverse("admin:distribution_contactevent_changelist")
    response = admin_client.get(changelist, {"kind__exact": "reassigned"})
    assert response.context["cl"].result_count == 1


def test_the_lists_cost_the_same_queries_however_many_entries(admin_client, logged, make_operator):
    for model in (ContactEvent, SettingChange):
        url = reverse(f"admin:distribution_{model._meta.model_name}_changelist")
        before = queries_for(lambda url=url: admin_client.get(url))
        log_story(logged, make_operator(), make_operator())
        decision_log.record(
            [
                decision_log.setting_change(
                    "weight",
                    1,
                    2,
                    actor=BOSS,
                    operator_id=make_operator().pk,
                    source_id=logged.source_id,
                )
            ]
        )
        assert queries_for(lambda url=url: admin_client.get(url)) == before


def test_a_contacts_admin_page_shows_its_events_inline_read_only(admin_client, logged):
    response = admin_client.get(reverse("admin:distribution_contact_change", args=[logged.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assertContains(response, '<td class="field-kind"><p>Reassigned by hand</p></td>', html=True)
    assertContains(response, '<td class="field-reason"><p>drawn by weight</p></td>', html=True)
    assert 'name="events-0-kind"' not in html  # Read-only: no inputs.
    assert 'name="events-MAX_NUM_FORMS" value="0"' in html  # Nothing can be added.


def test_a_rename_in_the_admin_goes_through_the_service_and_is_logged(admin_client, make_source):
    source = make_source("Web")

    response = admin_client.post(
        reverse("admin:distribution_source_change", args=[source.pk]),
        {
            "name": "Ads",
            # Read-only there: a value sent anyway changes nothing.
            "mode": "balanced",
            "weights-TOTAL_FORMS": "0",
            "weights-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    source = Source.objects.get(pk=source.pk)
    assert (source.name, source.mode) == ("Ads", "random")
    changes = SettingChange.objects.filter(source=source)
    assert [(c.field, c.old, c.new, c.actor_type, c.actor_name) for c in changes] == [
        ("name", "Web", "Ads", "supervisor", "root"),
    ]
