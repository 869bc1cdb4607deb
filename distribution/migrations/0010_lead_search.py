from django.db import migrations, models

# The leads' search index (distribution/search.py says why): an FTS5 table with the trigram
# tokenizer kept by triggers on SQLite, pg_trgm's GIN indexes on PostgreSQL. The SQL is
# written out here, not imported, so that this migration stays what it was.
FTS = "distribution_lead_search"
SQLITE = [
    f"""CREATE VIRTUAL TABLE {FTS} USING fts5(
        identifier_key, name,
        content='distribution_lead', content_rowid='id', tokenize='trigram'
    )""",
    f"""CREATE TRIGGER {FTS}_insert AFTER INSERT ON distribution_lead BEGIN
        INSERT INTO {FTS}(rowid, identifier_key, name)
        VALUES (new.id, new.identifier_key, new.name);
    END""",
    f"""CREATE TRIGGER {FTS}_delete AFTER DELETE ON distribution_lead BEGIN
        INSERT INTO {FTS}({FTS}, rowid, identifier_key, name)
        VALUES ('delete', old.id, old.identifier_key, old.name);
    END""",
    f"""CREATE TRIGGER {FTS}_update AFTER UPDATE OF id, identifier_key, name
    ON distribution_lead BEGIN
        INSERT INTO {FTS}({FTS}, rowid, identifier_key, name)
        VALUES ('delete', old.id, old.identifier_key, old.name);
        INSERT INTO {FTS}(rowid, identifier_key, name)
        VALUES (new.id, new.identifier_key, new.name);
    END""",
    # The leads already stored.
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]
SQLITE_DROP = [
    f"DROP TRIGGER {FTS}_insert",
    f"DROP TRIGGER {FTS}_delete",
    f"DROP TRIGGER {FTS}_update",
    f"DROP TABLE {FTS}",
]
POSTGRES = [
    # A trusted extension (PostgreSQL 13+): the database's owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX lead_identifier_key_trgm ON distribution_lead "
    "USING gin (identifier_key gin_trgm_ops)",
    # Django's icontains reads UPPER(name::text) LIKE UPPER(%s): the index holds that.
    "CREATE INDEX lead_name_trgm ON distribution_lead USING gin ((UPPER(name::text)) gin_trgm_ops)",
]
POSTGRES_DROP = ["DROP INDEX lead_identifier_key_trgm", "DROP INDEX lead_name_trgm"]


def _run(schema_editor, statements: dict[str, list[str]]) -> None:
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def install_search(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE, "postgresql": POSTGRES})


def uninstall_search(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP})


class Migration(migrations.Migration):
    dependencies = [
        ("distribution", "0009_contact_tallies"),
    ]

    operations = [
        migrations.RunPython(install_search, uninstall_search),
        # A source's fairness report: its contacts assigned in a period, per operator.
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                fields=["source", "assigned_at", "operator"], name="contact_source_assigned"
            ),
        ),
        # An operator's day (/my/): its contacts closed since midnight.
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("status", "closed")),
                fields=["operator", "closed_at"],
                name="contact_closed_by_operator",
            ),
        ),
        # A period's assignments in the decision log (the fairness report).
        migrations.AddIndex(
            model_name="contactevent",
            index=models.Index(fields=["kind", "at"], name="contact_event_kind_at"),
        ),
    ]
