"""The fairness report's numbers (distribution/fairness.py): expected counts from the
decision log, the fallback to today's weights, the chi-square test and its limits."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from distribution import fairness
from distribution.actors import Actor
from distribution.decision_log import contact_event, record
from distribution.models import ActorType, Contact, ContactEvent, Operator, Source
from tests.fairness_support import DAY, assign, candidate, noon, unlogged


def report(source: Source, since: date = DAY, until: date = DAY) -> fairness.Report:
    return fairness.source_fairness(source, since=since, until=until)


def row_of(result: fairness.Report, op: Operator) -> fairness.Row:
    return next(row for row in result.rows if row.operator_id == op.pk)


def test_mendels_dihybrid_cross_gives_the_textbook_chi_square_and_p_value(
    make_operator, make_source
):
    # Mendel's peas (1866): 315 round yellow, 108 round green, 101 wrinkled yellow and
    # 32 wrinkled green seeds against the 9:3:3:1 his theory predicts. The textbook
    # answer (e.g. Sokal & Rohlf, Biometry; Snedecor & Cochran, Statistical Methods):
    # chi-square 0.470 with 3 degrees of freedom, p = 0.925.
    ops = [make_operator(name) for name in ("A round yellow", "B round green", "C wrinkled")]
    ops.append(make_operator("D wrinkled green"))
    weights = [9, 3, 3, 1]
    source = make_source(weights=dict(zip(ops, weights, strict=True)))
    everyone = [candidate(op, w) for op, w in zip(ops, weights, strict=True)]
    for op, seeds in zip(ops, [315, 108, 101, 32], strict=True):
        assign(source, op, everyone, times=seeds)

    result = report(source)

    assert result.total == result.draws == 556
    assert result.df == 3
    assert result.statistic == pytest.approx(0.470, abs=5e-4)
    assert result.p_value == pytest.approx(0.925, abs=5e-4)
    assert result.verdict == fairness.Verdict.CONSISTENT
    assert [row.expected for row in result.rows] == pytest.approx([312.75, 104.25, 104.25, 34.75])


def test_expected_counts_follow_who_was_eligible_at_each_draw(make_operator, make_source):
    ann, bob, cid = make_operator("Ann"), make_operator("Bob"), make_operator("Cid")
    source = make_source(weights={ann: 1, bob: 3, cid: 1})
    # All three eligible: chances 1/5, 3/5, 1/5.
    assign(source, bob, [candidate(ann, 1), candidate(bob, 3), candidate(cid, 1)], times=10)
    # Bob away: Ann and Cid share the draw half and half.
    assign(source, ann, [candidate(ann, 1), candidate(bob, 3, "away"), candidate(cid, 1)], times=4)
    # Only Bob, the others full and without a weight: a certain draw.
    assign(
        source, bob, [candidate(ann, 1, "full"), candidate(bob, 3), candidate(cid, None)], times=6
    )

    result = report(source)

    assert row_of(result, ann).expected == pytest.approx(10 * 0.2 + 4 * 0.5)
    assert row_of(result, bob).expected == pytest.approx(10 * 0.6 + 6)
    assert row_of(result, cid).expected == pytest.approx(10 * 0.2 + 4 * 0.5)
    assert [row_of(result, op).contacts for op in (ann, bob, cid)] == [4, 16, 0]
    assert sum(row.expected for row in result.rows) == pytest.approx(result.total) == 20
    assert row_of(result, bob).share == pytest.approx(16 / 20)
    assert row_of(result, bob).expected_share == pytest.approx(12 / 20)


def test_balanced_and_drained_assignments_are_draws_sticky_and_manual_ones_are_not(
    make_operator, make_source
):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source(weights={ann: 1, bob: 1})
    both = [candidate(ann, 1), candidate(bob, 1)]
    assign(source, ann, both, reason="balanced", times=3)
    assign(source, bob, both, reason="drained", times=2)
    assign(source, ann, both, reason="sticky", times=7)
    contact = Contact.objects.filter(operator=ann).first()
    assert contact is not None
    record(
        [
            contact_event(
                contact.pk,
                ContactEvent.Kind.REASSIGNED,
                actor=Actor(ActorType.SUPERVISOR, "boss"),
                at=noon(),
                operator_id=bob.pk,
                previous_operator_id=ann.pk,
            )
        ]
    )

    result = report(source)

    assert (result.draws, result.sticky, result.reassigned) == (5, 7, 1)
    assert [row_of(result, op).contacts for op in (ann, bob)] == [3, 2]
    assert result.by_current_weights == 0


def test_contacts_from_before_the_log_count_against_todays_weights(make_operator, make_source):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source(weights={ann: 1, bob: 3})
    unlogged(source, ann, times=12)
    unlogged(source, bob, times=28)
    assign(source, bob, [candidate(ann, 1, "away"), candidate(bob, 3)], times=5)

    result = report(source)

    assert (result.by_current_weights, result.draws, result.total) == (40, 5, 45)
    assert row_of(result, ann).expected == pytest.approx(10)
    assert row_of(result, bob).expected == pytest.approx(30 + 5)
    assert [row_of(result, op).contacts for op in (ann, bob)] == [12, 33]
    assert result.verdict == fairness.Verdict.CONSISTENT
    assert result.df == 1


def test_only_the_period_counts_in_the_sites_time_zone(make_operator, make_source):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source(weights={ann: 1, bob: 1})
    both = [candidate(ann, 1), candidate(bob, 1)]
    zone = ZoneInfo("Europe/Berlin")
    with override_settings(TIME_ZONE="Europe/Berlin"):
        # 23:30 in Berlin on the day before: outside; 00:30 on the first day: inside.
        assign(source, ann, both, at=datetime(2024, 5, 5, 23, 30, tzinfo=zone))
        assign(source, bob, both, at=datetime(2024, 5, 6, 0, 30, tzinfo=zone))
        assign(source, bob, both, at=datetime(2024, 5, 7, 23, 59, tzinfo=zone))
        assign(source, ann, both, at=datetime(2024, 5, 8, 0, 0, tzinfo=zone))
        unlogged(source, ann, times=1, at=datetime(2024, 5, 8, 0, 0, tzinfo=zone))

        result = report(source, DAY, DAY + timedelta(days=1))

    assert result.draws == 2
    assert [row_of(result, op).contacts for op in (ann, bob)] == [0, 2]


@pytest.mark.parametrize(
    ("counts", "why"),
    [
        # Ann's expected count is 4.5 (< 5): the test's approximation does not hold.
        ((4, 14), "below 5"),
        # Only one operator could receive anything.
        ((30, 0), "fewer than 2 operators"),
    ],
)
def test_too_little_data_says_so_instead_of_a_p_value(make_operator, make_source, counts, why):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source(weights={ann: 1, bob: 3})
    if counts[1]:
        both = [candidate(ann, 1), candidate(bob, 3)]
        assign(source, ann, both, times=counts[0])
        assign(source, bob, both, times=counts[1])
    else:
        assign(source, ann, [candidate(ann, 1), candidate(bob, 3, "offline")], times=counts[0])

    result = report(source)

    assert result.verdict == fairness.Verdict.NOT_ENOUGH_DATA
    assert why in result.reason and why in result.verdict_text
    assert result.p_value is None and result.statistic is None and result.df is None
    assert not result.unlikely


def test_an_empty_period_is_not_enough_data_and_lists_the_weighted_operators(
    make_operator, make_source
):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source(weights={ann: 1, bob: 3})

    result = report(source)

    assert [(row.name, row.weight, row.contacts, row.expected) for row in result.rows] == [
        ("Ann", 1, 0, 0.0),
        ("Bob", 3, 0, 0.0),
    ]
    assert result.total == 0 and result.verdict == fairness.Verdict.NOT_ENOUGH_DATA


def test_a_lopsided_split_is_flagged_unlikely(make_operator, make_source):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source(weights={ann: 1, bob: 3})
    both = [candidate(ann, 1), candidate(bob, 3)]
    # 40 draws at 1:3 expect 10:30; 20:20 has chi-square 13.3, p 0.0003.
    assign(source, ann, both, times=20)
    assign(source, bob, both, times=20)

    result = report(source)

    assert result.unlikely and result.verdict == fairness.Verdict.UNLIKELY
    assert result.statistic == pytest.approx(10**2 / 10 + 10**2 / 30)
    assert result.p_value is not None and result.p_value < fairness.UNLIKELY_P_VALUE
    assert "Unlikely under the weights" in result.verdict_text


def test_other_sources_do_not_count(make_operator, make_source):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source, other = make_source(weights={ann: 1, bob: 1}), make_source(weights={ann: 1})
    assign(other, ann, [candidate(ann, 1)], times=5)
    unlogged(other, ann, times=5)

    assert report(source).total == 0


@pytest.mark.parametrize(
    ("since", "until", "field"),
    [
        (date(2024, 5, 7), date(2024, 5, 6), "until"),
        (date(2023, 5, 6), date(2024, 5, 6), "until"),  # 367 days
        (date(1, 1, 1), date(2024, 5, 6), "since"),
        (date(2024, 5, 6), date(9999, 12, 31), "until"),
    ],
)
def test_a_period_backwards_too_long_or_out_of_range_is_refused(since, until, field):
    with pytest.raises(ValidationError) as caught:
        fairness.check_period(since, until)
    assert list(caught.value.message_dict) == [field]


def test_a_period_of_one_day_or_of_a_leap_year_is_accepted():
    fairness.check_period(DAY, DAY)
    fairness.check_period(date(2024, 1, 1), date(2024, 12, 31))


def test_the_default_period_is_the_last_seven_days_today_included():
    assert fairness.default_period(DAY) == (date(2024, 4, 30), DAY)
