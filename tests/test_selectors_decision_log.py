"""Reads of the decision log: timelines and settings changes, at a fixed query cost."""

from datetime import timedelta

import pytest

from distribution import decision_log, selectors, services
from distribution.actors import SYSTEM
from distribution.models import Operator
from tests.log_support import BOSS, START, log_story

pytestmark = pytest.mark.django_db


def test_a_contacts_timeline_is_oldest_first_with_operators_by_name(
    make_operator, make_source, register
):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    contact = register(make_source(weights={ann: 1}))
    log_story(contact, ann, bob)

    entries = selectors.contact_timeline(contact.pk)

    assert [e.event.kind for e in entries] == ["registered", "assigned", "reassigned", "closed"]
    assigned, reassigned = entries[1], entries[2]
    assert assigned.operator == "Ann"
    assert [(c.operator, c.eligible, c.why_not) for c in assigned.candidates] == [
        ("Ann", True, None),
        ("Bob", False, "full"),
    ]
    assert (reassigned.operator, reassigned.previous_operator) == ("Bob", "Ann")
    assert list(selectors.contact_events(contact.pk)) == [e.event for e in entries]


def test_a_deleted_candidate_is_named_by_its_id(make_operator, make_source, register):
    ann, gone = make_operator("Ann"), make_operator("Gone")
    contact = register(make_source(weights={ann: 1}))
    log_story(contact, ann, gone)
    gone_id = gone.pk
    Operator.objects.filter(pk=gone_id).delete()

    assigned = selectors.contact_timeline(contact.pk)[1]

    assert [c.operator for c in assigned.candidates] == ["Ann", f"#{gone_id}"]


def test_timelines_cost_a_fixed_number_of_queries(
    make_operator, make_source, register, django_assert_num_queries
):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source(weights={ann: 1})
    first = register(source, "eve@example.com")
    log_story(first, ann, bob)
    with django_assert_num_queries(2):
        selectors.contact_timeline(first.pk)
    with django_assert_num_queries(3):
        selectors.lead_timeline(first.lead_id)

    for _ in range(3):
        contact = register(source, "eve@example.com")
        log_story(contact, bob, make_operator())
    with django_assert_num_queries(2):
        selectors.contact_timeline(first.pk)
    with django_assert_num_queries(3):
        timeline = selectors.lead_timeline(first.lead_id)
    assert timeline.count == 16 and len(timeline.entries) == 16


def test_a_leads_timeline_shows_its_latest_events_oldest_first(
    make_operator, make_source, register
):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source(weights={ann: 1})
    first, second = register(source, "eve@example.com"), register(source, "eve@example.com")
    log_story(first, ann, bob)
    log_story(second, bob, ann, start=START + timedelta(hours=1))
    log_story(register(source, "other@example.com"), ann, bob)

    timeline = selectors.lead_timeline(first.lead_id, limit=5)

    assert timeline.count == 8
    assert [(e.event.contact_id, e.event.kind) for e in timeline.entries] == [
        (first.pk, "closed"),
        (second.pk, "registered"),
        (second.pk, "assigned"),
        (second.pk, "reassigned"),
        (second.pk, "closed"),
    ]


def test_settings_changes_are_newest_first_with_their_count(
    make_operator, make_source, django_assert_num_queries
):
    ann = make_operator("Ann")
    source = make_source("Bot")
    decision_log.record(
        [
            decision_log.setting_change(
                "workload_limit", 10, 12, actor=BOSS, operator_id=ann.pk, at=START
            ),
            decision_log.setting_change(
                "weight",
                None,
                3,
                actor=BOSS,
                operator_id=ann.pk,
                source_id=source.pk,
                at=START + timedelta(minutes=1),
            ),
            decision_log.setting_change(
                "is_active",
                True,
                False,
                actor=SYSTEM,
                operator_id=ann.pk,
                at=START + timedelta(minutes=2),
            ),
        ]
    )
    services.source_update(source_id=source.pk, mode="balanced", actor=BOSS)

    with django_assert_num_queries(2):
        changes = selectors.operator_changes(ann.pk, limit=2)
        fields = [
            (c.field, c.old, c.new, c.source.name if c.source else None) for c in changes.items
        ]
    assert changes.count == 3
    assert fields == [("is_active", "yes", "no", None), ("weight", "", "3", "Bot")]

    with django_assert_num_queries(2):
        changes = selectors.source_changes(source.pk)
        fields = [(c.field, c.operator.name if c.operator else None) for c in changes.items]
    assert changes.count == 2
    assert fields == [("mode", None), ("weight", "Ann")]
