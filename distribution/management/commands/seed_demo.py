"""Demo data for a first look: a few sources, operators, weights, leads and contacts."""

import random

from django.core.management.base import BaseCommand
from django.db import transaction

from distribution import services
from distribution.models import Operator, Source

OPERATORS = [("Alice Martin", 5), ("Bruno Costa", 3), ("Chen Wei", 4), ("Dana Novak", 2)]
SOURCES = {
    "Telegram bot": {"Alice Martin": 3, "Bruno Costa": 1, "Chen Wei": 2},
    "Website form": {"Alice Martin": 1, "Chen Wei": 1, "Dana Novak": 2},
    "Facebook ads": {"Bruno Costa": 2, "Dana Novak": 1},
}


class Command(BaseCommand):
    help = "Load demo data once. Does nothing when operators or sources already exist."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--contacts", type=int, default=24)

    @transaction.atomic
    def handle(self, *args, contacts: int, **options) -> None:
        if Operator.objects.exists() or Source.objects.exists():
            self.stdout.write("Demo data skipped: the database already has operators or sources.")
            return
        rng = random.Random(2026)
        operators = {
            name: services.operator_create(name=name, workload_limit=limit)
            for name, limit in OPERATORS
        }
        sources = []
        for source_name, weights in SOURCES.items():
            source = services.source_create(name=source_name)
            services.source_set_weights(
                source_id=source.pk,
                weights=[(operators[name].pk, weight) for name, weight in weights.items()],
            )
            sources.append(source)
        registered = [
            services.contact_register(
                lead_identifier=f"customer{rng.randint(1, contacts // 2 + 1)}@example.com",
                source_id=rng.choice(sources).pk,
                message=rng.choice(["Price?", "Call me back", "Is it in stock?", "Hello"]),
                rng=rng,
            )
            for _ in range(contacts)
        ]
        for contact in registered[: contacts // 4]:
            services.contact_close(contact_id=contact.pk, rng=rng)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded: {len(operators)} operators, {len(sources)} sources, "
                f"{contacts} contacts."
            )
        )
