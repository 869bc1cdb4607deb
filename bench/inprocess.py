"""
The in-process half of the benchmark, for one database: `python -m bench.inprocess`.

Run by bench/__main__.py with DATABASE_URL pointing at an empty benchmark database.
Progress goes to stderr; the figures go to stdout as one JSON line.
"""

import json
import os
import random
import sqlite3
import statistics
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
# The dashboard is timed without collectstatic; WhiteNoise would warn about STATIC_ROOT.
warnings.filterwarnings("ignore", "No directory at", UserWarning)
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench import seed  # noqa: E402
from distribution import allocation, services, tallies  # noqa: E402
from distribution.auth_tokens import api_token_create  # noqa: E402
from distribution.models import Contact, Lead, normalize_identifier, trim  # noqa: E402

ROUNDS = 5


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def use_database(name: str) -> Iterator[None]:
    """
    Point the default connection at another database of the same server (or another
    SQLite file). Benchmark-only: it lets one process alternate between the small and the
    large history, so that a slow spell of the machine hits both alike.
    """
    settings_dict = connection.settings_dict
    previous = settings_dict["NAME"]
    connection.close()
    settings_dict["NAME"] = name
    try:
        yield
    finally:
        connection.close()
        settings_dict["NAME"] = previous


class Workload:
    """Registrations like the bots send them: a random source, one in five a known lead."""

    def __init__(self, world: seed.World, *, seed_value: int):
        self.world = world
        self.rng = random.Random(seed_value)
        self.counter = 0

    def batch(self, n: int) -> list[tuple[str, int]]:
        leads = Lead.objects.count()
        items = []
        for _ in range(n):
            if self.rng.random() < 0.2:
                identifier = f"  SEED{self.rng.randint(1, leads)}@bench.example "
            else:
                self.counter += 1
                identifier = f"new-{self.rng.getrandbits(48):x}-{self.counter}@bench.example"
            items.append((identifier, self.rng.choice(self.world.source_ids)))
        return items


def close_contacts_after(contact_id: int) -> None:
    """
    Close what a round registered, untimed. A load is counted over open contacts, whose
    number the workload limits bound in real use; closing them keeps every round at
    the same number of open contacts, so that only the history differs between rounds.
    """
    opened = Contact.objects.filter(pk__gt=contact_id, status=Contact.Status.OPEN)
    moves = tallies.Moves()
    with transaction.atomic():
        for source_id, operator_id in opened.values_list("source_id", "operator_id"):
            moves.change(
                source_id,
                (operator_id, Contact.Status.OPEN),
                (operator_id, Contact.Status.CLOSED),
            )
        opened.update(status=Contact.Status.CLOSED, closed_at=timezone.now())
        # The pages timed afterwards count from the tallies: keep them true.
        tallies.write(moves)


def last_contact_id() -> int:
    return Contact.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def orm_round(batch: list[tuple[str, int]], rng: random.Random) -> float:
    started = time.perf_counter()
    for identifier, source_id in batch:
        services.contact_register(lead_identifier=identifier, source_id=source_id, rng=rng)
    return (time.perf_counter() - started) / len(batch)


def raw_round(batch: list[tuple[str, int]], rng: random.Random) -> float:
    path = connection.settings_dict["NAME"]
    connection.close()  # Nothing of Django's holds the file while sqlite3 writes.
    db = sqlite3.connect(path, isolation_level=None, timeout=20)
    try:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            db.execute(f"PRAGMA {pragma}")
        started = time.perf_counter()
        for identifier, source_id in batch:
            raw_register(db, identifier, source_id, rng)
        return (time.perf_counter() - started) / len(batch)
    finally:
        db.close()


def timed_rounds(databases: dict[str, str], workload: Workload, n: int, runs: dict) -> dict:
    """Median seconds per registration of each way of registering (`runs`: name -> round)
    on each database, keyed "<name>_<database>". Rounds alternate between the databases and
    between the ways, so that a busy spell of the machine hits all of them alike."""
    rng = random.Random(1)
    timings: dict[str, list[float]] = {f"{way}_{label}": [] for way in runs for label in databases}
    for _ in range(ROUNDS):
        for label, name in databases.items():
            for way, run_round in runs.items():
                with use_database(name):
                    batch = workload.batch(n)
                    before = last_contact_id()
                    timings[f"{way}_{label}"].append(run_round(batch, rng))
                    close_contacts_after(before)
    return {key: statistics.median(values) for key, values in timings.items()}


# contact_register's statements (allocation.lock_arrival, SQLite's path), hand-written:
# the locking statement with the loads, the lead and the sticky owner as columns, a new
# lead's insert, the contact's, the round robin's UPDATE (balanced), the tallies' upsert
# and the two events with the candidates as JSON.
RAW_ARRIVAL = """
SELECT w.operator_id, w.weight, w.balance, s.mode, s.sticky_days,
       o.is_active, o.workload_limit, o.presence, o.on_shift, o.shift_changes_at,
       (SELECT COUNT(*) FROM distribution_contact c
         WHERE c.operator_id = w.operator_id AND c.status = 'open'),
       (SELECT id FROM distribution_lead WHERE identifier_key = :key),
       (SELECT name FROM distribution_lead WHERE identifier_key = :key),
       CASE WHEN s.sticky_days IS NOT NULL THEN
         (SELECT c.operator_id FROM distribution_contact c
           WHERE c.lead_id = (SELECT id FROM distribution_lead WHERE identifier_key = :key)
             AND c.operator_id IS NOT NULL
           ORDER BY c.created_at DESC, c.id DESC LIMIT 1)
       END,
       CASE WHEN s.sticky_days IS NOT NULL THEN
         (SELECT c.created_at FROM distribution_contact c
           WHERE c.lead_id = (SELECT id FROM distribution_lead WHERE identifier_key = :key)
             AND c.operator_id IS NOT NULL
           ORDER BY c.created_at DESC, c.id DESC LIMIT 1)
       END
  FROM distribution_sourceoperatorconfig w
  JOIN distribution_source s ON s.id = w.source_id
  JOIN distribution_operator o ON o.id = w.operator_id
 WHERE w.source_id = :source
 ORDER BY w.operator_id
"""
RAW_NEW_LEAD = (
    "INSERT INTO distribution_lead (identifier, identifier_key, name, created_at)"
    " VALUES (?, ?, '', ?) ON CONFLICT (identifier_key) DO NOTHING RETURNING id"
)
RAW_CONTACT = (
    "INSERT INTO distribution_contact (lead_id, source_id, operator_id, status, message,"
    " responded_at, outcome, note, missed_by, created_at, assigned_at, closed_at)"
    " VALUES (?, ?, ?, 'open', '', NULL, NULL, '', '[]', ?, ?, NULL) RETURNING id"
)
RAW_TALLY = (
    "INSERT INTO distribution_contacttally (source_id, operator_key, status, n) VALUES {}"
    " ON CONFLICT (source_id, operator_key, status) DO UPDATE"
    " SET n = distribution_contacttally.n + excluded.n"
)
RAW_EVENTS = (
    "INSERT INTO distribution_contactevent (contact_id, at, kind, operator_id,"
    " previous_operator_id, actor_type, actor_name, reason, candidates, detail)"
    " VALUES (?, ?, 'registered', NULL, NULL, 'system', 'system', '', '[]', ''),"
    " (?, ?, ?, ?, NULL, 'system', 'system', ?, ?, '')"
)


def raw_register(db: sqlite3.Connection, identifier: str, source_id: int, rng) -> int:
    """contact_register's transaction with the sqlite3 module: the same statements, the
    same decision (presence, shifts, sticky owner, mode), the minimum of Python."""
    identifier = trim(identifier)
    key = normalize_identifier(identifier)
    now_dt = timezone.now()
    now = now_dt.strftime("%Y-%m-%d %H:%M:%S.%f")
    db.execute("BEGIN IMMEDIATE")
    try:
        rows = db.execute(RAW_ARRIVAL, {"key": key, "source": source_id}).fetchall()
        if not rows:
            raise ValueError(source_id)  # The fallback paths are not in this workload.
        mode, sticky_days, lead_id, _name, owner, owner_at = rows[0][3:5] + rows[0][11:]
        if owner is not None:
            cutoff = now_dt - timedelta(days=sticky_days)
            if owner_at < cutoff.strftime("%Y-%m-%d %H:%M:%S.%f"):
                owner = None
        candidates, eligible = [], []
        for pk, weight, _, _, _, active, limit, presence, on_shift, edge, load, *_ in rows:
            if edge is not None and now >= edge:
                on_shift = not on_shift
            why_not = (
                "inactive"
                if not active
                else presence
                if presence != "available"
                else "off shift"
                if not on_shift
                else "full"
                if load >= limit
                else None
            )
            if why_not is None:
                eligible.append((pk, weight))
            candidates.append(
                {
                    "operator_id": pk,
                    "weight": weight,
                    "open_contacts": load,
                    "workload_limit": limit,
                    "eligible": why_not is None,
                    "why_not": why_not,
                }
            )
        balances = None
        if owner is not None and any(pk == owner for pk, _ in eligible):
            operator_id, reason = owner, "sticky"
        elif mode == "balanced":
            balances = {row[0]: row[2] for row in rows}
            operator_id, reason = allocation.smooth_pick(balances, eligible), "balanced"
        else:
            operator_id, reason = allocation.choose_operator(eligible, rng=rng), "weighted"
        tally = [(source_id, operator_id or 0, "open", 1)]
        if lead_id is None:
            lead_id = db.execute(RAW_NEW_LEAD, (identifier, key, now)).fetchone()[0]
            tally.insert(0, (source_id, 0, "lead", 1))
        assigned = now if operator_id else None
        (contact_id,) = db.execute(
            RAW_CONTACT, (lead_id, source_id, operator_id, now, assigned)
        ).fetchone()
        if balances is not None and len(eligible) > 1:
            db.execute(
                "UPDATE distribution_sourceoperatorconfig SET balance = CASE operator_id"
                + " WHEN ? THEN ?" * len(balances)
                + " ELSE balance END WHERE source_id = ?",
                [*(x for pair in balances.items() for x in pair), source_id],
            )
        db.execute(
            RAW_TALLY.format(", ".join(["(?, ?, ?, ?)"] * len(tally))),
            [x for row in tally for x in row],
        )
        db.execute(
            RAW_EVENTS,
            (
                contact_id,
                now,
                contact_id,
                now,
                "assigned" if operator_id else "queued",
                operator_id,
                reason if operator_id else "",
                json.dumps(candidates),
            ),
        )
        db.execute("COMMIT")
        return contact_id
    except BaseException:
        db.execute("ROLLBACK")
        raise


def queries_per_registration(world: seed.World) -> dict[str, int]:
    counts = {}
    source_id = world.source_ids[0]
    for label, identifier in (
        ("new lead", f"queries-{time.time_ns()}@bench.example"),
        ("known lead", "seed1@bench.example"),
    ):
        with CaptureQueriesContext(connection) as queries:
            services.contact_register(lead_identifier=identifier, source_id=source_id)
        counts[label] = len(queries)
    return counts


def dashboard_seconds() -> tuple[str, float]:
    """The dashboard page as a supervisor gets it."""
    url = reverse("distribution:dashboard")
    user, _ = get_user_model().objects.get_or_create(
        username="bench-supervisor", defaults={"is_staff": True}
    )
    client = Client()
    client.force_login(user)

    def run() -> None:
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    what = f"GET {url} (dashboard page)"
    # The benchmark runs without collectstatic; the manifest lookup is not what we time.
    plain_static = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=plain_static):
        run()  # Warm-up: templates compiled, caches filled.
        timings = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            run()
            timings.append(time.perf_counter() - started)
    return what, statistics.median(timings)


def main() -> None:
    small = int(os.environ.get("BENCH_SMALL", "10000"))
    large = int(os.environ.get("BENCH_CONTACTS", "1000000"))
    registrations = int(os.environ.get("BENCH_REGISTRATIONS", "500"))
    databases = {
        "small": os.environ["BENCH_SMALL_DB_NAME"],
        "large": connection.settings_dict["NAME"],
    }
    vendor = connection.vendor
    result: dict = {
        "vendor": vendor,
        "small": small,
        "large": large,
        "n": registrations,
        "rounds": ROUNDS,
    }

    for label, total in (("small", small), ("large", large)):
        with use_database(databases[label]):
            call_command("migrate", verbosity=0)
            world = seed.create_world()
            started = time.perf_counter()
            seed.seed_history(world, total_contacts=total, open_per_operator=20)
            result[f"seed_{label}_seconds"] = time.perf_counter() - started

    workload = Workload(world, seed_value=3)
    # The raw sqlite3 floor (SQLite only) in the same rounds as the service.
    runs = {"orm": orm_round, **({"raw": raw_round} if vendor == "sqlite" else {})}
    log(f"[{vendor}] timing registrations ({', '.join(runs)}): {ROUNDS} rounds of {registrations}")
    result.update(timed_rounds(databases, workload, registrations, runs))

    result["queries"] = queries_per_registration(world)
    log(f"[{vendor}] timing the dashboard")
    result["dashboard_what"], result["dashboard_seconds"] = dashboard_seconds()
    result["contacts_at_end"] = Contact.objects.count()
    _token, result["token"] = api_token_create(name="bench")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
