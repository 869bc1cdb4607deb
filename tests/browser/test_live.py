"""The live console in a real Chromium, at both sizes: the dashboard refreshes its numbers by
itself while the tab is visible and stops while it is hidden; the source page tells the share
each operator would get now and warns when nobody can take a new contact."""

import re

import pytest
from playwright.sync_api import expect

from distribution import services

from .conftest import Browsing

pytestmark = pytest.mark.browser

LIVE = "/dashboard/live/"


@pytest.fixture(params=["desktop", "phone"])
def browsing(request) -> Browsing:
    return request.getfixturevalue(request.param)


def poll_every(page, ms: int) -> None:
    """Shorten the page's refresh interval (its data-live-every) and restart the timer."""
    page.evaluate(
        """ms => {
            document.querySelector("[data-live]").dataset.liveEvery = String(ms);
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        ms,
    )


def set_visibility(page, state: str) -> None:
    """What a browser does when the tab is hidden or shown again."""
    page.evaluate(
        """state => {
            Object.defineProperty(
                document, "visibilityState", {configurable: true, get: () => state}
            );
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        state,
    )


def test_the_dashboard_updates_by_itself(browsing: Browsing, make_operator, make_source):
    ann = make_operator("Ann", limit=1)
    source = make_source("Bot", weights={ann: 1})
    page = browsing.page
    page.goto("/")
    browsing.mark_window()
    queue = page.locator("#queue-tile .tile-value")
    expect(queue).to_have_text("0")
    expect(page.locator("[data-live-age]")).to_have_text(re.compile(r"^Updated \d+ s ago$"))
    poll_every(page, 300)

    # Registered elsewhere (the API, another tab): Ann takes the first, the second waits.
    services.contact_register(lead_identifier="a@example.com", source_id=source.pk)
    services.contact_register(lead_identifier="b@example.com", source_id=source.pk)

    expect(queue).to_have_text("1")
    expect(page.locator(f"#queue-why-{source.pk}")).to_contain_text(
        "Everyone with a weight is full: Ann 1 / 1"
    )
    expect(page.locator(".load-list .bar-label")).to_have_text("1 / 1")
    expect(page.locator("[data-live-age]")).to_have_text(re.compile(r"^Updated \d+ s ago$"))
    assert browsing.window_was_not_reloaded()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_the_dashboard_stops_polling_while_hidden(browsing: Browsing, make_source):
    make_source("Bot")
    page = browsing.page
    polls: list[str] = []
    page.on("request", lambda request: polls.append(request.url) if LIVE in request.url else None)
    page.goto("/")
    with page.expect_request(f"**{LIVE}"):
        poll_every(page, 200)

    set_visibility(page, "hidden")
    # A poll sent before the tab was hidden may still be reported: let it land first.
    page.wait_for_timeout(400)
    polled_before = len(polls)
    # Five poll intervals with the tab hidden: not one request.
    page.wait_for_timeout(1000)
    assert len(polls) == polled_before

    # Shown again, it refreshes at once and goes on polling.
    with page.expect_request(f"**{LIVE}"):
        set_visibility(page, "visible")
    with page.expect_request(f"**{LIVE}"):
        pass


def test_the_source_page_shows_shares_now_and_warns_when_nobody_can_take(
    browsing: Browsing, make_operator, make_source
):
    ann = make_operator("Ann with a rather long name for a phone", limit=3)
    bob = make_operator("Bob", limit=3)
    services.operator_update(operator_id=bob.pk, presence="away")
    source = make_source("Telegram bot", weights={ann: 1, bob: 3})
    page = browsing.page
    page.goto(f"/sources/{source.pk}/")
    browsing.mark_window()
    ann_row, bob_row = page.locator(f"#weight-{ann.pk}"), page.locator(f"#weight-{bob.pk}")
    expect(ann_row.locator(".share-now")).to_have_text("100% now")
    expect(bob_row.locator(".share-now")).to_have_text(re.compile(r"^\s*0% now:\s*away\s*$"))
    expect(ann_row.locator(".bar-label")).to_have_text("0 / 3")
    expect(page.locator("#nobody-can-take")).to_have_count(0)

    # Ann's weight removed in place: only Bob, away, is left.
    ann_row.get_by_role("button", name="Remove").click()
    expect(page.locator("#nobody-can-take")).to_contain_text(
        "Nobody can take a new contact of this source now"
    )
    expect(page.locator("#nobody-can-take")).to_contain_text("New contacts will wait in the queue")
    assert browsing.window_was_not_reloaded()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    box = bob_row.locator(".share-now").bounding_box()
    assert box is not None and box["x"] >= 0
    assert box["x"] + box["width"] <= page.viewport_size["width"]
