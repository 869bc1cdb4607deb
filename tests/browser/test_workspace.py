"""An operator's workspace in a real Chromium, on a phone-sized screen."""

import pytest
from playwright.sync_api import expect

from distribution import services
from distribution.models import Contact, Operator

from .conftest import DESKTOP, PHONE, Browsing

pytestmark = pytest.mark.browser


@pytest.fixture
def team(transactional_db, make_operator, make_source):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    bot = make_source("Telegram bot", weights={ann: 1, bob: 1})
    services.operator_login_create(operator_id=ann.pk, username="ann", password="phone-pass-phrase")
    return ann, bob, bot


def test_an_operator_works_its_contacts_on_a_phone_and_goes_away(browser, live_server, team):
    ann, bob, bot = team
    # Bob is away while Ann's contacts come in, so that both are hers.
    services.operator_update(operator_id=bob.pk, presence="away")
    first = services.contact_register(
        lead_identifier="eve@example.com", source_id=bot.pk, message="Do you ship to Lisbon?"
    )
    second = services.contact_register(lead_identifier="zoe@example.com", source_id=bot.pk)
    services.operator_update(operator_id=bob.pk, presence="available")
    assert first.operator_id == second.operator_id == ann.pk

    browsing = Browsing(browser, live_server.url, PHONE)
    page = browsing.page
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("ann")
    page.get_by_label("Password").fill("phone-pass-phrase")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/my/")
    card = page.locator(f"#contact-{first.pk}")
    expect(card).to_contain_text("Do you ship to Lisbon?")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    browsing.mark_window()

    card.get_by_role("button", name="Mark responded").click()
    expect(card).to_contain_text("Responded")
    assert Contact.objects.get(pk=first.pk).responded_at is not None

    card.get_by_text("Close…").click()
    card.get_by_label("Outcome").select_option(label="Won")
    card.get_by_label("Note").fill("Ships next week")
    card.get_by_role("button", name="Close contact").click()
    expect(page.locator(f"#contact-{first.pk}")).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("closed: won")
    closed = Contact.objects.get(pk=first.pk)
    assert (closed.status, closed.outcome, closed.note) == ("closed", "won", "Ships next week")
    expect(page.locator("#today-closed")).to_have_text("1")

    page.get_by_role("button", name="Away").click()
    expect(page.get_by_role("status")).to_contain_text("You are away.")
    assert Operator.objects.get(pk=ann.pk).presence == "away"
    assert browsing.window_was_not_reloaded()
    # Her open contact stays with her (she did not ask to return it).
    assert Contact.objects.get(pk=second.pk).operator_id == ann.pk

    for n in range(5):
        contact = services.contact_register(lead_identifier=f"new{n}@example.com", source_id=bot.pk)
        assert contact.operator_id == bob.pk
    browsing.context.close()
    assert browsing.csp_violations == [] and browsing.errors == []


def test_going_offline_can_return_the_contacts_to_the_queue(browser, live_server, team):
    ann, bob, bot = team
    services.operator_update(operator_id=bob.pk, is_active=False)
    contacts = [
        services.contact_register(lead_identifier=f"c{n}@example.com", source_id=bot.pk)
        for n in range(2)
    ]
    services.operator_update(operator_id=bob.pk, is_active=True)
    browsing = Browsing(browser, live_server.url, DESKTOP)
    browsing.log_in_as(Operator.objects.get(pk=ann.pk).user)
    page = browsing.page
    page.goto("/my/")
    browsing.mark_window()

    page.get_by_label("return my 2 open contacts to the queue").check()
    page.get_by_role("button", name="Offline").click()

    expect(page.get_by_role("status")).to_contain_text("2 contacts went back to the queue")
    expect(page.get_by_text("No open contacts.")).to_be_visible()
    assert {Contact.objects.get(pk=c.pk).operator_id for c in contacts} == {bob.pk}
    assert browsing.window_was_not_reloaded()
    browsing.context.close()
    assert browsing.csp_violations == [] and browsing.errors == []
