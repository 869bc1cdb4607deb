"""Data migrations keep every row."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("distribution", "0003_lead_identifier_key_length")]
AFTER = [("distribution", "0004_name_key")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_names_that_fold_alike_are_kept_apart_by_the_name_key_migration():
    old = migrate(BEFORE)
    operator = old.get_model("distribution", "Operator")
    # Both were allowed by lower(name) on either database: lower() keeps "ß".
    first = operator.objects.create(name="Straße ")
    second = operator.objects.create(name="STRASSE")
    old.get_model("distribution", "Source").objects.create(name="Web")
    try:
        new = migrate(AFTER)
        rows = dict(new.get_model("distribution", "Operator").objects.values_list("pk", "name_key"))
        names = dict(new.get_model("distribution", "Operator").objects.values_list("pk", "name"))
        source_keys = list(new.get_model("distribution", "Source").objects.values_list("name_key"))
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert names == {first.pk: "Straße", second.pk: f"STRASSE (#{second.pk})"}
    assert rows == {first.pk: "strasse", second.pk: f"strasse (#{second.pk})"}
    assert source_keys == [("web",)]


BEFORE_PHONE_KEYS = [("distribution", "0007_routing_policies")]
PHONE_KEYS = [("distribution", "0008_phone_lead_keys")]


def _old_lead(apps, identifier, *, name="", created_at, key=None):
    # The key every lead had before: the trimmed, case-folded identifier.
    return apps.get_model("distribution", "Lead").objects.create(
        identifier=identifier,
        identifier_key=identifier.strip().casefold() if key is None else key,
        name=name,
        created_at=created_at,
    )


@pytest.mark.django_db(transaction=True)
def test_the_phone_key_migration_merges_spellings_of_one_number_keeping_every_contact():
    old = migrate(BEFORE_PHONE_KEYS)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    source = old.get_model("distribution", "Source").objects.create(name="Web", name_key="web")
    oldest = _old_lead(old, "+44 7700 918827", created_at=now)
    named = _old_lead(old, "+447700918827", name="Ann", created_at=now + timedelta(days=1))
    third = _old_lead(old, "0044-7700-918827", name="Annie", created_at=now + timedelta(days=2))
    mail = _old_lead(old, "Bob@Example.com", name="Bob", created_at=now)
    handle = _old_lead(old, "@bob", created_at=now)
    lone = _old_lead(old, "+1 (415) 555-2671", created_at=now)
    contact = old.get_model("distribution", "Contact").objects
    contacts = {
        lead.pk: [contact.create(lead=lead, source=source).pk for _ in range(n)]
        for lead, n in [(oldest, 1), (named, 2), (third, 1), (mail, 1), (handle, 1), (lone, 0)]
    }
    try:
        new = migrate(PHONE_KEYS)
        leads = {
            row[0]: row[1:]
            for row in new.get_model("distribution", "Lead").objects.values_list(
                "pk", "identifier", "identifier_key", "name"
            )
        }
        owner = dict(new.get_model("distribution", "Contact").objects.values_list("pk", "lead"))
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert leads == {
        oldest.pk: ("+44 7700 918827", "+447700918827", "Ann"),
        mail.pk: ("Bob@Example.com", "bob@example.com", "Bob"),
        handle.pk: ("@bob", "@bob", ""),
        lone.pk: ("+1 (415) 555-2671", "+14155552671", ""),
    }
    merged = contacts[oldest.pk] + contacts[named.pk] + contacts[third.pk]
    assert owner == {pk: oldest.pk for pk in merged} | {
        contacts[mail.pk][0]: mail.pk,
        contacts[handle.pk][0]: handle.pk,
    }


@pytest.mark.django_db(transaction=True)
def test_the_phone_key_migration_reports_and_leaves_leads_whose_keys_collide(caplog):
    old = migrate(BEFORE_PHONE_KEYS)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    # Keys edited by hand into each other's: each lead's new key is the other's old one,
    # so neither can move first.
    first = _old_lead(old, "+44 7700 918827", key="+14155552671", created_at=now)
    second = _old_lead(old, "+1 415 555 2671", key="+447700918827", created_at=now)
    # A stale key that only blocks until its own lead has moved is resolved.
    third = _old_lead(old, "+44 20 7946 0000", created_at=now)
    fourth = _old_lead(old, "x", key="+442079460000", created_at=now + timedelta(days=1))
    try:
        with caplog.at_level("WARNING"):
            new = migrate(PHONE_KEYS)
        keys = dict(
            new.get_model("distribution", "Lead").objects.values_list("pk", "identifier_key")
        )
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert keys == {
        first.pk: "+14155552671",
        second.pk: "+447700918827",
        third.pk: "+442079460000",
        fourth.pk: "x",
    }
    assert f"[{first.pk}]" in caplog.text
    assert f"[{second.pk}]" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_the_phone_key_migration_goes_back_without_splitting_the_merged_leads():
    old = migrate(BEFORE_PHONE_KEYS)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    kept = _old_lead(old, "+44 7700 918827", created_at=now)
    _old_lead(old, "+447700918827", created_at=now + timedelta(days=1))
    try:
        migrate(PHONE_KEYS)
        back = migrate(BEFORE_PHONE_KEYS)
        keys = list(
            back.get_model("distribution", "Lead").objects.values_list("pk", "identifier_key")
        )
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert keys == [(kept.pk, "+447700918827")]
