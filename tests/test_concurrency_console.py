"""Reopen, return to the queue and the bulk actions in real threads and transactions: one
contact reopened or closed twice at once, and all of them beside registrations."""

import random

import pytest
from django.core.exceptions import ValidationError

from distribution import services
from distribution.models import Contact, ContactEvent, Operator
from tests.test_concurrency import assert_invariants, run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_reopens_of_one_contact_at_once_reopen_it_once(make_operator, make_source):
    ann = make_operator(limit=1)
    source = make_source(weights={ann: 1})
    contact = services.contact_register(lead_identifier="eve", source_id=source.pk)
    services.contact_close(contact_id=contact.pk)

    errors = run_in_threads(2, lambda i: services.contact_reopen(contact_id=contact.pk))

    # The second one waited for the first one's lock and found the contact open.
    assert len(errors) == 1 and isinstance(errors[0], ValidationError)
    assert ContactEvent.objects.filter(contact=contact, kind="reopened").count() == 1
    assert Contact.objects.get(pk=contact.pk).operator_id == ann.pk
    assert_invariants()


def test_a_close_and_a_reopen_of_one_contact_at_once_leave_it_consistent(
    make_operator, make_source
):
    ann, bob = make_operator(limit=1), make_operator(limit=1)
    source = make_source(weights={ann: 1, bob: 1})
    for round_ in range(5):
        contact = services.contact_register(lead_identifier=f"r{round_}", source_id=source.pk)
        services.contact_close(contact_id=contact.pk)
        services.contact_reopen(contact_id=contact.pk)

        def work(i: int, contact_id: int = contact.pk) -> None:
            if i == 0:
                services.contact_close(contact_id=contact_id)
            else:
                services.contact_reopen(contact_id=contact_id)

        errors = run_in_threads(2, work)

        # Either the reopen came first (refused: still open) and the close then closed
        # it, or the close came first and the reopen opened it again.
        contact.refresh_from_db()
        reopens = ContactEvent.objects.filter(contact=contact, kind="reopened").count()
        if errors:
            assert [type(e) for e in errors] == [ValidationError]
            assert contact.status == "closed" and reopens == 1
        else:
            assert contact.status == "open" and reopens == 2
        assert_invariants()
        services.contact_close(contact_id=contact.pk)


def test_reopens_returns_bulk_actions_and_registrations_keep_every_rule(make_operator, make_source):
    operators = [make_operator(limit=2) for _ in range(3)]
    source = make_source(weights={op: i + 1 for i, op in enumerate(operators)})
    seeded = [
        services.contact_register(lead_identifier=f"seed{n}", source_id=source.pk) for n in range(8)
    ]
    for contact in seeded[:4]:
        services.contact_close(contact_id=contact.pk)
    ids = [c.pk for c in seeded]

    def work(i: int) -> None:
        rng = random.Random(i)
        for _ in range(6):
            chosen = rng.sample(ids, 3)
            try:
                match i % 5:
                    case 0:
                        services.contact_reopen(contact_id=chosen[0], rng=rng)
                    case 1:
                        services.contact_return_to_queue(contact_id=chosen[0], rng=rng)
                    case 2:
                        services.contact_bulk_close(contact_ids=chosen, rng=rng)
                    case 3:
                        services.contact_bulk_return_to_queue(contact_ids=chosen, rng=rng)
                    case _:
                        services.contact_register(
                            lead_identifier=f"t{i}", source_id=source.pk, rng=rng
                        )
            except ValidationError:
                pass  # Refused: open, closed or queued already; nothing changed.

    errors = run_in_threads(10, work)

    assert errors == []
    assert all(op.workload_limit == 2 for op in Operator.objects.all())
    assert_invariants()
