"""
Playwright driving Debian's Chromium (headless) against pytest-django's live server.

Playwright cannot download browsers here: we launch the system Chromium from
CHROMIUM_PATH (default /usr/bin/chromium). Without it these tests are skipped with the
reason; CI installs it and turns every skip into a failure.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests
# make there are ordinary blocking calls, which Django would otherwise refuse.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from .chromium import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE  # noqa: E402


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: `apt-get install chromium` or set CHROMIUM_PATH"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
        # Between its calls Playwright marks an event loop as running in this thread, and
        # then asgiref keeps Django's connections per context instead of per thread: the
        # connections this thread opened while the browser was up are not the ones the
        # test database's teardown closes (those it opened before). Left open, one of
        # them made DROP DATABASE fail ("being accessed by other users") and left the
        # worker's test database behind. Close them while that storage is still in use.
        connections.close_all()


class Browsing:
    """One browser context against the live server, recording CSP violations and JS errors."""

    def __init__(self, browser, base_url: str, viewport: dict) -> None:
        self.base_url = base_url
        self.context = browser.new_context(viewport=viewport, base_url=base_url)
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.csp_violations: list[str] = []
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.csp_violations.append(message.text)

    def log_in_as(self, user) -> None:
        """Give the browser a session of `user` (the login form is tested on its own)."""
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        self.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": self.base_url}]
        )

    def mark_window(self) -> None:
        """Leave a marker on `window`: it survives htmx swaps and dies with a page load."""
        self.page.evaluate("window.__noReload = 'still here'")

    def window_was_not_reloaded(self) -> bool:
        return self.page.evaluate("window.__noReload") == "still here"


@pytest.fixture
def supervisor(transactional_db):
    return get_user_model().objects.create_user("boss", password="browser-test-pass", is_staff=True)


def _browsing(browser, live_server, supervisor, viewport):
    browsing = Browsing(browser, live_server.url, viewport)
    browsing.log_in_as(supervisor)
    yield browsing
    browsing.context.close()
    # Every test also checks that nothing on its pages broke the Content-Security-Policy.
    assert browsing.csp_violations == []
    assert browsing.errors == []


@pytest.fixture
def desktop(browser, live_server, supervisor):
    yield from _browsing(browser, live_server, supervisor, DESKTOP)


@pytest.fixture
def phone(browser, live_server, supervisor):
    yield from _browsing(browser, live_server, supervisor, PHONE)
