"""Demo data for a first look: a few sources, operators, weights, leads and contacts, and
logins for some of the operators (only for a demo: see DEMO_OPERATOR_PASSWORD)."""

import os
import random
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from distribution import services
from distribution.actors import SYSTEM
from distribution.models import Contact, ContactEvent, Operator, Source

OPERATORS = [("Alice Martin", 5), ("Bruno Costa", 3), ("Chen Wei", 4), ("Dana Novak", 2)]
SOURCES = {
    "Telegram bot": {"Alice Martin": 3, "Bruno Costa": 1, "Chen Wei": 2},
    "Website form": {"Alice Martin": 1, "Chen Wei": 1, "Dana Novak": 2},
    "Facebook ads": {"Bruno Costa": 2, "Dana Novak": 1},
}
# Routing settings that show each policy at work (docs/distribution.md).
ROUTING: dict[str, dict[str, object]] = {
    "Telegram bot": {"mode": "balanced"},
    "Website form": {"sticky_days": 30},
    "Facebook ads": {"response_minutes": 15},
}
# Demo operators that get a login: {operator name: user name}.
DEMO_LOGINS = {"Alice Martin": "alice", "Bruno Costa": "bruno", "Chen Wei": "chen"}
# Their password when DEMO_OPERATOR_PASSWORD is not set, in DEBUG only: a demo database on
# the developer's machine, never a deployment (DEBUG=0 needs the variable).
DEMO_OPERATOR_PASSWORD = "demo-operator-pass"


class Command(BaseCommand):
    help = "Load demo data once. Does nothing when operators or sources already exist."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--contacts", type=int, default=24)

    def handle(self, *args, contacts: int, **options) -> None:
        if Operator.objects.exists() or Source.objects.exists():
            self.stdout.write("Demo data skipped: the database already has operators or sources.")
        else:
            self._load(contacts)
        self._logins()

    @transaction.atomic
    def _load(self, contacts: int) -> None:
        rng = random.Random(2026)
        operators = {
            name: services.operator_create(actor=SYSTEM, name=name, workload_limit=limit)
            for name, limit in OPERATORS
        }
        sources = []
        for source_name, weights in SOURCES.items():
            source = services.source_create(actor=SYSTEM, name=source_name)
            services.source_set_weights(
                actor=SYSTEM,
                source_id=source.pk,
                weights=[(operators[name].pk, weight) for name, weight in weights.items()],
            )
            # Set on the row: demo data's settings are no supervisor's change to log.
            Source.objects.filter(pk=source.pk).update(**ROUTING.get(source_name, {}))
            sources.append(source)
        registered = [
            services.contact_register(
                actor=SYSTEM,
                lead_identifier=f"customer{rng.randint(1, contacts // 2 + 1)}@example.com",
                source_id=rng.choice(sources).pk,
                message=rng.choice(["Price?", "Call me back", "Is it in stock?", "Hello"]),
                rng=rng,
            )
            for _ in range(contacts)
        ]
        for contact in registered[: contacts // 4]:
            services.contact_close(actor=SYSTEM, contact_id=contact.pk, rng=rng)
        self._time_out_one(rng)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded: {len(operators)} operators, {len(sources)} sources, "
                f"{contacts} contacts."
            )
        )

    def _time_out_one(self, rng: random.Random) -> None:
        """One contact of the source with a response time waited 20 minutes unanswered
        (moved back in time), and the worker took it back: a timed-out contact in the log."""
        late = (
            Contact.objects.filter(
                source__response_minutes__isnull=False, status="open", operator__isnull=False
            )
            .order_by("created_at", "id")
            .first()
        )
        if late is None:
            return
        earlier = timezone.now() - timedelta(minutes=20)
        Contact.objects.filter(pk=late.pk).update(created_at=earlier, assigned_at=earlier)
        ContactEvent.objects.filter(contact=late).update(at=earlier)
        services.contacts_time_out(rng=rng, actor=SYSTEM)

    def _logins(self) -> None:
        """Give the demo operators a login if they have none; say how to log in as one."""
        from_env = os.environ.get("DEMO_OPERATOR_PASSWORD", "")
        password = from_env or (DEMO_OPERATOR_PASSWORD if settings.DEBUG else "")
        if not password:
            self.stdout.write(
                "Demo operators have no logins: set DEMO_OPERATOR_PASSWORD (or DEBUG=1) to give "
                "them some."
            )
            return
        User = get_user_model()
        for name, username in DEMO_LOGINS.items():
            operator = Operator.objects.filter(name=name, user__isnull=True).first()
            if operator and not User.objects.filter(username__iexact=username).exists():
                services.operator_login_create(
                    actor=SYSTEM, operator_id=operator.pk, username=username, password=password
                )
        usernames = list(
            Operator.objects.filter(
                name__in=list(DEMO_LOGINS), user__username__in=list(DEMO_LOGINS.values())
            ).values_list("user__username", flat=True)
        )
        if not usernames:
            return
        shown = "the password in DEMO_OPERATOR_PASSWORD" if from_env else f"password {password!r}"
        names = ", ".join(repr(u) for u in sorted(usernames))
        self.stdout.write(
            f"Operators log in at http://127.0.0.1:8000/accounts/login/ as {names} with "
            f"{shown} (unless they changed it); they land on their workspace, /my/."
        )
