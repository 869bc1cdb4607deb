"""
The fairness report of a source (docs/distribution.md, "Is the split fair?"): for a period
of days, how many contacts each operator got by draw against how many its weights made it
expect, and Pearson's chi-square goodness-of-fit test of the difference. Reads only.

The expected counts come from the decision log. Every automatic assignment records each
operator the engine considered, with its weight and whether it was eligible; the draw
gave each eligible one the chance weight / (sum of the eligible weights), so an
operator's expected count is the sum of its chances over the period's draws. That is
fair to operators who were away, off shift or full for part of the period. Sticky
assignments (the lead's own operator, not a draw) and reassignments by hand are not
counted, only reported. Contacts assigned before the log existed have no such record:
they are counted against the source's current weights, and the report says how many.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone
from scipy.stats import chisquare

from .models import Contact, ContactEvent, Operator, Source, SourceOperatorConfig

# Below this p-value the split is flagged as unlikely under the weights: a fair draw
# gives a split at least this uneven once in a hundred periods.
UNLIKELY_P_VALUE = 0.01
# Pearson's statistic follows the chi-square distribution only approximately; the usual
# rule (Cochran) asks for an expected count of at least 5 in every category.
MIN_EXPECTED_COUNT = 5
# A test needs at least two operators to compare.
MIN_OPERATORS = 2
# The default period: the last 7 days, today included.
DEFAULT_DAYS = 7
# The longest period, in days (a leap year).
MAX_PERIOD_DAYS = 366
# Dates outside these would overflow when turned into moments of the site's time zone.
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(9998, 12, 31)

DRAWS = {
    ContactEvent.Reason.WEIGHTED,
    ContactEvent.Reason.BALANCED,
    ContactEvent.Reason.DRAINED,
}


class Verdict:
    CONSISTENT = "consistent"
    UNLIKELY = "unlikely"
    NOT_ENOUGH_DATA = "not_enough_data"


@dataclass(frozen=True)
class Row:
    """One operator of the report."""

    operator_id: int
    name: str
    weight: int | None  # its weight for the source now; None: it has none
    contacts: int  # contacts it got by draw (or, before the log, at all) in the period
    share: float  # contacts / all counted contacts
    expected: float  # the contacts its weights gave it, summed over the draws
    expected_share: float  # expected / all counted contacts

    @property
    def takes_part(self) -> bool:
        """Whether the test counts it: it could have got a contact, or did."""
        return self.expected > 0 or self.contacts > 0


@dataclass(frozen=True)
class Report:
    source: Source
    since: date
    until: date  # included
    rows: list[Row]
    total: int  # contacts counted: draws plus by_current_weights
    draws: int  # assignments by draw, from the decision log
    by_current_weights: int  # contacts without a log entry, against today's weights
    sticky: int  # sticky assignments in the period, not counted
    reassigned: int  # reassignments by hand in the period, not counted
    verdict: str  # a Verdict
    reason: str  # why there is not enough data ("" otherwise)
    statistic: float | None
    df: int | None
    p_value: float | None

    @property
    def unlikely(self) -> bool:
        return self.verdict == Verdict.UNLIKELY

    @property
    def verdict_text(self) -> str:
        """The verdict in words, as the page, the CSV and the API say it."""
        if self.verdict == Verdict.UNLIKELY:
            return (
                f"Unlikely under the weights: a fair draw splits this unevenly in fewer "
                f"than {UNLIKELY_P_VALUE:.0%} of periods."
            )
        if self.verdict == Verdict.CONSISTENT:
            return "Consistent with the weights: a fair draw often splits this way."
        return f"Not enough data for the test: {self.reason}."


def default_period(until: date | None = None) -> tuple[date, date]:
    """The DEFAULT_DAYS days up to `until` (default: today in the site's time zone)."""
    until = until or timezone.localdate()
    if until < EARLIEST_DATE:
        return until, until  # check_period refuses it; the subtraction could overflow.
    return max(EARLIEST_DATE, until - timedelta(days=DEFAULT_DAYS - 1)), until


def check_period(since: date, until: date) -> None:
    """ValidationError, by field, when [since, until] is no period the report covers."""
    errors: dict[str, str] = {}
    for name, day in (("since", since), ("until", until)):
        if not EARLIEST_DATE <= day <= LATEST_DATE:
            errors[name] = f"Enter a date between {EARLIEST_DATE} and {LATEST_DATE}."
    if not errors and since > until:
        errors["until"] = "The period ends before it starts: choose a later end date."
    elif not errors and (until - since).days + 1 > MAX_PERIOD_DAYS:
        errors["until"] = f"The period is longer than a year: at most {MAX_PERIOD_DAYS} days."
    if errors:
        raise ValidationError(errors)


def _moments(since: date, until: date) -> tuple[datetime, datetime]:
    # Midnight at the start of `since` to midnight after `until`, in the site's zone
    # (a day of a daylight-saving change is 23 or 25 hours long, as it should be).
    start = timezone.make_aware(datetime.combine(since, time.min))
    end = timezone.make_aware(datetime.combine(until + timedelta(days=1), time.min))
    return start, end


def _chances(candidates: list[dict]) -> dict[int, float]:
    """Each eligible candidate's chance in one draw: weight / sum of eligible weights."""
    weights = {
        c["operator_id"]: c["weight"] for c in candidates if c.get("eligible") and c.get("weight")
    }
    total = sum(weights.values())
    return {op: weight / total for op, weight in weights.items()} if total else {}


def source_fairness(source: Source, *, since: date, until: date) -> Report:
    """The report of `source` for the days since..until (both included, site time zone).

    Four queries, however many operators, draws and contacts: the weights, the log's
    assignments, the contacts without any, and the operators' names.
    """
    check_period(since, until)
    start, end = _moments(since, until)
    weights = dict(
        SourceOperatorConfig.objects.filter(source=source).values_list("operator_id", "weight")
    )
    contacts: dict[int, int] = defaultdict(int)
    expected: dict[int, float] = defaultdict(float)
    draws = sticky = reassigned = 0

    events = ContactEvent.objects.filter(
        contact__source=source,
        kind__in=[ContactEvent.Kind.ASSIGNED, ContactEvent.Kind.REASSIGNED],
        at__gte=start,
        at__lt=end,
    ).values_list("kind", "reason", "operator_id", "candidates")
    for kind, reason, operator_id, candidates in events.iterator():
        if kind == ContactEvent.Kind.REASSIGNED:
            reassigned += 1
        elif reason == ContactEvent.Reason.STICKY:
            sticky += 1
        elif reason in DRAWS and operator_id is not None:
            # An event whose operator was deleted since (SET_NULL) cannot say who won.
            chances = _chances(candidates)
            if not chances:
                continue
            draws += 1
            contacts[operator_id] += 1
            for op, chance in chances.items():
                expected[op] += chance

    # History from before the decision log: contacts assigned in the period that no
    # assignment event tells of, counted for their operator against today's weights.
    logged = ContactEvent.objects.filter(
        contact=OuterRef("pk"),
        kind__in=[ContactEvent.Kind.ASSIGNED, ContactEvent.Kind.REASSIGNED],
    )
    unlogged = dict(
        Contact.objects.filter(
            source=source, operator__isnull=False, assigned_at__gte=start, assigned_at__lt=end
        )
        .exclude(Exists(logged))
        .values("operator_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("operator_id", "n")
    )
    by_current_weights = sum(unlogged.values())
    weight_sum = sum(weights.values())
    for op, n in unlogged.items():
        contacts[op] += n
    if weight_sum:
        for op, weight in weights.items():
            expected[op] += by_current_weights * weight / weight_sum

    total = draws + by_current_weights
    ids = set(weights) | set(contacts) | set(expected)
    names = dict(Operator.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    rows = [
        Row(
            operator_id=op,
            name=names.get(op, f"Deleted operator #{op}"),
            weight=weights.get(op),
            contacts=contacts[op],
            share=contacts[op] / total if total else 0.0,
            expected=expected[op],
            expected_share=expected[op] / total if total else 0.0,
        )
        for op in ids
    ]
    rows.sort(key=lambda row: (row.name.casefold(), row.operator_id))
    return _tested(
        Report(
            source=source,
            since=since,
            until=until,
            rows=rows,
            total=total,
            draws=draws,
            by_current_weights=by_current_weights,
            sticky=sticky,
            reassigned=reassigned,
            verdict=Verdict.NOT_ENOUGH_DATA,
            reason="",
            statistic=None,
            df=None,
            p_value=None,
        )
    )


def _tested(report: Report) -> Report:
    """The report with its chi-square test, or the reason there is not enough data."""
    taking_part = [row for row in report.rows if row.takes_part]
    reason = ""
    if len(taking_part) < MIN_OPERATORS:
        reason = f"fewer than {MIN_OPERATORS} operators could receive contacts in the period"
    elif any(row.expected < MIN_EXPECTED_COUNT for row in taking_part):
        reason = (
            f"an operator's expected count is below {MIN_EXPECTED_COUNT}, "
            "where the test's p-value would mislead"
        )
    if reason:
        return replace(report, reason=reason)
    result = chisquare([row.contacts for row in taking_part], [row.expected for row in taking_part])
    statistic, p_value = float(result.statistic), float(result.pvalue)
    if math.isnan(p_value):
        return replace(report, reason="the test has no result for these counts")
    verdict = Verdict.UNLIKELY if p_value < UNLIKELY_P_VALUE else Verdict.CONSISTENT
    return replace(
        report,
        verdict=verdict,
        statistic=statistic,
        df=len(taking_part) - 1,
        p_value=p_value,
    )
