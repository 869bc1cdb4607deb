"""
What one registration locks on PostgreSQL (goal 5 of issue 13): `python -m bench.locks`.

A registration is run through services.contact_register inside a transaction that is held
open; a second connection then probes, table by table, which rows it could not take:

* rows a `FOR NO KEY UPDATE SKIP LOCKED` skips are held by a strong row lock (the
  registration's `SELECT ... FOR UPDATE`s and its UPDATEs): another registration that
  needs one of them waits for this one to commit;
* rows only a `FOR UPDATE SKIP LOCKED` skips are held `FOR KEY SHARE` (the foreign-key
  checks of the rows it inserted): they block deletes and key changes, not registrations;
* the new lead's unique key: an insert of the same key with a short lock_timeout waits.

It also lists the table-level locks (pg_locks) the registration's backend holds. One JSON
line on stdout.
"""

import json
import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
django.setup()

import psycopg  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from bench.server import database_url  # noqa: E402
from distribution import services  # noqa: E402
from distribution.models import Contact, Lead, Operator, Source  # noqa: E402

# Small tables whose rows a registration may lock: every row is probed.
PROBED = (
    "distribution_source",
    "distribution_operator",
    "distribution_sourceoperatorconfig",
    "distribution_contacttally",
)


def probe(other: psycopg.Connection, table: str, mode: str) -> set[int]:
    with other.transaction(force_rollback=True):
        every = {row[0] for row in other.execute(f"SELECT id FROM {table}")}
        free = {row[0] for row in other.execute(f"SELECT id FROM {table} FOR {mode} SKIP LOCKED")}
    return every - free


def describe(table: str, ids: set[int]) -> str:
    if not ids:
        return ""
    if table == "distribution_source":
        return ", ".join(Source.objects.filter(pk__in=ids).values_list("name", flat=True))
    if table == "distribution_operator":
        return f"{len(ids)} operators"
    return f"{len(ids)} rows"


def main() -> None:
    source = Source.objects.order_by("pk").first()
    assert source is not None
    weighted = source.weights.count()
    key = f"locks-{time.time_ns()}@bench.example"
    tables = set(connection.introspection.table_names())
    result: dict = {"source": source.name, "weighted_operators": weighted, "rows": {}}
    with (
        psycopg.connect(database_url(connection.settings_dict), autocommit=True) as other,
        transaction.atomic(),
    ):
        services.contact_register(lead_identifier=key, source_id=source.pk)
        pid = connection.cursor().connection.info.backend_pid
        for table in PROBED:
            if table not in tables:
                continue
            strong = probe(other, table, "NO KEY UPDATE")
            share = probe(other, table, "UPDATE") - strong
            result["rows"][table] = {
                "strong": len(strong),
                "key_share": len(share),
                "of": other.execute(f"SELECT count(*) FROM {table}").fetchone()[0],
                "which": describe(table, strong),
            }
        try:
            with other.transaction(force_rollback=True):
                other.execute("SET LOCAL lock_timeout = '200ms'")
                other.execute(
                    "INSERT INTO distribution_lead (identifier, identifier_key, name,"
                    " created_at) VALUES (%s, %s, '', now())",
                    (key, key),
                )
            result["lead_key_locked"] = False
        except psycopg.errors.LockNotAvailable:
            result["lead_key_locked"] = True
        relations = other.execute(
            "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
            " WHERE l.pid = %s AND c.relkind = 'r' ORDER BY c.relname, l.mode",
            (pid,),
        ).fetchall()
        result["relations"] = [f"{name} {mode}" for name, mode in relations]
        transaction.set_rollback(True)
    result["operators_total"] = Operator.objects.count()
    result["leads"] = Lead.objects.count()
    result["contacts"] = Contact.objects.count()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
