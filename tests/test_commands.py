"""Management commands: demo data, API tokens, the first supervisor."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from distribution import invariants
from distribution.auth_tokens import api_token_authenticate
from distribution.models import ApiToken, Contact, Operator, Source

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_seed_demo_loads_data_once():
    run("seed_demo", "--contacts", "40")
    counts = (Operator.objects.count(), Source.objects.count(), Contact.objects.count())

    output = run("seed_demo", "--contacts", "40")

    assert counts[0] >= 3 and counts[1] >= 2 and counts[2] >= 10
    assert (Operator.objects.count(), Source.objects.count(), Contact.objects.count()) == counts
    assert "skipped" in output


def test_seed_demo_respects_limits_and_leaves_no_assignable_queue():
    run("seed_demo", "--contacts", "40")

    for op in Operator.objects.all():
        assert op.contacts.filter(status="open").count() <= op.workload_limit


def test_create_api_token_prints_only_the_secret_and_stores_its_hash():
    output = run("create_api_token", "telegram-bot")

    lines = output.splitlines()
    assert len(lines) == 1
    secret = lines[0]
    token = ApiToken.objects.get()
    assert token.name == "telegram-bot"
    assert secret not in token.token_hash
    assert api_token_authenticate(secret) == token


def test_create_api_token_refuses_an_empty_name():
    with pytest.raises(CommandError):
        run("create_api_token", "  ")

    assert ApiToken.objects.count() == 0


def test_ensure_supervisor_creates_one_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "boss")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long passphrase")

    run("ensure_supervisor")
    again = run("ensure_supervisor")

    user = get_user_model().objects.get(username="boss")
    assert user.is_staff and user.is_active and user.check_password("a long passphrase")
    assert "boss" in again
    assert get_user_model().objects.count() == 1


def test_ensure_supervisor_without_environment_says_how(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)

    output = run("ensure_supervisor")

    assert "createsuperuser" in output
    assert get_user_model().objects.count() == 0


def _queue_beside_room(make_operator, make_source, register):
    """Queued contacts beside an operator with room, as a crash between two writes could
    leave them (made here by writing the operator's row behind the services' back)."""
    alice = make_operator("Alice", limit=1)
    source = make_source(weights={alice: 1})
    held = register(source)
    queued = [register(source) for _ in range(3)]
    Operator.objects.filter(pk=alice.pk).update(workload_limit=3)
    return alice, held, queued


def test_drain_queue_assigns_what_an_operator_with_room_can_take(
    make_operator, make_source, register
):
    alice, _held, queued = _queue_beside_room(make_operator, make_source, register)

    output = run("drain_queue")

    assert output.strip() == "Assigned 2 queued contact(s)."
    operators = [Contact.objects.get(pk=c.pk).operator_id for c in queued]
    # Oldest first: the two oldest went to Alice, the youngest still waits.
    assert operators == [alice.pk, alice.pk, None]
    assert invariants.state_violations() == []


def test_drain_queue_twice_does_nothing_the_second_time(make_operator, make_source, register):
    _queue_beside_room(make_operator, make_source, register)
    run("drain_queue")
    before = list(Contact.objects.values_list("pk", "operator_id", "assigned_at"))

    output = run("drain_queue")

    assert output.strip() == "Assigned 0 queued contact(s)."
    assert list(Contact.objects.values_list("pk", "operator_id", "assigned_at")) == before


def test_drain_queue_never_assigns_to_an_inactive_or_unweighted_operator(
    make_operator, make_source, register
):
    sleeper = make_operator("Sleeper", limit=5, active=False)
    make_operator("Unweighted", limit=5)
    source = make_source(weights={sleeper: 1})
    queued = register(source)

    assert run("drain_queue").strip() == "Assigned 0 queued contact(s)."
    queued.refresh_from_db()
    assert queued.operator_id is None
