"""
The distribution domain: who answers (operators), where customers write in (sources),
how much of a source each operator gets (weights), the customers (leads) and their
requests (contacts).

The rules that change these rows live in services.py; the models only hold the data
and the invariants the database itself enforces.
"""

import datetime
import unicodedata

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from distribution.identity import phone_key

# Ids are 64-bit (BigAutoField). A bigger number cannot be an id, and the database
# drivers refuse to bind it.
MAX_ID = 2**63 - 1
MAX_WORKLOAD_LIMIT = 100_000
MAX_WEIGHT = 1000
MAX_IDENTIFIER_LENGTH = 255
# Operators' and sources' names, and leads' names.
MAX_NAME_LENGTH = 200
MAX_MESSAGE_LENGTH = 10_000
MAX_NOTE_LENGTH = 2_000
# IANA zone names ("America/Argentina/ComodRivadavia" is among the longest).
MAX_TIME_ZONE_LENGTH = 64
# Ranges of one operator's weekly schedule: an hour-long range every hour of the week is
# already more than anyone works.
MAX_SHIFT_RANGES = 7 * 24
# A lead search is part of an identifier: never longer than one.
MAX_SEARCH_LENGTH = MAX_IDENTIFIER_LENGTH
# Routing settings of a source (docs/distribution.md): a returning lead's window, in days,
# and the time an assigned contact may wait for its first response, in minutes (a week).
MAX_STICKY_DAYS = 365
MAX_RESPONSE_MINUTES = 7 * 24 * 60
# Case folding turns one character into up to three ("ß" -> "ss", "ΐ" -> three code
# points), so the key of a text of the longest allowed length can be three times as
# long; a shorter column made PostgreSQL refuse such a lead with a 500.
CASEFOLD_GROWTH = 3
MAX_IDENTIFIER_KEY_LENGTH = CASEFOLD_GROWTH * MAX_IDENTIFIER_LENGTH
MAX_NAME_KEY_LENGTH = CASEFOLD_GROWTH * MAX_NAME_LENGTH


def _invisible(char: str) -> bool:
    # Whitespace, and the format characters that print as nothing: zero-width spaces
    # and joiners, the byte-order mark, the soft hyphen.
    return char.isspace() or unicodedata.category(char) in {"Cf", "Zs"}


def trim(value: str) -> str:
    """`value` without whitespace or invisible characters at either end.

    str.strip() keeps "\u200b" and "\ufeff", so an identifier made only of them looked
    like text, and one with a BOM in front made another lead of the same customer.
    """
    start, end = 0, len(value)
    while start < end and _invisible(value[start]):
        start += 1
    while end > start and _invisible(value[end - 1]):
        end -= 1
    return value[start:end]


def casefold_key(value: str) -> str:
    """The key two texts are compared by: trimmed and case-folded.

    Folded here, in Python, and not by the database's lower(): SQLite's folds ASCII
    only, PostgreSQL's depends on the collation, and neither turns "ß" into "ss", so
    "Émile" and "émile" were two operators on SQLite and one on PostgreSQL.
    """
    return trim(value).casefold()


def normalize_identifier(identifier: str) -> str:
    """The key two identifiers are compared by: a phone number's E.164 form
    ("+447700918827", see identity.py), otherwise the trimmed, case-folded text."""
    return phone_key(trim(identifier)) or casefold_key(identifier)


class Presence(models.TextChoices):
    AVAILABLE = "available", "Available"
    AWAY = "away", "Away"
    OFFLINE = "offline", "Offline"


class Operator(models.Model):
    name = models.CharField(max_length=MAX_NAME_LENGTH)
    # The name trimmed and case-folded: what makes two names the same (see clean()).
    name_key = models.CharField(max_length=MAX_NAME_KEY_LENGTH, editable=False)
    is_active = models.BooleanField("active", default=True)
    workload_limit = models.PositiveIntegerField(
        "workload limit",
        default=10,
        validators=[MaxValueValidator(MAX_WORKLOAD_LIMIT)],
        help_text="How many open contacts the operator may hold at once.",
    )
    presence = models.CharField(max_length=10, choices=Presence.choices, default=Presence.AVAILABLE)
    # Whether the operator's working hours (ShiftHours, in `time_zone`) included the moment
    # they were last read, and when that next changes (None: never, e.g. no hours). The
    # engine reads both (allocation.accepts_contacts), so a shift's edge takes effect on
    # time; the worker stores the next pair and drains the queue when a shift starts.
    on_shift = models.BooleanField("on shift", default=True, editable=False)
    shift_changes_at = models.DateTimeField(null=True, blank=True, editable=False)
    time_zone = models.CharField(max_length=MAX_TIME_ZONE_LENGTH, default="UTC")
    # The operator's own login, if it has one (docs/permissions.md).
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="operator",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["name_key"],
                name="operator_name_key_unique",
                violation_error_code="name_taken",
                violation_error_message="An operator with this name already exists.",
            ),
            # A writer that skips clean() cannot slip past the unique key with an empty one.
            models.CheckConstraint(condition=~Q(name_key=""), name="operator_name_key_set"),
            models.CheckConstraint(
                condition=Q(presence__in=["available", "away", "offline"]),
                name="operator_presence_valid",
            ),
            models.CheckConstraint(
                condition=Q(workload_limit__gte=0, workload_limit__lte=MAX_WORKLOAD_LIMIT),
                name="operator_workload_limit_range",
                violation_error_message=f"The limit must be between 0 and {MAX_WORKLOAD_LIMIT}.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.name = trim(self.name)
        self.name_key = casefold_key(self.name)


class ShiftHours(models.Model):
    """One range of an operator's weekly working hours, in the operator's time zone."""

    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(6)], help_text="0 is Monday."
    )
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        verbose_name = "working hours"
        verbose_name_plural = "working hours"
        ordering = ["operator_id", "weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="shift_weekday_range"),
            # An end of 00:00 is midnight at the end of the day (shifts.py).
            models.CheckConstraint(
                condition=Q(start__lt=models.F("end")) | Q(end=datetime.time(0, 0)),
                name="shift_start_before_end",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operator}: day {self.weekday} {self.start:%H:%M}-{self.end:%H:%M}"


class RoutingMode(models.TextChoices):
    # The weighted draw: each eligible operator with probability weight / sum of weights.
    RANDOM = "random", "Random by weight"
    # Smooth weighted round robin among the operators eligible at that moment.
    BALANCED = "balanced", "Balanced by weight"


class Source(models.Model):
    name = models.CharField(max_length=MAX_NAME_LENGTH)
    # The name trimmed and case-folded: what makes two names the same (see clean()).
    name_key = models.CharField(max_length=MAX_NAME_KEY_LENGTH, editable=False)
    mode = models.CharField(max_length=10, choices=RoutingMode.choices, default=RoutingMode.RANDOM)
    # A returning lead goes to the operator of its latest contact within this many days,
    # if that operator is eligible now (None: off).
    sticky_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_STICKY_DAYS)],
        help_text="Send a returning lead to its latest operator within this many days.",
    )
    # An assigned contact not responded to within this many minutes is routed again (None: off).
    response_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RESPONSE_MINUTES)],
        help_text="Route a contact again if nobody responds within this many minutes.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    operators: "models.ManyToManyField[Operator, SourceOperatorConfig]" = models.ManyToManyField(
        Operator, through="SourceOperatorConfig", related_name="sources", blank=True
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["name_key"],
                name="source_name_key_unique",
                violation_error_code="name_taken",
                violation_error_message="A source with this name already exists.",
            ),
            models.CheckConstraint(condition=~Q(name_key=""), name="source_name_key_set"),
            models.CheckConstraint(
                condition=Q(mode__in=["random", "balanced"]), name="source_mode_valid"
            ),
            models.CheckConstraint(
                condition=Q(sticky_days__isnull=True)
                | Q(sticky_days__gte=1, sticky_days__lte=MAX_STICKY_DAYS),
                name="source_sticky_days_range",
            ),
            models.CheckConstraint(
                condition=Q(response_minutes__isnull=True)
                | Q(response_minutes__gte=1, response_minutes__lte=MAX_RESPONSE_MINUTES),
                name="source_response_minutes_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.name = trim(self.name)
        self.name_key = casefold_key(self.name)


class SourceOperatorConfig(models.Model):
    """The weight of one operator for one source: its share is weight / sum of weights."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="weights")
    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="weights")
    weight = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_WEIGHT)]
    )
    # The balanced mode's state (smooth weighted round robin's "current weight") for this
    # operator on this source; only the engine writes it, under the source's lock.
    balance = models.IntegerField(default=0, editable=False)

    class Meta:
        verbose_name = "operator weight"
        ordering = ["source_id", "operator_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "operator"],
                name="one_weight_per_source_operator",
                violation_error_message="This operator already has a weight for this source.",
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=1, weight__lte=MAX_WEIGHT),
                name="weight_range",
                violation_error_message=f"The weight must be between 1 and {MAX_WEIGHT}.",
            ),
        ]
        indexes = [models.Index(fields=["operator", "source"], name="weight_operator_source")]

    def __str__(self) -> str:
        return f"{self.operator} × {self.weight} for {self.source}"


class Lead(models.Model):
    identifier = models.CharField(
        max_length=MAX_IDENTIFIER_LENGTH, help_text="E-mail, phone or messenger id."
    )
    # normalize_identifier(identifier): what makes two leads the same customer.
    identifier_key = models.CharField(
        max_length=MAX_IDENTIFIER_KEY_LENGTH, unique=True, editable=False
    )
    name = models.CharField(max_length=MAX_NAME_LENGTH, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.identifier

    def clean(self) -> None:
        self.identifier = trim(self.identifier)
        self.identifier_key = normalize_identifier(self.identifier)


class Contact(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    # Indexed first in contact_by_lead (below), not on its own.
    lead = models.ForeignKey(
        Lead, on_delete=models.PROTECT, related_name="contacts", db_index=False
    )
    # Indexed first in contact_by_source and contact_by_operator (below), not on their own.
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="contacts", db_index=False
    )
    operator = models.ForeignKey(
        Operator,
        on_delete=models.PROTECT,
        related_name="contacts",
        null=True,
        blank=True,
        db_index=False,
    )

    class Outcome(models.TextChoices):
        WON = "won", "Won"
        LOST = "lost", "Lost"
        SPAM = "spam", "Spam"
        OTHER = "other", "Other"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    message = models.TextField(blank=True)
    # The first answer to the customer (its operator, or a bot on its behalf).
    responded_at = models.DateTimeField(null=True, blank=True)
    # None until closed; "other" is a choice of the closer's, not the absence of one.
    outcome = models.CharField(  # noqa: DJ001
        max_length=10, choices=Outcome.choices, null=True, blank=True
    )
    note = models.TextField(blank=True)
    # Operators that let this contact wait past its source's response time: it is never
    # routed to them again (ids; the decision log has the story).
    missed_by = models.JSONField(default=list, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    assigned_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | Q(status="closed"), name="contact_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="closed", closed_at__isnull=False)
                | Q(status="open", closed_at__isnull=True),
                name="contact_closed_at_iff_closed",
            ),
            models.CheckConstraint(
                condition=Q(operator__isnull=True, assigned_at__isnull=True)
                | Q(operator__isnull=False, assigned_at__isnull=False),
                name="contact_assigned_at_iff_operator",
            ),
            models.CheckConstraint(
                condition=Q(outcome__isnull=True) | Q(status="closed"),
                name="contact_outcome_only_when_closed",
            ),
        ]
        indexes = [
            # An operator's load: its open contacts; newest first for the contacts list.
            models.Index(
                fields=["operator", "-created_at", "-id"],
                condition=Q(status="open"),
                name="contact_open_by_operator",
            ),
            # The queue: unassigned open contacts of a source, oldest first.
            models.Index(
                fields=["source", "created_at", "id"],
                condition=Q(status="open", operator__isnull=True),
                name="contact_queue",
            ),
            # The contacts list, keyset-paged by (created_at, id) (selectors.contact_page):
            # each filter seeks to its page in one of these, however deep in the history.
            # (The counts come from the tallies, which replaced the statistics' index.)
            models.Index(fields=["-created_at", "-id"], name="contact_newest"),
            # A lead's page: its contacts, keyset-paged newest first (also its figures, the
            # contacts of the leads a search finds and the PROTECT checks).
            models.Index(fields=["lead", "-created_at", "-id"], name="contact_by_lead"),
            models.Index(fields=["source", "-created_at", "-id"], name="contact_by_source"),
            # Also the unassigned filter (operator IS NULL) and the PROTECT checks.
            models.Index(fields=["operator", "-created_at", "-id"], name="contact_by_operator"),
            # Both: an operator's contacts of one source may be few among its others.
            models.Index(
                fields=["source", "operator", "-created_at", "-id"],
                name="contact_by_source_operator",
            ),
            # Open contacts, newest first, alone or of a source: few, however long the history
            # (SQLite prefers these to the indexes above when the filter asks for open ones).
            models.Index(
                fields=["-created_at", "-id"],
                condition=Q(status="open"),
                name="contact_open_newest",
            ),
            models.Index(
                fields=["source", "-created_at", "-id"],
                condition=Q(status="open"),
                name="contact_open_by_source",
            ),
            # Open contacts of one source at one operator: without it SQLite walks all of
            # the pair's history in contact_by_source_operator to find its few open ones.
            models.Index(
                fields=["source", "operator", "-created_at", "-id"],
                condition=Q(status="open"),
                name="contact_open_by_pair",
            ),
            # A source's fairness report: its contacts assigned in a period, per operator.
            models.Index(
                fields=["source", "assigned_at", "operator"], name="contact_source_assigned"
            ),
            # An operator's day (/my/): its contacts closed since midnight. Partial, so a
            # registration (an open contact) does not write it.
            models.Index(
                fields=["operator", "closed_at"],
                condition=Q(status="closed"),
                name="contact_closed_by_operator",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.lead} via {self.source}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_queued(self) -> bool:
        return self.is_open and self.operator_id is None


class ContactTally(models.Model):
    """How many contacts a source holds per operator and status: the counts behind the
    dashboard, the sources and the contacts list, so that no page counts the history.

    Kept by the services in the transaction that changes a contact (distribution/tallies.py,
    written by Pool.finish); `operator_key` is the operator's id, or 0 for none (queued, or
    closed from the queue). `status` is a contact's status, or "lead" (operator_key 0) for
    the leads whose first contact came through the source. The stateful test checks that
    it always equals a recount."""

    # No constraint in the database: on PostgreSQL a row's insert would take a KEY SHARE
    # lock on its source, which a close (holding an operator's lock, not the source's)
    # would wait for behind a registration holding the source and waiting for that
    # operator: a deadlock. Django still deletes a source's tallies with it.
    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, related_name="tallies", db_constraint=False
    )
    operator_key = models.PositiveBigIntegerField()
    status = models.CharField(max_length=10)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "operator_key", "status"], name="contact_tally_key"
            ),
            models.CheckConstraint(condition=Q(n__gte=0), name="contact_tally_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id}/{self.operator_key}/{self.status}: {self.n}"


class ActorType(models.TextChoices):
    SUPERVISOR = "supervisor", "Supervisor"
    OPERATOR = "operator", "Operator"
    TOKEN = "token", "API token"
    SYSTEM = "system", "System"


class EventKind(models.TextChoices):
    REGISTERED = "registered", "Registered"
    ASSIGNED = "assigned", "Assigned"
    QUEUED = "queued", "Queued"
    REASSIGNED = "reassigned", "Reassigned by hand"
    TIMED_OUT = "timed_out", "Timed out"
    REQUEUED = "requeued", "Requeued"
    RESPONDED = "responded", "Responded"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Reopened"


class ContactEvent(models.Model):
    """One entry of the decision log: something that happened to a contact, when, who did
    it, and, for every automatic decision, each operator considered and why it was passed
    over (decision_log.py writes them; nothing changes them afterwards)."""

    Kind = EventKind

    class Reason(models.TextChoices):
        WEIGHTED = "weighted", "drawn by weight"
        BALANCED = "balanced", "balanced round robin"
        STICKY = "sticky", "returning lead, same operator"
        DRAINED = "drained", "drained from the queue"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    # The operator the contact went to (or left, for timed_out and requeued) and the one
    # it had before. Not protected: an operator's history must not keep it from deletion.
    operator = models.ForeignKey(
        Operator, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    previous_operator = models.ForeignKey(
        Operator, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_type = models.CharField(max_length=10, choices=ActorType.choices)
    actor_name = models.CharField(max_length=MAX_NAME_LENGTH, blank=True)
    reason = models.CharField(max_length=10, choices=Reason.choices, blank=True)
    # [{"operator_id", "weight", "open_contacts", "workload_limit", "eligible", "why_not"}]
    candidates = models.JSONField(default=list, blank=True)
    # What else the event says in words: a close's outcome, a reopen's note.
    detail = models.CharField(max_length=MAX_NOTE_LENGTH, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["contact", "at", "id"], name="contact_event_timeline"),
            # A period's assignments (the fairness report), without reading the whole log.
            models.Index(fields=["kind", "at"], name="contact_event_kind_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=EventKind.values),
                name="contact_event_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.contact_id} at {self.at:%Y-%m-%d %H:%M:%S}"


class SettingChange(models.Model):
    """A supervisor's (or a token's) change to an operator's or a source's settings: its
    limit, activity, presence, weights, working hours, routing settings, name."""

    at = models.DateTimeField(default=timezone.now)
    actor_type = models.CharField(max_length=10, choices=ActorType.choices)
    actor_name = models.CharField(max_length=MAX_NAME_LENGTH, blank=True)
    # A weight names both; every other change one of them.
    operator = models.ForeignKey(
        Operator, on_delete=models.CASCADE, null=True, blank=True, related_name="changes"
    )
    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, null=True, blank=True, related_name="changes"
    )
    field = models.CharField(max_length=30)
    old = models.CharField(max_length=MAX_NAME_LENGTH, blank=True)
    new = models.CharField(max_length=MAX_NAME_LENGTH, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["operator", "at"], name="setting_change_operator"),
            models.Index(fields=["source", "at"], name="setting_change_source"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(operator__isnull=False) | Q(source__isnull=False),
                name="setting_change_has_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.field}: {self.old} -> {self.new}"


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only a SHA-256 hash of the secret is stored."""

    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
