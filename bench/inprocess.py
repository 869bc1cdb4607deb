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
from bench.floor import raw_register  # noqa: E402
from distribution import services, tallies  # noqa: E402
from distribution.auth_tokens import api_token_create  # noqa: E402
from distribution.models import Contact, Lead  # noqa: E402

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
