"""
A test-only audit of every assignment, written by a database trigger inside the assigning
transaction: the operator's active flag, its load with the new contact, its limit and
whether it has a weight for the contact's source, as they were at that moment.

That checks I1 (allocation.py) for every assignment a run makes, however many servers
made them, not only the state at the end. Installed by the load test for its run and
removed afterwards; the product's schema does not have it.
"""

from dataclasses import dataclass

from django.db import connection

TABLE = "test_assignment_audit"

_COLUMNS = "contact_id, operator_id, is_active, load, workload_limit, weighted"

# The operator's row, its load counted in the same transaction, and its weight.
_SELECT = """
    SELECT NEW.id, o.id, o.is_active,
        (SELECT count(*) FROM distribution_contact c
            WHERE c.operator_id = o.id AND c.status = 'open'),
        o.workload_limit,
        EXISTS (SELECT 1 FROM distribution_sourceoperatorconfig w
            WHERE w.operator_id = o.id AND w.source_id = NEW.source_id)
    FROM distribution_operator o WHERE o.id = NEW.operator_id
"""

_POSTGRES = [
    f"""CREATE TABLE {TABLE} (id serial PRIMARY KEY, contact_id bigint, operator_id bigint,
        is_active boolean, load integer, workload_limit integer, weighted boolean)""",
    f"""CREATE FUNCTION {TABLE}_record() RETURNS trigger AS $$
    BEGIN
        IF NEW.operator_id IS NOT NULL
           AND (TG_OP = 'INSERT' OR NEW.operator_id IS DISTINCT FROM OLD.operator_id) THEN
            INSERT INTO {TABLE} ({_COLUMNS}) {_SELECT};
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER {TABLE}_trigger AFTER INSERT OR UPDATE OF operator_id
        ON distribution_contact FOR EACH ROW EXECUTE FUNCTION {TABLE}_record()""",
]
_POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS {TABLE}_trigger ON distribution_contact",
    f"DROP FUNCTION IF EXISTS {TABLE}_record()",
    f"DROP TABLE IF EXISTS {TABLE}",
]

_SQLITE = [
    f"""CREATE TABLE {TABLE} (id integer PRIMARY KEY, contact_id integer, operator_id integer,
        is_active bool, load integer, workload_limit integer, weighted bool)""",
    f"""CREATE TRIGGER {TABLE}_insert AFTER INSERT ON distribution_contact
        WHEN NEW.operator_id IS NOT NULL
        BEGIN INSERT INTO {TABLE} ({_COLUMNS}) {_SELECT}; END""",
    f"""CREATE TRIGGER {TABLE}_update AFTER UPDATE OF operator_id ON distribution_contact
        WHEN NEW.operator_id IS NOT NULL AND OLD.operator_id IS NOT NEW.operator_id
        BEGIN INSERT INTO {TABLE} ({_COLUMNS}) {_SELECT}; END""",
]
_SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {TABLE}_insert",
    f"DROP TRIGGER IF EXISTS {TABLE}_update",
    f"DROP TABLE IF EXISTS {TABLE}",
]


@dataclass(frozen=True)
class Assignment:
    contact_id: int
    operator_id: int
    is_active: bool
    load: int
    workload_limit: int
    weighted: bool

    def violation(self) -> str | None:
        """What broke I1 at this assignment, or None."""
        problems = [
            "inactive" if not self.is_active else "",
            f"load {self.load} > limit {self.workload_limit}"
            if self.load > self.workload_limit
            else "",
            "no weight for the source" if not self.weighted else "",
        ]
        found = [p for p in problems if p]
        if not found:
            return None
        return f"contact {self.contact_id} -> operator {self.operator_id}: {', '.join(found)}"


def _run(statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install() -> None:
    _run(_POSTGRES if connection.vendor == "postgresql" else _SQLITE)


def remove() -> None:
    _run(_POSTGRES_DROP if connection.vendor == "postgresql" else _SQLITE_DROP)


def assignments() -> list[Assignment]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_COLUMNS} FROM {TABLE} ORDER BY id")
        return [
            Assignment(c, o, bool(active), load, limit, bool(weighted))
            for c, o, active, load, limit, weighted in cursor.fetchall()
        ]
