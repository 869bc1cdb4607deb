"""The operators page at work in a real Chromium: presence, the queue, working hours."""

from datetime import time

import pytest
from playwright.sync_api import expect

from distribution import selectors, services
from distribution.models import Contact, ShiftHours

from .conftest import Browsing

pytestmark = pytest.mark.browser


def test_setting_an_away_operator_available_drains_the_queue_to_it(
    desktop: Browsing, make_operator, make_source, register
):
    ann, bob = make_operator("Ann", limit=2), make_operator("Bob", limit=1)
    services.operator_update(operator_id=ann.pk, presence="away")
    source = make_source("Bot", weights={ann: 1, bob: 1})
    contacts = [register(source) for _ in range(3)]
    assert sum(c.is_queued for c in contacts) == 2  # Bob took one; Ann is away.
    page = desktop.page
    page.goto("/operators/")
    desktop.mark_window()
    row = page.locator(f"#operator-{ann.pk}")
    expect(row.locator(".bar-label")).to_have_text("0 / 2")

    row.get_by_label("Presence").select_option("available")
    row.get_by_role("button", name="Set").click()

    # Nobody's limit was raised: becoming available alone gave Ann the queue.
    expect(row.locator(".bar-label")).to_have_text("2 / 2")
    expect(row.get_by_label("Presence")).to_have_value("available")
    assert selectors.queue_length() == 0
    assert Contact.objects.filter(operator=ann).count() == 2
    assert desktop.window_was_not_reloaded()


def test_editing_working_hours_on_a_phone(phone: Browsing, make_operator):
    ann = make_operator("Ann")
    page = phone.page
    page.goto("/operators/")
    page.locator(f"#operator-{ann.pk}").get_by_role("link", name="Working hours").click()
    expect(page.get_by_role("heading", name="Working hours of Ann")).to_be_visible()

    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.locator("#id_hours-0-weekday").select_option(label="Monday")
    page.locator("#id_hours-0-start").fill("12:00")
    page.locator("#id_hours-0-end").fill("09:00")
    page.get_by_role("button", name="Save working hours").click()
    expect(page.locator("#id_hours-0-end_error")).to_contain_text("ends before it starts")
    assert not ShiftHours.objects.exists()

    page.locator("#id_hours-0-end").fill("17:30")
    page.get_by_role("button", name="Save working hours").click()
    expect(page.get_by_role("heading", name="Operators")).to_be_visible()
    expect(page.get_by_text("Working hours of Ann saved.")).to_be_visible()
    assert list(ShiftHours.objects.values_list("weekday", "start", "end")) == [
        (0, time(12), time(17, 30))
    ]
    # Nothing on the page is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.fixture(params=["desktop", "phone"])
def browsing(request) -> Browsing:
    return request.getfixturevalue(request.param)


def test_raising_a_limit_says_in_the_row_which_queued_contacts_it_received(
    browsing: Browsing, make_operator, make_source, register
):
    chen = make_operator("Chen", limit=1)
    source = make_source("Bot", weights={chen: 1})
    for _ in range(4):
        register(source)
    assert selectors.queue_length() == 3
    page = browsing.page
    page.goto("/operators/")
    browsing.mark_window()
    row = page.locator(f"#operator-{chen.pk}")

    row.get_by_label("Limit").fill("3")
    row.get_by_role("button", name="Save").click()

    status = row.get_by_role("status")
    expect(status).to_have_text("Limit 1 -> 3: 2 queued contacts assigned to Chen.")
    expect(status).to_be_in_viewport()
    expect(row.locator(".bar-label")).to_have_text("3 / 3")
    assert selectors.queue_length() == 1
    assert browsing.window_was_not_reloaded()


def test_deactivating_with_requeue_says_where_the_contacts_went_and_updates_their_rows(
    desktop: Browsing, make_operator, make_source, register
):
    ann, bruno = make_operator("Ann"), make_operator("Bruno", limit=3)
    source = make_source("Bot", weights={ann: 1})
    for _ in range(4):
        register(source)
    services.source_set_weight(source_id=source.pk, operator_id=bruno.pk, weight=1)
    page = desktop.page
    page.goto("/operators/")
    desktop.mark_window()
    row = page.locator(f"#operator-{ann.pk}")

    status_cell = row.locator('td[data-label="Status"]')
    status_cell.get_by_label("Return its 4 open contacts to the queue").check()
    status_cell.get_by_role("button", name="Deactivate").click()

    expect(row.get_by_role("status")).to_have_text(
        "Inactive: 4 open contacts returned to the queue; 3 went to Bruno, 1 waits."
    )
    expect(page.locator(f"#operator-{bruno.pk} .bar-label")).to_have_text("3 / 3")
    assert desktop.window_was_not_reloaded()
