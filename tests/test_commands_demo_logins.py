"""seed_demo's operator logins: only for a demo (DEBUG or a password from the environment)."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from distribution.management.commands.seed_demo import DEMO_LOGINS, DEMO_OPERATOR_PASSWORD
from distribution.models import Operator
from distribution.permissions import is_operator

pytestmark = pytest.mark.django_db
User = get_user_model()


def run() -> str:
    out = StringIO()
    # A short week: the logins do not depend on it (test_commands_seed_demo has the full one).
    call_command("seed_demo", "--contacts", "40", stdout=out)
    return out.getvalue()


def test_in_debug_demo_operators_get_logins_once_and_the_way_in_is_printed(settings, monkeypatch):
    monkeypatch.delenv("DEMO_OPERATOR_PASSWORD", raising=False)
    settings.DEBUG = True

    first = run()
    again = run()

    assert len(DEMO_LOGINS) >= 2
    for name, username in DEMO_LOGINS.items():
        user = User.objects.get(username=username)
        assert Operator.objects.get(name=name).user_id == user.pk
        assert is_operator(user) and user.check_password(DEMO_OPERATOR_PASSWORD)
    assert User.objects.count() == len(DEMO_LOGINS)
    for output in (first, again):
        assert f"password {DEMO_OPERATOR_PASSWORD!r}" in output
        assert "'alice'" in output and "/accounts/login/" in output


def test_a_password_from_the_environment_is_used_and_never_printed(settings, monkeypatch):
    monkeypatch.setenv("DEMO_OPERATOR_PASSWORD", "env-demo-pass-phrase")
    settings.DEBUG = False

    output = run()

    assert User.objects.get(username="alice").check_password("env-demo-pass-phrase")
    assert "env-demo-pass-phrase" not in output
    assert "DEMO_OPERATOR_PASSWORD" in output


def test_without_debug_or_a_password_no_login_is_created(settings, monkeypatch):
    monkeypatch.delenv("DEMO_OPERATOR_PASSWORD", raising=False)
    settings.DEBUG = False

    output = run()

    assert Operator.objects.exists()
    assert not User.objects.exists()
    assert "DEMO_OPERATOR_PASSWORD" in output


def test_a_login_given_by_a_supervisor_is_left_alone(settings, monkeypatch):
    monkeypatch.delenv("DEMO_OPERATOR_PASSWORD", raising=False)
    settings.DEBUG = True
    run()
    alice = Operator.objects.get(user__username="alice")
    alice.user.set_password("changed-by-alice-1")
    alice.user.save()

    run()

    assert User.objects.get(username="alice").check_password("changed-by-alice-1")
