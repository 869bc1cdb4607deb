"""Data migrations keep every row."""

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
