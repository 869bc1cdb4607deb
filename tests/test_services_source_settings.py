"""services.source_update: a source's name and routing settings, each change logged."""

import pytest
from django.core.exceptions import ValidationError

from distribution import services
from distribution.actors import SYSTEM, Actor
from distribution.models import (
    MAX_RESPONSE_MINUTES,
    MAX_STICKY_DAYS,
    ActorType,
    RoutingMode,
    SettingChange,
    Source,
)

pytestmark = pytest.mark.django_db

BOSS = Actor(ActorType.SUPERVISOR, "boss")


def changes_of(source) -> list[tuple[str, str, str, str, str]]:
    return list(
        SettingChange.objects.filter(source=source)
        .order_by("id")
        .values_list("field", "old", "new", "actor_type", "actor_name")
    )


def test_each_changed_setting_is_stored_and_logged_with_its_actor(make_source):
    source = make_source("Bot")

    services.source_update(
        source_id=source.pk, actor=BOSS, mode="balanced", sticky_days=30, response_minutes=15
    )

    source.refresh_from_db()
    assert (source.mode, source.sticky_days, source.response_minutes) == ("balanced", 30, 15)
    assert changes_of(source) == [
        ("mode", "random", "balanced", "supervisor", "boss"),
        ("sticky_days", "", "30", "supervisor", "boss"),
        ("response_minutes", "", "15", "supervisor", "boss"),
    ]


def test_none_turns_sticky_and_response_off(make_source):
    source = make_source("Bot")
    services.source_update(source_id=source.pk, sticky_days=7, response_minutes=60)

    services.source_update(source_id=source.pk, sticky_days=None, response_minutes=None)

    source.refresh_from_db()
    assert source.sticky_days is None and source.response_minutes is None
    assert changes_of(source)[-2:] == [
        ("sticky_days", "7", "", "system", "system"),
        ("response_minutes", "60", "", "system", "system"),
    ]


def test_absent_settings_stay_and_unchanged_ones_log_nothing(make_source):
    source = make_source("Bot")
    services.source_update(source_id=source.pk, sticky_days=7)

    services.source_update(source_id=source.pk, sticky_days=7, mode="random", name=" Bot ")

    source.refresh_from_db()
    assert (source.name, source.mode, source.sticky_days) == ("Bot", "random", 7)
    assert [field for field, *_ in changes_of(source)] == ["sticky_days"]


def test_a_rename_is_logged_and_keeps_working_with_the_name_alone(make_source):
    source = make_source("Bot")

    services.source_update(source_id=source.pk, name="Telegram")

    assert Source.objects.get(pk=source.pk).name == "Telegram"
    assert changes_of(source) == [("name", "Bot", "Telegram", "system", SYSTEM.name)]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"mode": "fastest"}, "mode", "random, balanced"),
        ({"mode": None}, "mode", "random, balanced"),
        ({"sticky_days": 0}, "sticky_days", f"between 1 and {MAX_STICKY_DAYS}"),
        ({"sticky_days": MAX_STICKY_DAYS + 1}, "sticky_days", "between 1"),
        ({"sticky_days": True}, "sticky_days", "whole number"),
        ({"sticky_days": "7"}, "sticky_days", "whole number"),
        ({"response_minutes": 0}, "response_minutes", f"between 1 and {MAX_RESPONSE_MINUTES}"),
        ({"response_minutes": MAX_RESPONSE_MINUTES + 1}, "response_minutes", "between 1"),
        ({"response_minutes": 1.5}, "response_minutes", "whole number"),
        ({"name": "   "}, "name", "blank"),
        ({"name": None, "mode": "balanced"}, "name", "blank"),
    ],
)
def test_a_bad_value_is_refused_by_field_and_changes_nothing(make_source, changes, field, message):
    source = make_source("Bot")

    # A valid change beside the bad one (the name, unless it is the bad one) is not applied.
    with pytest.raises(ValidationError) as caught:
        services.source_update(source_id=source.pk, **{"name": "Renamed", **changes})

    assert field in caught.value.message_dict
    assert message in " ".join(caught.value.message_dict[field])
    source.refresh_from_db()
    assert (source.name, source.mode, source.sticky_days, source.response_minutes) == (
        "Bot",
        RoutingMode.RANDOM,
        None,
        None,
    )
    assert changes_of(source) == []


def test_a_taken_name_is_name_taken_and_logs_nothing(make_source):
    make_source("Bot")
    source = make_source("Form")

    with pytest.raises(services.NameTaken):
        services.source_update(source_id=source.pk, name="BOT", mode="balanced")

    assert Source.objects.get(pk=source.pk).mode == RoutingMode.RANDOM
    assert changes_of(source) == []


def test_an_unknown_setting_is_a_type_error(make_source):
    source = make_source("Bot")
    with pytest.raises(TypeError, match="colour"):
        services.source_update(source_id=source.pk, colour="red")


def test_an_unknown_source_is_does_not_exist(db):
    with pytest.raises(Source.DoesNotExist):
        services.source_update(source_id=999_999, mode="balanced")
