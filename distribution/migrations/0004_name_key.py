"""Names of operators and sources are unique by a case-folded key computed in Python.

Replaces the unique index on lower(name), whose folding differed between SQLite and
PostgreSQL. Existing names that fold to the same key (possible on SQLite, where
"Émile" and "émile" were allowed) are kept apart by appending the row's id to the
later ones' names, so the migration loses nothing.
"""

import unicodedata

from django.db import migrations, models


def _trim(value):
    def invisible(char):
        return char.isspace() or unicodedata.category(char) in {"Cf", "Zs"}

    start, end = 0, len(value)
    while start < end and invisible(value[start]):
        start += 1
    while end > start and invisible(value[end - 1]):
        end -= 1
    return value[start:end]


def fill_name_keys(apps, schema_editor):
    for model_name in ("Operator", "Source"):
        model = apps.get_model("distribution", model_name)
        seen = set()
        for row in model.objects.order_by("pk"):
            row.name = _trim(row.name)
            key = row.name.casefold()
            if key in seen:
                row.name = f"{row.name} (#{row.pk})"
                key = row.name.casefold()
            seen.add(key)
            row.name_key = key
            row.save(update_fields=["name", "name_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("distribution", "0003_lead_identifier_key_length"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="operator", name="operator_name_unique_ci"),
        migrations.RemoveConstraint(model_name="source", name="source_name_unique_ci"),
        migrations.AddField(
            model_name="operator",
            name="name_key",
            field=models.CharField(default="", editable=False, max_length=600),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="source",
            name="name_key",
            field=models.CharField(default="", editable=False, max_length=600),
            preserve_default=False,
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="operator",
            constraint=models.UniqueConstraint(
                fields=("name_key",),
                name="operator_name_key_unique",
                violation_error_code="name_taken",
                violation_error_message="An operator with this name already exists.",
            ),
        ),
        migrations.AddConstraint(
            model_name="source",
            constraint=models.UniqueConstraint(
                fields=("name_key",),
                name="source_name_key_unique",
                violation_error_code="name_taken",
                violation_error_message="A source with this name already exists.",
            ),
        ),
        migrations.AddConstraint(
            model_name="operator",
            constraint=models.CheckConstraint(
                condition=models.Q(("name_key", ""), _negated=True), name="operator_name_key_set"
            ),
        ),
        migrations.AddConstraint(
            model_name="source",
            constraint=models.CheckConstraint(
                condition=models.Q(("name_key", ""), _negated=True), name="source_name_key_set"
            ),
        ),
    ]
