"""
Security under production settings: start-up checks, `check --deploy`, login throttling,
the Content-Security-Policy, CSRF exemptions and the health check.

Settings are read once per process, so everything about DEBUG=0 runs `manage.py` in a
subprocess with a clean environment.
"""

import json
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connections
from django.test import RequestFactory, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from crm.proxy import client_ip

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"


def manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    """Run manage.py with only these variables (and a throwaway SQLite file) set."""
    clean_env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env(**extra: str) -> dict[str, str]:
    return {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "crm.example.com",
        **extra,
    }


# --- start-up and production settings ---------------------------------------------


def test_check_deploy_passes_under_production_settings(tmp_path):
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env=production_env(), tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_check_deploy_fails_when_debug_is_on(tmp_path):
    # The check itself must be able to fail: DEBUG=1 is what it exists to catch.
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=production_env(DEBUG="1"),
        tmp_path=tmp_path,
    )
    assert result.returncode != 0
    assert "security.W018" in result.stderr


def test_production_cookies_are_secure_and_https_is_enforced(tmp_path):
    names = [
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_PROXY_SSL_HEADER",
        "DEBUG",
    ]
    code = (
        "import json; from django.conf import settings as s; "
        f"print('SETTINGS=' + json.dumps({{k: getattr(s, k) for k in {names!r}}}))"
    )
    result = manage("shell", "-c", code, env=production_env(), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("SETTINGS="))
    values = json.loads(line.removeprefix("SETTINGS="))
    assert values == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "DEBUG": False,
    }


def test_start_up_without_secret_key_fails_with_a_clear_message(tmp_path):
    env = production_env()
    del env["SECRET_KEY"]
    result = manage("check", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG=0" in result.stderr


def test_migration_commands_run_without_a_secret_key(tmp_path):
    env = production_env()
    del env["SECRET_KEY"]
    result = manage("makemigrations", "--check", "--dry-run", env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "mysql://user@localhost/crm"),
        ("DATABASE_URL", "no-scheme-at-all"),
        ("PROXY_COUNT", "two"),
        ("PROXY_COUNT", "-1"),
        ("AXES_FAILURE_LIMIT", "5x"),
        ("CSRF_TRUSTED_ORIGINS", "crm.example.com"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(tmp_path, variable, value):
    result = manage("check", env=production_env(**{variable: value}), tmp_path=tmp_path)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: ")
    assert variable in last_line


# --- login throttling (django-axes) ------------------------------------------------


@pytest.fixture
def supervisor(db):
    return get_user_model().objects.create_user(username="boss", password=PASSWORD, is_staff=True)


def login(client, password: str, **headers):
    return client.post(
        reverse("login"), {"username": "boss", "password": password}, headers=headers
    )


def test_login_form_logs_a_supervisor_in(client, supervisor):
    response = login(client, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(supervisor.pk)


def test_failed_logins_lock_the_account_out_until_the_cool_off_passes(client, supervisor, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = login(client, "wrong")
        assert response.status_code == 200  # The form again, with its error.
    # The failure that reaches the limit is refused with 429 and locks the pair out.
    assert login(client, "wrong").status_code == 429
    # Now even the right password is refused, and no session is created.
    response = login(client, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session

    # Once the cool-off has passed, the right password works again.
    cool_off = timedelta(hours=settings.AXES_COOLOFF_TIME)
    AccessAttempt.objects.update(attempt_time=timezone.now() - cool_off - timedelta(seconds=1))
    assert login(client, PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(supervisor.pk)


def test_without_a_proxy_a_forged_forwarded_for_does_not_dodge_the_lock_out(
    client, supervisor, settings
):
    settings.PROXY_COUNT = 0
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        login(client, "wrong", X_Forwarded_For=f"203.0.113.{attempt}")
    response = login(client, PASSWORD, X_Forwarded_For="198.51.100.77")
    assert response.status_code == 429


def test_behind_a_proxy_the_lock_out_is_per_forwarded_client(client, supervisor, settings):
    settings.PROXY_COUNT = 1
    attacker = {"X_Forwarded_For": "203.0.113.5"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "wrong", **attacker)
    assert login(client, PASSWORD, **attacker).status_code == 429
    # The proxy's own address (REMOTE_ADDR) is shared by everyone; another client
    # behind the same proxy still gets in.
    assert login(client, PASSWORD, X_Forwarded_For="198.51.100.7").status_code == 302
    assert AccessAttempt.objects.get().ip_address == "203.0.113.5"


@pytest.mark.parametrize(
    ("proxy_count", "forwarded_for", "expected"),
    [
        (0, "203.0.113.5", "10.0.0.1"),
        (1, "203.0.113.5", "203.0.113.5"),
        # The client prepended a forged entry; the proxy appended the real one.
        (1, "1.2.3.4, 203.0.113.5", "203.0.113.5"),
        (2, "1.2.3.4, 203.0.113.5, 10.0.0.9", "203.0.113.5"),
        # Fewer entries than proxies: the request did not come through them all.
        (2, "203.0.113.5", "10.0.0.1"),
        (1, "", "10.0.0.1"),
        (1, "not-an-address", "10.0.0.1"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip_trusts_only_the_entries_our_proxies_appended(
    proxy_count, forwarded_for, expected
):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)
    with override_settings(PROXY_COUNT=proxy_count):
        assert client_ip(request) == expected


# --- Content-Security-Policy and CSRF -----------------------------------------------


@pytest.mark.parametrize("url_name", ["login", "admin:login"])
def test_pages_carry_a_strict_content_security_policy(client, db, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]


INLINE_CODE = [
    (
        re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>"),
        "inline <script>",
    ),
    (re.compile(r"<style\b"), "inline <style>"),
    (re.compile(r"\sstyle\s*=\s*[\"']"), "style= attribute"),
    (re.compile(r"\son[a-z]+\s*=\s*[\"']"), "on*= event handler"),
    (re.compile(r"\bhx-on(?::|-)"), "hx-on handler (evaluated as inline script)"),
    (re.compile(r"javascript:"), "javascript: URL"),
]


TEMPLATE_COMMENT = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", re.DOTALL)


def test_templates_hold_no_inline_code_the_policy_would_block():
    offences = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        # Comments are blanked out, keeping their newlines so line numbers stay right.
        text = TEMPLATE_COMMENT.sub(
            lambda m: re.sub(r"[^\n]", " ", m.group()), template.read_text()
        )
        for pattern, what in INLINE_CODE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                offences.append(f"{template.relative_to(ROOT)}:{line}: {what}")
    assert list((ROOT / "templates").rglob("*.html")), "no templates found"
    assert offences == []


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def test_only_the_token_authenticated_api_is_exempt_from_csrf():
    routes = list(_walk(get_resolver().url_patterns))
    exempt = [route for route, view in routes if getattr(view, "csrf_exempt", False)]
    assert any(route.startswith("api/") for route, _ in routes)
    assert [route for route in exempt if not route.startswith("api/")] == []


# --- health check ------------------------------------------------------------------


def test_healthz_answers_ok_without_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert "no-cache" in response.headers["Cache-Control"]


def test_healthz_answers_503_when_the_database_does_not(client, db):
    # Every cursor of the backend fails, as when the server is gone.
    wrapper_class = type(connections["default"])
    with mock.patch.object(wrapper_class, "cursor", side_effect=DatabaseError("server gone")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert b"ok" not in response.content


def test_healthz_is_exempt_from_the_https_redirect(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get(reverse("login")).status_code == 301
