"""The Django admin: every model listed, edits go through the services, deletes refused."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from distribution import selectors, services
from distribution.models import ApiToken, Contact, Lead, Operator, Source, SourceOperatorConfig

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
        {"name": "Alice", "is_active": "on", "presence": "available", "workload_limit": "2"},
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


# --- the admin goes through the engine ------------------------------------------------


def _weights(source) -> dict[int, int]:
    return dict(
        SourceOperatorConfig.objects.filter(source=source).values_list("operator", "weight")
    )


def _weights_post(source, rows, *, initial=0):
    data = {
        "name": source.name,
        "weights-TOTAL_FORMS": str(len(rows)),
        "weights-INITIAL_FORMS": str(initial),
    }
    for i, row in enumerate(rows):
        data.update({f"weights-{i}-{key}": str(value) for key, value in row.items()})
    return data


def test_weights_edited_in_the_admin_change_only_inside_source_set_weights(
    admin_client, make_operator, make_source, monkeypatch
):
    alice, bob = make_operator("Alice"), make_operator("Bob")
    source = make_source("Web", weights={alice: 1})
    config = SourceOperatorConfig.objects.get(source=source, operator=alice)
    seen_on_entry = []
    real = services.source_set_weights

    def spy(**kwargs):
        # What the database holds when the service (and its locks) begins.
        seen_on_entry.append(_weights(source))
        return real(**kwargs)

    monkeypatch.setattr(services, "source_set_weights", spy)

    response = admin_client.post(
        reverse("admin:distribution_source_change", args=[source.pk]),
        _weights_post(
            source,
            [
                {"id": config.pk, "source": source.pk, "operator": alice.pk, "weight": 4},
                {"source": source.pk, "operator": bob.pk, "weight": 2},
            ],
            initial=1,
        ),
    )

    assert response.status_code == 302
    assert seen_on_entry == [{alice.pk: 1}]
    assert _weights(source) == {alice.pk: 4, bob.pk: 2}


def test_a_weight_deleted_in_the_admin_is_removed_by_the_service(
    admin_client, make_operator, make_source
):
    alice, bob = make_operator("Alice"), make_operator("Bob")
    source = make_source("Web", weights={alice: 1, bob: 1})
    rows = [
        {"id": c.pk, "source": source.pk, "operator": c.operator_id, "weight": c.weight}
        for c in SourceOperatorConfig.objects.filter(source=source).order_by("operator")
    ]
    rows[0]["DELETE"] = "on"

    response = admin_client.post(
        reverse("admin:distribution_source_change", args=[source.pk]),
        _weights_post(source, rows, initial=2),
    )

    assert response.status_code == 302
    assert _weights(source) == {bob.pk: 1}


@pytest.mark.parametrize("operator", ["18446744073709551616", "99999", "1_0", "x"])
def test_a_weight_for_an_impossible_operator_is_a_form_error(admin_client, make_source, operator):
    source = make_source("Web")

    response = admin_client.post(
        reverse("admin:distribution_source_change", args=[source.pk]),
        _weights_post(source, [{"source": source.pk, "operator": operator, "weight": 1}]),
    )

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors[0]["operator"]
    assert _weights(source) == {}


def test_a_contact_added_in_the_admin_is_assigned_by_the_engine(
    admin_client, make_operator, make_source, register
):
    alice = make_operator("Alice", limit=2)
    source = make_source("Web", weights={alice: 1})
    lead = register(make_source("Other"), "customer@example.com").lead

    response = admin_client.post(
        reverse("admin:distribution_contact_add"),
        {"lead": lead.pk, "source": source.pk, "message": "Hello"},
    )

    assert response.status_code == 302
    contact = Contact.objects.get(source=source)
    assert (contact.operator_id, contact.message, contact.lead_id) == (alice.pk, "Hello", lead.pk)
    assert contact.assigned_at is not None


def test_a_contact_added_in_the_admin_with_nobody_eligible_is_queued(
    admin_client, make_source, register
):
    source = make_source("Web")
    lead = register(make_source("Other"), "customer@example.com").lead

    response = admin_client.post(
        reverse("admin:distribution_contact_add"),
        {"lead": lead.pk, "source": source.pk, "message": ""},
    )

    assert response.status_code == 302
    assert Contact.objects.get(source=source).is_queued


def test_a_contacts_routing_fields_cannot_be_changed_in_the_admin(
    admin_client, make_operator, make_source, register
):
    alice, bob = make_operator("Alice"), make_operator("Bob")
    contact = register(make_source("Web", weights={alice: 1}))
    other = make_source("Other", weights={bob: 1})

    response = admin_client.post(
        reverse("admin:distribution_contact_change", args=[contact.pk]),
        {
            "lead": contact.lead_id,
            "source": other.pk,
            "operator": bob.pk,
            "status": "closed",
            "message": "edited",
            # The page's read-only inline of the contact's events sends its management form.
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.source_id, contact.operator_id, contact.status, contact.message) == (
        contact.source_id,
        alice.pk,
        Contact.Status.OPEN,
        "edited",
    )
    assert contact.source.name == "Web"


def test_reassign_action_asks_for_an_operator_then_calls_the_service(
    admin_client, make_operator, make_source, register
):
    alice, bob = make_operator("Alice", limit=1), make_operator("Bob")
    source = make_source("Web", weights={alice: 1})
    contact = register(source)
    queued = register(source)
    url = reverse("admin:distribution_contact_changelist")
    selection = {"action": "reassign_contacts", "_selected_action": [contact.pk]}

    form = admin_client.post(url, selection)
    done = admin_client.post(url, {**selection, "operator": bob.pk, "apply": "1"})

    assert form.status_code == 200
    assert b"Bob" in form.content
    assert done.status_code == 302
    contact.refresh_from_db()
    queued.refresh_from_db()
    assert contact.operator_id == bob.pk
    # Alice's freed slot drained the queue, as a reassignment does everywhere.
    assert queued.operator_id == alice.pk


def test_reassign_action_to_an_inactive_operator_says_why_and_changes_nothing(
    admin_client, make_operator, make_source, register
):
    alice, sleeper = make_operator("Alice"), make_operator("Sleeper", active=False)
    contact = register(make_source("Web", weights={alice: 1}))

    response = admin_client.post(
        reverse("admin:distribution_contact_changelist"),
        {
            "action": "reassign_contacts",
            "_selected_action": [contact.pk],
            "operator": sleeper.pk,
            "apply": "1",
        },
        follow=True,
    )

    contact.refresh_from_db()
    assert contact.operator_id == alice.pk
    assert "Sleeper is inactive" in response.content.decode()


@pytest.mark.parametrize("identifier", ["ALICE@example.com", "  alice@example.com "])
def test_a_lead_identifier_taken_in_another_spelling_is_a_form_error(
    admin_client, make_source, register, identifier
):
    register(make_source(), "alice@example.com")
    bob = register(make_source(), "bob@example.com").lead

    changed = admin_client.post(
        reverse("admin:distribution_lead_change", args=[bob.pk]),
        {"identifier": identifier, "name": ""},
    )

    assert changed.status_code == 200
    assert changed.context["adminform"].form.errors["identifier"]
    bob.refresh_from_db()
    assert bob.identifier == "bob@example.com"
    assert Lead.objects.count() == 2


def test_leads_come_only_from_contacts_not_from_the_admin(admin_client, make_source, register):
    register(make_source(), "alice@example.com")
    changelist = admin_client.get(reverse("admin:distribution_lead_changelist"))

    added = admin_client.post(reverse("admin:distribution_lead_add"), {"identifier": "x@y.z"})

    assert added.status_code == 403
    assert reverse("admin:distribution_lead_add") not in changelist.content.decode()
    assert Lead.objects.count() == 1


def test_a_lead_renamed_in_the_admin_is_found_by_its_new_identifier(
    admin_client, make_source, register
):
    lead = register(make_source(), "old-name@example.com").lead

    admin_client.post(
        reverse("admin:distribution_lead_change", args=[lead.pk]),
        {"identifier": "Fresh@Example.org", "name": "Fresh"},
    )

    assert [x.pk for x in selectors.lead_search("fresh@")] == [lead.pk]
    assert list(selectors.lead_search("old-name")) == []
    found = admin_client.get(reverse("admin:distribution_lead_changelist"), {"q": "SH@EX"})
    assert found.context["cl"].result_count == 1
