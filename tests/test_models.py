"""Invariants the database enforces by itself, whoever writes the rows."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from distribution.models import Contact, Lead, Operator, Source, SourceOperatorConfig

pytestmark = pytest.mark.django_db


def refused(create) -> bool:
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


def test_one_weight_per_source_and_operator(make_operator, make_source):
    op = make_operator()
    source = make_source(weights={op: 1})

    assert refused(
        lambda: SourceOperatorConfig.objects.create(source=source, operator=op, weight=2)
    )


@pytest.mark.parametrize("weight", [0, 1001])
def test_weight_outside_1_to_1000_is_refused(make_operator, make_source, weight):
    op, source = make_operator(), make_source()

    assert refused(
        lambda: SourceOperatorConfig.objects.create(source=source, operator=op, weight=weight)
    )


def test_negative_or_huge_limit_is_refused(db):
    assert refused(lambda: Operator.objects.create(name="A", name_key="a", workload_limit=100_001))
    assert refused(lambda: Operator.objects.create(name="B", name_key="b", workload_limit=-1))


def test_operator_and_source_names_are_unique_by_their_case_folded_key(db):
    Operator.objects.create(name="Alice", name_key="alice")
    Source.objects.create(name="Straße", name_key="strasse")

    assert refused(lambda: Operator.objects.create(name="ALICE", name_key="alice"))
    assert refused(lambda: Source.objects.create(name="STRASSE", name_key="strasse"))


def test_a_name_without_its_key_is_refused(db):
    assert refused(lambda: Operator.objects.create(name="Alice"))
    assert refused(lambda: Source.objects.create(name="Web"))


def test_clean_sets_the_key_from_the_trimmed_folded_name(db):
    operator = Operator(name="\ufeff Émile\u200b ")

    operator.clean()

    assert (operator.name, operator.name_key) == ("Émile", "émile")


def test_one_lead_per_identifier_key(db):
    Lead.objects.create(identifier="A@b.c", identifier_key="a@b.c")

    assert refused(lambda: Lead.objects.create(identifier="a@B.c", identifier_key="a@b.c"))


def test_a_closed_contact_needs_a_closed_at_and_an_operator_an_assigned_at(make_source, register):
    contact = register(make_source())

    assert refused(lambda: Contact.objects.filter(pk=contact.pk).update(status="closed"))
    assert refused(lambda: Contact.objects.filter(pk=contact.pk).update(status="lost"))
    op = Operator.objects.create(name="X", name_key="x")
    assert refused(lambda: Contact.objects.filter(pk=contact.pk).update(operator=op))


@pytest.mark.parametrize("what", ["operator", "source", "lead"])
def test_deleting_a_row_with_contacts_is_refused(make_operator, make_source, register, what):
    op = make_operator()
    contact = register(make_source(weights={op: 1}))
    row = {"operator": op, "source": contact.source, "lead": contact.lead}[what]

    with pytest.raises(ProtectedError):
        row.delete()

    assert Contact.objects.filter(pk=contact.pk).exists()


def test_deleting_an_operator_without_contacts_removes_its_weights(make_operator, make_source):
    op = make_operator()
    make_source(weights={op: 1})

    op.delete()

    assert SourceOperatorConfig.objects.count() == 0


def test_lead_clean_trims_and_folds_the_identifier(db):
    lead = Lead(identifier="  Straße@Example.COM ")

    lead.clean()

    assert lead.identifier == "Straße@Example.COM"
    assert lead.identifier_key == "strasse@example.com"
