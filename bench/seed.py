"""
Fast seeding of a benchmark database: operators, sources and weights through the
services, then history (leads and closed contacts) by bulk inserts with a progress bar.

Needs Django set up on the benchmark database.
"""

import random
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from distribution import services, tallies
from distribution.models import Contact, Lead, Operator, Source

BATCH = 10_000
# Seeded history spreads over this span before the benchmark's "now".
HISTORY_SPAN = timedelta(days=365)


@dataclass
class World:
    operator_ids: list[int]
    source_ids: list[int]
    # source id -> [(operator id, weight)]
    weights: dict[int, list[tuple[int, int]]]


def create_world(*, operators: int = 20, sources: int = 5, limit: int = 10_000) -> World:
    rng = random.Random(7)
    operator_ids = [
        services.operator_create(name=f"Operator {i:02}", workload_limit=limit).pk
        for i in range(1, operators + 1)
    ]
    weights: dict[int, list[tuple[int, int]]] = {}
    source_ids = []
    for i in range(1, sources + 1):
        source = services.source_create(name=f"Source {i}")
        chosen = sorted(rng.sample(operator_ids, k=max(2, operators // 2)))
        pairs = [(pk, rng.randint(1, 10)) for pk in chosen]
        services.source_set_weights(source_id=source.pk, weights=pairs)
        weights[source.pk] = pairs
        source_ids.append(source.pk)
    return World(operator_ids=operator_ids, source_ids=source_ids, weights=weights)


def load_world() -> World:
    sources = list(Source.objects.order_by("pk").prefetch_related("weights"))
    return World(
        operator_ids=list(Operator.objects.order_by("pk").values_list("pk", flat=True)),
        source_ids=[s.pk for s in sources],
        weights={s.pk: sorted((w.operator_id, w.weight) for w in s.weights.all()) for s in sources},
    )


def _insert(table: str, columns: list[str], rows: list[tuple]) -> None:
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(table), ", ".join(quote(c) for c in columns), ", ".join(["%s"] * len(columns))
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def seed_history(world: World, *, total_contacts: int, open_per_operator: int = 0) -> int:
    """
    Add closed contacts (about two per lead, new leads) until the database holds
    total_contacts. The first `open_per_operator` x operators of them stay open.
    Returns how many contacts were added.
    """
    existing = Contact.objects.count()
    missing = total_contacts - existing
    if missing <= 0:
        return 0
    rng = random.Random(existing)
    adapt = connection.ops.adapt_datetimefield_value
    start = timezone.now() - HISTORY_SPAN - timedelta(days=1)
    step = HISTORY_SPAN / max(total_contacts, 1)
    first_lead = (Lead.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    open_left = {pk: open_per_operator for pk in world.operator_ids}
    lead_columns = ["identifier", "identifier_key", "name", "created_at"]
    contact_columns = [
        "lead_id",
        "source_id",
        "operator_id",
        "status",
        "message",
        "note",
        "missed_by",
        "created_at",
        "assigned_at",
        "closed_at",
    ]
    bar = tqdm(total=missing, desc=f"seeding to {total_contacts:,} contacts", unit="contact")
    done = 0
    lead_no = Lead.objects.count()
    while done < missing:
        size = min(BATCH, missing - done)
        leads, contacts = [], []
        # Leads first, so that the contacts can refer to them by id.
        new_leads = size // 2 + 1
        for i in range(new_leads):
            lead_no += 1
            identifier = f"Seed{lead_no}@Bench.example"
            at = adapt(start + step * (existing + done + i))
            leads.append((identifier, identifier.casefold(), "", at))
        with transaction.atomic():
            _insert(Lead._meta.db_table, lead_columns, leads)
            last_lead = Lead.objects.order_by("-pk").values_list("pk", flat=True).first()
            for i in range(size):
                n = existing + done + i
                created = start + step * n
                source_id = world.source_ids[n % len(world.source_ids)]
                pairs = world.weights[source_id]
                operator_id = rng.choices([p for p, _ in pairs], [w for _, w in pairs])[0]
                lead_id = rng.randint(max(first_lead, last_lead - new_leads * 4), last_lead)
                if open_left.get(operator_id, 0) > 0:
                    open_left[operator_id] -= 1
                    status, closed = "open", None
                else:
                    status, closed = "closed", adapt(created + timedelta(hours=1))
                contacts.append(
                    (
                        lead_id,
                        source_id,
                        operator_id,
                        status,
                        "",
                        "",
                        "[]",
                        adapt(created),
                        adapt(created),
                        closed,
                    )
                )
            _insert(Contact._meta.db_table, contact_columns, contacts)
        done += size
        bar.update(size)
    bar.close()
    # The inserts bypassed the services, which keep the tallies: count them afresh.
    tallies.rebuild()
    if connection.vendor == "postgresql":
        # What autovacuum would do soon after a bulk load: fresh planner statistics
        # (without them the recount below walks the newest-first index once per lead).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    # The bulk load bypassed the services, which keep the tallies the pages count from.
    tallies.rebuild()
    return missing
