import django.db.models.deletion
from django.db import migrations, models

# The foreign key's own index, as Django named it: contact_by_lead begins with its column, so
# it goes. Dropped by name rather than by AlterField, which on SQLite would copy the whole
# contacts table only to leave out an index (as in 0011).
LEAD_INDEX = "distribution_contact_lead_id_fb9b5cbd"


class Migration(migrations.Migration):
    dependencies = [
        ("distribution", "0012_contact_open_by_pair"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(fields=["lead", "-created_at", "-id"], name="contact_by_lead"),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="contact",
                    name="lead",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="contacts",
                        to="distribution.lead",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{LEAD_INDEX}"',
                    f'CREATE INDEX "{LEAD_INDEX}" ON "distribution_contact" ("lead_id")',
                ),
            ],
        ),
    ]
