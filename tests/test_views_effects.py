"""views/effects.py: what an action did, from the log entries it wrote, in one sentence."""

from distribution import decision_log
from distribution.actors import SYSTEM
from distribution.decision_log import Captured
from distribution.models import ContactEvent
from distribution.views.effects import describe

Kind = ContactEvent.Kind


def event(contact_id: int, kind: str, operator=None) -> ContactEvent:
    return decision_log.contact_event(
        contact_id, kind, actor=SYSTEM, operator_id=operator.pk if operator else None
    )


def change(field: str, old, new, *, operator=None, source=None):
    return decision_log.setting_change(
        field,
        old,
        new,
        actor=SYSTEM,
        operator_id=operator.pk if operator else None,
        source_id=source.pk if source else None,
    )


def test_a_raised_limit_says_how_many_queued_contacts_went_to_whom(make_operator):
    chen = make_operator("Chen")
    captured = Captured(
        contact_events=[event(pk, Kind.ASSIGNED, chen) for pk in range(1, 8)],
        setting_changes=[change("workload_limit", 35, 42, operator=chen)],
    )
    assert describe(captured) == "Limit 35 -> 42: 7 queued contacts assigned to Chen."


def test_a_requeue_says_what_went_back_where_it_went_and_what_waits(make_operator):
    ann, bruno, cleo = make_operator("Ann"), make_operator("Bruno"), make_operator("Cleo")
    events = [event(pk, Kind.REQUEUED, ann) for pk in (1, 2, 3, 4, 5)]
    events += [event(1, Kind.ASSIGNED, bruno), event(2, Kind.ASSIGNED, bruno)]
    events += [event(3, Kind.ASSIGNED, bruno), event(4, Kind.ASSIGNED, cleo)]
    captured = Captured(
        contact_events=events, setting_changes=[change("is_active", True, False, operator=ann)]
    )
    assert describe(captured) == (
        "Inactive: 5 open contacts returned to the queue; 3 went to Bruno, 1 to Cleo, 1 waits."
    )


def test_several_operators_filled_from_the_queue_are_counted_each(make_operator):
    ann, bruno = make_operator("Ann"), make_operator("Bruno")
    events = [event(1, Kind.ASSIGNED, ann)] + [event(pk, Kind.ASSIGNED, bruno) for pk in (2, 3)]
    captured = Captured(
        contact_events=events,
        setting_changes=[change("presence", "away", "available", operator=ann)],
    )
    assert describe(captured) == "Available: 3 queued contacts assigned: 2 to Bruno, 1 to Ann."


def test_a_weight_names_its_operator_and_one_contact_is_singular(make_operator, make_source):
    chen = make_operator("Chen")
    source = make_source()
    captured = Captured(
        contact_events=[event(9, Kind.ASSIGNED, chen)],
        setting_changes=[change("weight", None, 3, operator=chen, source=source)],
    )
    assert describe(captured) == "Weight for Chen set to 3: 1 queued contact assigned to Chen."
    removed = Captured(setting_changes=[change("weight", 3, None, operator=chen, source=source)])
    assert describe(removed) == "Weight for Chen removed."


def test_a_change_that_moves_nothing_says_only_what_changed(make_operator):
    chen = make_operator("Chen")
    captured = Captured(setting_changes=[change("workload_limit", 42, 35, operator=chen)])
    assert describe(captured) == "Limit 42 -> 35."
    assert describe(Captured()) == ""


def test_a_lead_given_by_the_page_replaces_the_settings_part(make_operator):
    chen = make_operator("Chen")
    captured = Captured(
        contact_events=[event(1, Kind.ASSIGNED, chen), event(2, Kind.ASSIGNED, chen)],
        setting_changes=[change("working hours", "", "Mon 09:00-17:00", operator=chen)],
    )
    text = describe(captured, lead="Working hours of Chen saved")
    assert text == "Working hours of Chen saved: 2 queued contacts assigned to Chen."


def test_names_are_read_in_one_query(make_operator, django_assert_num_queries):
    ann, bruno = make_operator("Ann"), make_operator("Bruno")
    events = [event(pk, Kind.REQUEUED, ann) for pk in (1, 2)] + [event(1, Kind.ASSIGNED, bruno)]
    with django_assert_num_queries(1):
        text = describe(Captured(contact_events=events))
    assert text == "2 open contacts returned to the queue; 1 went to Bruno, 1 waits."
