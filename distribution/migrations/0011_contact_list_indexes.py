import django.db.models.deletion
from django.db import migrations, models

# The foreign keys' own indexes, as Django named them: the new indexes begin with these
# columns, so they go. Dropped by name rather than by AlterField, which on SQLite would
# copy the whole contacts table (twice) only to leave out an index.
FOREIGN_KEY_INDEXES = {
    "distribution_contact_source_id_1b6a6f70": "source_id",
    "distribution_contact_operator_id_50c0677e": "operator_id",
}


class Migration(migrations.Migration):
    dependencies = [
        ("distribution", "0010_lead_search"),
    ]

    operations = [
        # See models.ContactTally.source: its foreign key lock could close a deadlock cycle.
        migrations.AlterField(
            model_name="contacttally",
            name="source",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="tallies",
                to="distribution.source",
            ),
        ),
        # The statistics read the tallies now.
        migrations.RemoveIndex(
            model_name="contact",
            name="contact_source_operator_status",
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="contact",
                    name="operator",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="contacts",
                        to="distribution.operator",
                    ),
                ),
                migrations.AlterField(
                    model_name="contact",
                    name="source",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="contacts",
                        to="distribution.source",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    f'CREATE INDEX "{name}" ON "distribution_contact" ("{column}")',
                )
                for name, column in FOREIGN_KEY_INDEXES.items()
            ],
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(fields=["source", "-created_at", "-id"], name="contact_by_source"),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                fields=["operator", "-created_at", "-id"], name="contact_by_operator"
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("status", "open")),
                fields=["-created_at", "-id"],
                name="contact_open_newest",
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                fields=["source", "operator", "-created_at", "-id"],
                name="contact_by_source_operator",
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("status", "open")),
                fields=["source", "-created_at", "-id"],
                name="contact_open_by_source",
            ),
        ),
        # An operator's open contacts, newest first (its load counts the same entries).
        migrations.RemoveIndex(model_name="contact", name="contact_open_by_operator"),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("status", "open")),
                fields=["operator", "-created_at", "-id"],
                name="contact_open_by_operator",
            ),
        ),
    ]
