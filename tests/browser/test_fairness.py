"""The fairness report in a real Chromium: the period form, the table, both screen sizes."""

import os

import pytest
from playwright.sync_api import expect

from tests.fairness_support import assign, candidate

from .conftest import Browsing

pytestmark = pytest.mark.browser


@pytest.fixture
def source(transactional_db, make_operator, make_source):
    ann, bob = make_operator("Operator with a long name Ann"), make_operator("Bob")
    source = make_source("Telegram bot", weights={ann: 1, bob: 3})
    both = [candidate(ann, 1), candidate(bob, 3)]
    assign(source, ann, both, times=20)
    assign(source, bob, both, times=20)
    return source


def _show(page, since: str, until: str) -> None:
    page.get_by_label("From").fill(since)
    page.get_by_label("To", exact=True).fill(until)
    page.get_by_role("button", name="Show").click()


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_the_report_for_a_period_fits_the_screen(request, screen, source):
    browsing: Browsing = request.getfixturevalue(screen)
    page = browsing.page
    page.goto(f"/sources/{source.pk}/")
    page.get_by_role("link", name="Fairness report").click()
    _show(page, "2024-05-06", "2024-05-06")

    expect(page.locator("#fairness-verdict")).to_contain_text("Unlikely under the weights")
    expect(page.locator("#fairness-table")).to_contain_text("Operator with a long name Ann")
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if os.environ.get("FAIRNESS_SCREENSHOTS"):
        page.screenshot(path=f"/tmp/fairness-{screen}.png", full_page=True)


def test_a_period_that_ends_before_it_starts_shows_the_error_at_the_end_date(
    desktop: Browsing, source
):
    page = desktop.page
    page.goto(f"/sources/{source.pk}/fairness/")
    _show(page, "2024-05-07", "2024-05-06")

    expect(page.locator("#id_until_error")).to_contain_text("ends before it starts")
    expect(page.locator("#fairness-table")).to_have_count(0)
