"""The Django admin: every model listed, edits go through the services, deletes refused."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from distribution import selectors
from distribution.models import ApiToken, Contact, Lead, Operator, Source

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", password="x" * 12)
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", [Operator, Source, Lead, Contact, ApiToken])
def test_every_model_has_a_searchable_changelist(admin_client, make_source, register, model):
    register(make_source())

    response = admin_client.get(
        reverse(f"admin:distribution_{model._meta.model_name}_changelist"), {"q": "a"}
    )

    assert response.status_code == 200


def test_change_pages_open(admin_client, make_operator, make_source, register):
    op = make_operator()
    contact = register(make_source(weights={op: 1}))

    for obj in (op, contact.source, contact.lead, contact):
        url = reverse(f"admin:distribution_{obj._meta.model_name}_change", args=[obj.pk])
        assert admin_client.get(url).status_code == 200


def test_raising_a_limit_in_the_admin_drains_the_queue(
    admin_client, make_operator, make_source, register
):
    op = make_operator("Alice", limit=1)
    source = make_source(weights={op: 1})
    register(source)
    register(source)

    response = admin_client.post(
        reverse("admin:distribution_operator_change", args=[op.pk]),
        {"name": "Alice", "is_active": "on", "workload_limit": "2"},
    )

    assert response.status_code == 302
    assert selectors.queue_length() == 0
    assert selectors.operator_loads([op.pk]) == {op.pk: 2}


def test_adding_a_weight_inline_drains_the_queue(
    admin_client, make_operator, make_source, register
):
    op = make_operator(limit=5)
    source = make_source("Web")
    register(source)

    response = admin_client.post(
        reverse("admin:distribution_source_change", args=[source.pk]),
        {
            "name": "Web",
            "weights-TOTAL_FORMS": "1",
            "weights-INITIAL_FORMS": "0",
            "weights-0-operator": str(op.pk),
            "weights-0-weight": "3",
        },
    )

    assert response.status_code == 302
    assert selectors.queue_length() == 0


@pytest.mark.parametrize("what", ["operator", "source", "lead"])
def test_deleting_a_row_with_contacts_is_refused_with_a_message(
    admin_client, make_operator, make_source, register, what
):
    op = make_operator()
    contact = register(make_source(weights={op: 1}))
    row = {"operator": op, "source": contact.source, "lead": contact.lead}[what]
    url = reverse(f"admin:distribution_{what}_delete", args=[row.pk])

    page = admin_client.get(url)
    posted = admin_client.post(url, {"post": "yes"})

    assert page.status_code == 200
    assert b"Cannot delete" in page.content
    assert posted.status_code in (200, 403)
    assert type(row).objects.filter(pk=row.pk).exists()


def test_bulk_delete_of_rows_with_contacts_is_refused(
    admin_client, make_operator, make_source, register
):
    op = make_operator()
    register(make_source(weights={op: 1}))

    response = admin_client.post(
        reverse("admin:distribution_operator_changelist"),
        {"action": "delete_selected", "_selected_action": [op.pk], "post": "yes"},
    )

    assert response.status_code == 200
    assert b"Cannot delete" in response.content
    assert Operator.objects.filter(pk=op.pk).exists()


def test_close_action_closes_and_drains(admin_client, make_operator, make_source, register):
    op = make_operator(limit=1)
    source = make_source(weights={op: 1})
    first = register(source)
    queued = register(source)

    admin_client.post(
        reverse("admin:distribution_contact_changelist"),
        {"action": "close_contacts", "_selected_action": [first.pk]},
    )

    first.refresh_from_db()
    queued.refresh_from_db()
    assert first.status == Contact.Status.CLOSED
    assert queued.operator_id == op.pk


def test_tokens_cannot_be_added_in_the_admin_but_can_be_revoked(admin_client):
    response = admin_client.get(reverse("admin:distribution_apitoken_add"))

    assert response.status_code == 403


def test_revoke_action_revokes_tokens(admin_client):
    from distribution.auth_tokens import api_token_authenticate, api_token_create

    token, secret = api_token_create(name="bot")

    admin_client.post(
        reverse("admin:distribution_apitoken_changelist"),
        {"action": "revoke_tokens", "_selected_action": [token.pk]},
    )

    token.refresh_from_db()
    assert token.is_revoked
    assert api_token_authenticate(secret) is None


def test_contacts_cannot_be_deleted_in_the_admin(admin_client, make_source, register):
    contact = register(make_source())

    response = admin_client.post(
        reverse("admin:distribution_contact_delete", args=[contact.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()
