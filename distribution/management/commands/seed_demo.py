"""
Demo data that looks like a small team's week (first time only): eight operators, three
of them with logins (only for a demo: see DEMO_OPERATOR_PASSWORD), five sources (one
balanced, one sticky, one with a response time), weights, working hours in two time zones,
an operator away since yesterday, about 350 contacts over the last seven days (closed with
outcomes and notes, responded, returning leads) and, at the end, a queue.

Everything is written through the services, as in real use, so the decision log tells the
week as it happened. The services take no explicit time (they stamp timezone.now(), as
every caller's changes must be stamped with the moment they happen), so the week is played
in order, as fast as the database allows, and the rows are then moved to the moments of
the week their steps stand for: see Timeline and backdate().
"""

import heapq
import itertools
import os
import random
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.utils import timezone

from distribution import services
from distribution.models import (
    Contact,
    ContactEvent,
    Lead,
    Operator,
    RoutingMode,
    SettingChange,
    Source,
)

# The random choices of the story (who writes in, when, what) and the engine's draws come
# from two generators, so that a change in how the engine draws keeps the same customers.
STORY_SEED = 2026
ENGINE_SEED = 2027
DAYS = 7
CONTACTS = 350
# The last one is the unanswered contact; more than a few thousand is not a demo.
MIN_CONTACTS, MAX_CONTACTS = 2, 5000

# (name, workload limit)
OPERATORS = [
    ("Alice Martin", 12),
    ("Bruno Costa", 10),
    ("Chen Wei", 10),
    ("Dana Novak", 6),
    ("Emma Schulz", 10),
    ("Farid Haddad", 8),
    ("Grace O'Neill", 6),
    ("Hugo Lambert", 3),
]
# Demo operators that get a login: {operator name: user name}.
DEMO_LOGINS = {"Alice Martin": "alice", "Bruno Costa": "bruno", "Chen Wei": "chen"}
# Their password when DEMO_OPERATOR_PASSWORD is not set, in DEBUG only: a demo database on
# the developer's machine, never a deployment (DEBUG=0 needs the variable).
DEMO_OPERATOR_PASSWORD = "demo-operator-pass"
# The operator who went away yesterday (her open contacts went back to the queue).
AWAY = "Grace O'Neill"
# Working hours set this morning: {operator: (time zone, weekdays, start, end)}.
HOURS = {
    "Alice Martin": ("Europe/London", range(0, 5), time(8, 0), time(18, 0)),
    "Emma Schulz": ("Europe/Berlin", range(0, 6), time(9, 0), time(17, 30)),
    "Farid Haddad": ("Europe/Berlin", range(0, 5), time(11, 0), time(20, 0)),
}


@dataclass(frozen=True)
class DemoSource:
    name: str
    weights: dict[str, int]
    share: float  # of the week's contacts
    identifiers: tuple[str, ...]  # kinds of identifiers its leads write from
    messages: tuple[str, ...]
    mode: str = RoutingMode.RANDOM
    sticky_days: int | None = None
    response_minutes: int | None = None


SOURCES = [
    DemoSource(
        "Website form",
        {"Alice Martin": 3, "Bruno Costa": 2, "Dana Novak": 1, "Emma Schulz": 2},
        share=0.29,
        identifiers=("email", "email", "email", "uk", "de"),
        messages=(
            "Could you send me a quote for the Urban 7 e-bike?",
            "Do you offer financing over 12 months?",
            "I'd like to book a test ride on Saturday morning.",
            "Is the cargo bike available in green?",
            "What is the delivery time to Manchester?",
            "Do you take trade-ins? I have a 3-year-old road bike.",
            "Can you fit a child seat on the Commuter 3?",
            "Looking for two matching bikes for my partner and me.",
        ),
    ),
    DemoSource(
        "Telegram bot",
        {"Chen Wei": 2, "Farid Haddad": 1, "Alice Martin": 1},
        share=0.22,
        identifiers=("handle",),
        messages=(
            "Order status for #48213, please?",
            "Is the Trail 29 still in stock in size L?",
            "Hi! What time do you open on Sunday?",
            "My battery charger stopped working, what can I do?",
            "Do you have the spring catalogue as a PDF?",
            "Can I pick up my order from the shop instead?",
        ),
        mode=RoutingMode.BALANCED,
    ),
    DemoSource(
        "WhatsApp",
        {"Bruno Costa": 2, "Chen Wei": 1, "Emma Schulz": 1, "Dana Novak": 1},
        share=0.20,
        identifiers=("uk", "de"),
        messages=(
            "Hi, it's me again about the service booking.",
            "Can I move my repair appointment to Friday?",
            "The brakes squeak again after the service.",
            "Thanks for the help yesterday, one more question about the lock.",
            "Is my bike ready for collection?",
            "Could you send the invoice again? I can't find it.",
        ),
        sticky_days=14,
    ),
    DemoSource(
        "Facebook ads",
        {"Dana Novak": 2, "Farid Haddad": 2, "Bruno Costa": 1},
        share=0.17,
        identifiers=("email", "uk", "de"),
        messages=(
            "Saw your spring sale ad: is the 20% off still on?",
            "Interested in the e-bike from the ad, what's the price?",
            "Do you deliver to Hamburg?",
            "Is the ad's cargo bike the 2025 model?",
            "Can I get the sale price on a pre-order?",
        ),
        response_minutes=30,
    ),
    DemoSource(
        "Instagram",
        {"Grace O'Neill": 2, "Hugo Lambert": 1},
        share=0.12,
        identifiers=("handle",),
        messages=(
            "Love the new cargo bike! Do you ship to Vienna?",
            "Which saddle is that in your last post?",
            "Are you hiring mechanics for the summer?",
            "Is the gravel bike from the reel for sale?",
        ),
    ),
]

FIRST_NAMES = [
    "Sophie", "Oliver", "Amelia", "Jack", "Isla", "Harry", "Lena", "Jonas", "Mia", "Lukas",
    "Hannah", "Felix", "Emily", "Noah", "Chloe", "Leon", "Grace", "Thomas", "Sara", "Max",
    "Priya", "Arjun", "Fatima", "Omar", "Zoe", "Ben", "Clara", "Paul", "Ruby", "Elias",
]  # fmt: skip
LAST_NAMES = [
    "Turner", "Becker", "Hughes", "Wagner", "Evans", "Fischer", "Walker", "Schmidt",
    "Roberts", "Hoffmann", "Wright", "Krause", "Green", "Neumann", "Patel", "Khan", "Baker",
    "Schröder", "Lewis", "Müller", "Clarke", "Wolf", "Hall", "Zimmermann", "Ahmed", "Price",
]  # fmt: skip
EMAIL_DOMAINS = ["example.com", "example.org", "example.net"]
ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "'": ""})

OUTCOMES = [("won", 3), ("lost", 4), ("other", 2), ("spam", 1)]
NOTES = {
    "won": [
        "Ordered the Urban 7, delivery on Thursday.",
        "Test ride booked, bought on the spot.",
        "Paid the deposit for the cargo bike.",
        "Service booked for Tuesday 10:00.",
        "Sent the quote; accepted the same day.",
    ],
    "lost": [
        "Went with a cheaper shop.",
        "Wants to wait for next season's models.",
        "Over budget after the quote.",
        "No reply after two follow-ups.",
        "Size L sold out; did not want to wait.",
    ],
    "other": [
        "Question answered, no sale expected.",
        "Forwarded to the workshop.",
        "Same request as the day before; answered there.",
        "Sent the catalogue.",
    ],
    "spam": ["Link spam.", "Automated message."],
}


# --- the clock -------------------------------------------------------------------------


@dataclass
class Timeline:
    """The moment of the demo week each step of the seed stands for.

    mark(at) is called just before each step. A timestamp written by a step lies between
    the real moment of its mark and the next mark; place() moves it to the step's moment in
    the week, plus the time the step took (shrunk if the step took longer than the gap to
    the next step's moment). The map only ever moves later moments later, so the order of
    everything written (a contact's assignment after its registration, the log's order) is
    the order it happened in.
    """

    real: list[datetime] = field(default_factory=list)
    story: list[datetime] = field(default_factory=list)

    def mark(self, at: datetime) -> None:
        if self.story and at <= self.story[-1]:
            at = self.story[-1] + timedelta(milliseconds=1)
        self.real.append(timezone.now())
        self.story.append(at)

    def place(self, real: datetime | None) -> datetime | None:
        if real is None:
            return None
        i = bisect_right(self.real, real) - 1
        if i < 0:
            return real  # Written before the first step: not part of the week.
        elapsed = real - self.real[i]
        if i + 1 < len(self.real):
            story_gap = self.story[i + 1] - self.story[i]
            real_gap = self.real[i + 1] - self.real[i]
            if real_gap > story_gap:
                elapsed = elapsed * (story_gap / real_gap)
        return self.story[i] + elapsed


# Every timestamp the services write: moved to its moment of the week by backdate().
BACKDATED: list[tuple[type[models.Model], list[str]]] = [
    (Operator, ["created_at"]),
    (Source, ["created_at"]),
    (Lead, ["created_at"]),
    (Contact, ["created_at", "assigned_at", "responded_at", "closed_at"]),
    (ContactEvent, ["at"]),
    (SettingChange, ["at"]),
]


def backdate(timeline: Timeline) -> None:
    """Move every timestamp of the seed's rows to the moment of the week its step stands
    for: one bulk UPDATE per table. Only the seed has written these tables (it runs on a
    database without operators or sources), so every row is the seed's."""
    for model, fields in BACKDATED:
        rows = list(model._default_manager.only("pk", *fields))
        for row in rows:
            for name in fields:
                setattr(row, name, timeline.place(getattr(row, name)))
        model._default_manager.bulk_update(rows, fields, batch_size=500)


# --- who writes in -----------------------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    at: datetime
    source: DemoSource
    identifier: str
    lead_name: str
    message: str
    # Nobody answers it: the response time runs out (the timed-out contact of the log).
    unanswered: bool = False


def _busy(at: datetime) -> float:
    """How busy an hour of the week is (UTC; the team is in London and Berlin)."""
    hourly = 1.0 if 7 <= at.hour < 20 else 0.5 if 20 <= at.hour < 23 else 0.1
    return hourly * (0.6 if at.weekday() >= 5 else 1.0)


def _arrival_times(rng: random.Random, n: int, start: datetime, end: datetime) -> list[datetime]:
    times: list[datetime] = []
    while len(times) < n:
        at = start + (end - start) * rng.random()
        if rng.random() < _busy(at):
            times.append(at)
    return sorted(times)


class People:
    """Believable, unique customers: names, e-mail addresses, +44/+49 phones, handles."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()
        # Ofcom's drama range (07700 900000-900999) and the Bundesnetzagentur's Berlin
        # range for fiction (030 23125 000-999): numbers that ring nobody.
        self.uk = iter(rng.sample(range(1000), 1000))
        self.de = iter(rng.sample(range(1000), 1000))

    def new(self, kind: str) -> tuple[str, str]:
        """(identifier, name) of a customer nobody has seen yet."""
        while True:
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            identifier = self._identifier(kind, first, last)
            if identifier not in self.used:
                self.used.add(identifier)
                return identifier, f"{first} {last}"

    def _identifier(self, kind: str, first: str, last: str) -> str:
        f, la = first.lower().translate(ASCII), last.lower().translate(ASCII)
        if kind == "uk":
            return f"+44 7700 900{next(self.uk):03d}"
        if kind == "de":
            return f"+49 30 23125 {next(self.de):03d}"
        if kind == "handle":
            return "@" + self.rng.choice(
                [f"{f}_{la}", f"{f}{la[:3]}", f"{f}.{la}{self.rng.randint(1, 99)}"]
            )
        year = self.rng.randint(70, 99)
        local = self.rng.choice([f"{f}.{la}", f"{f[0]}.{la}", f"{f}{la[0]}", f"{f}.{la}{year}"])
        return f"{local}@{self.rng.choice(EMAIL_DOMAINS)}"


def _kind(identifier: str) -> str:
    if identifier.startswith("@"):
        return "handle"
    if identifier.startswith("+44"):
        return "uk"
    if identifier.startswith("+49"):
        return "de"
    return "email"


def arrivals(rng: random.Random, n: int, end: datetime) -> list[Arrival]:
    """The week's contacts, oldest first: a quarter from customers writing in again (most
    through the source they used before, at most four times in the week), and, last, one
    that nobody will answer."""
    people = People(rng)
    # (identifier, name, last source, contacts so far), the latest customer last.
    seen: list[tuple[str, str, DemoSource, int]] = []
    shares = [source.share for source in SOURCES]
    result = []
    for at in _arrival_times(rng, n - 1, end - timedelta(days=DAYS), end - timedelta(hours=1)):
        # Customers write again within days: one of the latest few dozen.
        again = [i for i in range(max(0, len(seen) - 60), len(seen)) if seen[i][3] < 4]
        if again and rng.random() < 0.25:
            index = rng.choice(again)
            identifier, name, source, count = seen[index]
            fits = [s for s in SOURCES if _kind(identifier) in s.identifiers]
            if rng.random() > 0.7:
                source = rng.choice(fits)
            seen[index] = (identifier, name, source, count + 1)
            # A returning customer's name is already known.
            name_given = ""
        else:
            source = rng.choices(SOURCES, weights=shares)[0]
            identifier, name = people.new(rng.choice(source.identifiers))
            seen.append((identifier, name, source, 1))
            name_given = name if rng.random() < 0.7 else ""
        result.append(Arrival(at, source, identifier, name_given, rng.choice(source.messages)))
    timed = next(s for s in SOURCES if s.response_minutes)
    identifier, name = people.new("email")
    at = end - timedelta(minutes=2 * (timed.response_minutes or 0))
    result.append(Arrival(at, timed, identifier, name, timed.messages[1], unanswered=True))
    return sorted(result, key=lambda arrival: arrival.at)


# --- the week ------------------------------------------------------------------------


@dataclass
class Week:
    """Plays the week in order: each step at its moment of the timeline."""

    story: random.Random
    engine: random.Random
    end: datetime
    timeline: Timeline = field(default_factory=Timeline)
    operators: dict[str, Operator] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    # (moment, order, step, whether it may assign contacts): a heap of what happens next.
    agenda: list[tuple[datetime, int, Callable[[], object], bool]] = field(default_factory=list)
    # Each contact's operator as last seen: a new one gets its own responses and closes.
    owner: dict[int, int | None] = field(default_factory=dict)
    quiet: set[int] = field(default_factory=set)  # contacts nobody answers
    order: itertools.count = field(default_factory=itertools.count)

    def at(self, moment: datetime, step: Callable[[], object], *, assigns: bool = True) -> None:
        heapq.heappush(self.agenda, (moment, next(self.order), step, assigns))

    def run(self) -> None:
        while self.agenda and self.agenda[0][0] <= self.end:
            moment, _, step, assigns = heapq.heappop(self.agenda)
            self.timeline.mark(moment)
            step()
            if assigns:
                self._follow_new_assignments(moment)

    def _follow_new_assignments(self, moment: datetime) -> None:
        """Contacts this step gave an operator (registered, drained, requeued) are
        answered and closed by that operator later, as people do."""
        since = self.timeline.real[-1]
        assigned = Contact.objects.filter(assigned_at__gte=since).values_list(
            "pk", "operator_id", "source__name"
        )
        for pk, operator_id, source_name in assigned:
            if self.owner.get(pk) != operator_id:
                self.owner[pk] = operator_id
                if pk not in self.quiet:
                    self._plan_work(pk, operator_id, source_name, moment)

    def _plan_work(self, pk: int, operator_id: int, source_name: str, moment: datetime) -> None:
        rng = self.story
        source = next(s for s in SOURCES if s.name == source_name)
        slow = operator_id == self.operators["Hugo Lambert"].pk
        if source.response_minutes:
            respond_in = timedelta(minutes=rng.uniform(2, 0.8 * source.response_minutes))
        else:
            respond_in = timedelta(
                minutes=rng.choice([3, 8, 15, 25, 40, 90]) * rng.uniform(0.5, 1.5)
            )
        self.at(moment + respond_in, lambda: self._respond(pk, operator_id), assigns=False)
        if rng.random() < 0.03:
            return  # Answered, still open: the customer has not decided yet.
        if slow:
            close_in = timedelta(hours=rng.uniform(30, 60))
        elif rng.random() < 0.7:
            close_in = timedelta(minutes=rng.uniform(10, 240))
        else:
            close_in = timedelta(hours=rng.uniform(4, 40))
        outcome = rng.choices([o for o, _ in OUTCOMES], weights=[w for _, w in OUTCOMES])[0]
        note = rng.choice(NOTES[outcome]) if rng.random() < 0.75 else ""
        self.at(moment + respond_in + close_in, lambda: self._close(pk, operator_id, outcome, note))

    def _still_with(self, pk: int, operator_id: int) -> bool:
        return Contact.objects.filter(
            pk=pk, operator_id=operator_id, status=Contact.Status.OPEN
        ).exists()

    def _respond(self, pk: int, operator_id: int) -> None:
        if self._still_with(pk, operator_id):
            services.contact_respond(contact_id=pk)

    def _close(self, pk: int, operator_id: int, outcome: str, note: str) -> None:
        if self._still_with(pk, operator_id):
            services.contact_close(contact_id=pk, outcome=outcome, note=note, rng=self.engine)

    def _register(self, arrival: Arrival) -> None:
        contact = services.contact_register(
            lead_identifier=arrival.identifier,
            source_id=self.sources[arrival.source.name].pk,
            message=arrival.message,
            lead_name=arrival.lead_name,
            rng=self.engine,
        )
        if arrival.unanswered:
            self.quiet.add(contact.pk)

    # -- the supervisor's week --

    def set_up(self, moment: datetime) -> None:
        """Monday before the week: the team, the sources and their weights."""
        self.timeline.mark(moment)
        for name, limit in OPERATORS:
            # The limits of the first days; Dana's is raised later in the week.
            self.operators[name] = services.operator_create(name=name, workload_limit=limit)
        for spec in SOURCES:
            self.timeline.mark(moment + timedelta(minutes=10))
            source = services.source_create(name=spec.name)
            # No service sets a source's routing settings on main yet (the routing-policies
            # work adds one, which logs the change): written here directly, before the
            # source's first contact, so nothing is routed under other settings.
            Source.objects.filter(pk=source.pk).update(
                mode=spec.mode, sticky_days=spec.sticky_days, response_minutes=spec.response_minutes
            )
            services.source_set_weights(
                source_id=source.pk,
                weights=[(self.operators[n].pk, w) for n, w in spec.weights.items()],
                rng=self.engine,
            )
            self.sources[spec.name] = source

    def plan(self, arrivals: list[Arrival]) -> None:
        for arrival in arrivals:
            self.at(arrival.at, partial(self._register, arrival))
        start = self.end - timedelta(days=DAYS)
        # Mid-week, Dana's limit is raised: her queue drains to her at once.
        self.at(
            start + timedelta(days=2, hours=10),
            lambda: services.operator_update(
                operator_id=self.operators["Dana Novak"].pk, workload_limit=8, rng=self.engine
            ),
        )
        # Yesterday, Grace went away; her open contacts went back to the queue.
        self.at(
            self.end - timedelta(hours=26),
            lambda: services.operator_update(
                operator_id=self.operators[AWAY].pk,
                presence="away",
                requeue_open_contacts=True,
                rng=self.engine,
            ),
        )
        # This morning, working hours for three operators in two time zones.
        for offset, (name, (zone, days, begin, until)) in enumerate(HOURS.items()):
            self.at(
                self.end - timedelta(hours=3) + timedelta(minutes=offset),
                partial(
                    services.operator_set_schedule,
                    operator_id=self.operators[name].pk,
                    time_zone=zone,
                    hours=[(day, begin, until) for day in days],
                    rng=self.engine,
                ),
            )


def time_out_unanswered(rng: random.Random) -> int:
    """The worker's response-time step, run once the week is in place: the contact nobody
    answered (Arrival.unanswered, an hour old on a source with a 30-minute response time)
    is taken back and routed again, and the decision log shows it timed out."""
    return services.contacts_time_out(rng=rng)


class Command(BaseCommand):
    help = "Load demo data once. Does nothing when operators or sources already exist."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--contacts",
            type=int,
            default=CONTACTS,
            help=f"How many contacts the week has (default {CONTACTS}).",
        )

    def handle(self, *args, contacts: int, **options) -> None:
        if not MIN_CONTACTS <= contacts <= MAX_CONTACTS:
            raise CommandError(f"--contacts must be between {MIN_CONTACTS} and {MAX_CONTACTS}.")
        if Operator.objects.exists() or Source.objects.exists():
            self.stdout.write("Demo data skipped: the database already has operators or sources.")
        else:
            self._load(contacts)
        self._logins()

    @transaction.atomic
    def _load(self, contacts: int) -> None:
        end = timezone.now()
        story = random.Random(STORY_SEED)
        week = Week(story=story, engine=random.Random(ENGINE_SEED), end=end)
        week.set_up(end - timedelta(days=DAYS + 1))
        week.plan(arrivals(story, contacts, end))
        week.run()
        backdate(week.timeline)
        timed_out = time_out_unanswered(week.engine)
        queued = Contact.objects.filter(status=Contact.Status.OPEN, operator__isnull=True).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded: {len(week.operators)} operators, {len(week.sources)} "
                f"sources, {Contact.objects.count()} contacts over {DAYS} days "
                f"({queued} queued, {timed_out} timed out)."
            )
        )

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
                    operator_id=operator.pk, username=username, password=password
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
