"""Management commands: demo data, API tokens, the first supervisor."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from distribution.auth_tokens import api_token_authenticate
from distribution.models import ApiToken, Contact, Operator, Source

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_seed_demo_loads_data_once():
    run("seed_demo")
    counts = (Operator.objects.count(), Source.objects.count(), Contact.objects.count())

    output = run("seed_demo")

    assert counts[0] >= 3 and counts[1] >= 2 and counts[2] >= 10
    assert (Operator.objects.count(), Source.objects.count(), Contact.objects.count()) == counts
    assert "skipped" in output


def test_seed_demo_respects_limits_and_leaves_no_assignable_queue():
    run("seed_demo")

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
