"""The contacts list at work in a real Chromium, on a desktop and on a phone: closing a
row never closes the wrong contact, reopening, and bulk actions on selected rows."""

import re

import pytest
from playwright.sync_api import expect

from distribution.models import Contact

from .conftest import Browsing

pytestmark = pytest.mark.browser

VIEWPORTS = ["desktop", "phone"]


@pytest.fixture(params=VIEWPORTS)
def browsing(request) -> Browsing:
    return request.getfixturevalue(request.param)


@pytest.fixture
def three_at_ann(make_operator, make_source, register):
    ann = make_operator("Ann", limit=10)
    source = make_source("Bot", weights={ann: 1})
    contacts = [register(source, f"lead{i}@example.com") for i in range(3)]
    return list(reversed(contacts))  # As the list shows them: newest first.


def test_closing_a_row_keeps_it_in_place_and_a_second_click_closes_nothing_else(
    browsing: Browsing, three_at_ann
):
    first, second, _ = three_at_ann
    page = browsing.page
    page.goto("/contacts/")
    browsing.mark_window()
    row = page.locator(f"#contact-{first.pk}")
    close = row.get_by_role("button", name="Close", exact=True)
    close.scroll_into_view_if_needed()
    box = close.bounding_box()
    row_top = row.bounding_box()["y"]
    # Hold the request in flight, to see the button while it runs.
    held = []

    def hold(route) -> None:
        held.append(route)

    page.route(re.compile(r"/contacts/\d+/close/"), hold)

    close.click()

    expect(close).to_be_disabled()
    while not held:
        page.wait_for_timeout(20)
    held[0].continue_()
    page.unroute(re.compile(r"/contacts/\d+/close/"))
    expect(row).to_have_class("is-closed")
    expect(row.get_by_role("status")).to_have_text(f"Closed #{first.pk}.")
    expect(row).to_contain_text("Closed")
    assert row.bounding_box()["y"] == row_top  # It stayed where it was.

    # A second click at the same spot, as an impatient hand does.
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(300)
    assert Contact.objects.get(pk=second.pk).is_open
    assert Contact.objects.get(pk=first.pk).status == Contact.Status.CLOSED

    row.get_by_role("button", name="Reopen").click()
    expect(row.get_by_role("status")).to_have_text(f"Reopened #{first.pk}: assigned to Ann.")
    expect(row.get_by_role("button", name="Close", exact=True)).to_be_visible()
    assert Contact.objects.get(pk=first.pk).is_open
    assert browsing.window_was_not_reloaded()


def test_bulk_close_of_two_selected_rows_reports_what_happened(browsing: Browsing, three_at_ann):
    first, second, third = three_at_ann
    page = browsing.page
    page.goto("/contacts/")
    browsing.mark_window()
    page.locator(f"#contact-{first.pk}").get_by_role("checkbox").check()
    page.locator(f"#contact-{third.pk}").get_by_role("checkbox").check()
    bar = page.locator("#bulk-form")
    bar.get_by_label("Outcome").select_option("won")

    bar.get_by_role("button", name="Close", exact=True).click()

    expect(page.locator("#bulk-report")).to_have_text("2 closed.")
    for contact in (first, third):
        expect(page.locator(f"#contact-{contact.pk}")).to_contain_text("Closed: won")
    expect(page.locator(f"#contact-{second.pk}")).to_contain_text("Open")
    assert Contact.objects.filter(status="closed", outcome="won").count() == 2
    assert browsing.window_was_not_reloaded()


def test_select_all_ticks_every_row_of_the_page(browsing: Browsing, three_at_ann):
    page = browsing.page
    page.goto("/contacts/")
    page.get_by_label("All on this page").check()
    for contact in three_at_ann:
        expect(page.locator(f"#contact-{contact.pk}").get_by_role("checkbox")).to_be_checked()
