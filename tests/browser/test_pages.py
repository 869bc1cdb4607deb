"""The supervisors' pages in a real Chromium: in-place edits, forms, both screen sizes."""

import pytest
from playwright.sync_api import expect

from distribution import decision_log, services
from distribution.models import Contact, Operator, Source, SourceOperatorConfig
from tests.log_support import BOSS, log_story

from .conftest import DESKTOP, Browsing

pytestmark = pytest.mark.browser


def test_supervisor_logs_in_through_the_form(browser, live_server, supervisor):
    browsing = Browsing(browser, live_server.url, DESKTOP)
    page = browsing.page
    page.goto("/operators/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/operators/")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill("browser-test-pass")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/operators/")
    expect(page.get_by_role("heading", name="Operators")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    assert browsing.csp_violations == []
    browsing.context.close()


def test_deactivate_and_reactivate_an_operator_in_place(desktop: Browsing, make_operator):
    ann = make_operator("Ann")
    page = desktop.page
    page.goto("/operators/")
    desktop.mark_window()
    row = page.locator(f"#operator-{ann.pk}")

    row.get_by_role("button", name="Deactivate").click()
    expect(row.get_by_role("button", name="Activate")).to_be_visible()
    expect(row).to_have_class("is-inactive")
    assert not Operator.objects.get(pk=ann.pk).is_active

    row.get_by_role("button", name="Activate").click()
    expect(row.get_by_role("button", name="Deactivate")).to_be_visible()
    expect(row.locator("td[data-label=Status] .badge")).to_have_text("Active")
    assert Operator.objects.get(pk=ann.pk).is_active
    assert desktop.window_was_not_reloaded()


def test_an_invalid_limit_shows_the_error_next_to_the_field(desktop: Browsing, make_operator):
    ann = make_operator("Ann", limit=3)
    page = desktop.page
    page.goto("/operators/")
    desktop.mark_window()
    row = page.locator(f"#operator-{ann.pk}")

    row.get_by_label("Limit").fill("-4")
    row.get_by_role("button", name="Save").click()
    expect(row.get_by_role("alert")).to_contain_text("greater than or equal to 0")
    assert Operator.objects.get(pk=ann.pk).workload_limit == 3

    row.get_by_label("Limit").fill("7")
    row.get_by_role("button", name="Save").click()
    expect(row.get_by_role("alert")).to_have_count(0)
    expect(row.locator(".bar-label")).to_have_text("0 / 7")
    assert Operator.objects.get(pk=ann.pk).workload_limit == 7
    assert desktop.window_was_not_reloaded()


def test_renaming_an_operator_in_place(desktop: Browsing, make_operator):
    make_operator("Ann")
    bob = make_operator("Bob")
    page = desktop.page
    page.goto("/operators/")
    desktop.mark_window()
    row = page.locator(f"#operator-{bob.pk}")

    row.get_by_text("Rename", exact=True).click()
    row.get_by_label("Name", exact=True).fill("aNN")
    row.get_by_role("button", name="Save name").click()
    expect(row.get_by_role("alert")).to_contain_text("already exists")
    assert Operator.objects.get(pk=bob.pk).name == "Bob"

    row.get_by_label("Name", exact=True).fill("Robert")
    row.get_by_role("button", name="Save name").click()
    expect(row.locator(".op-label")).to_have_text("Robert")
    expect(row.get_by_role("alert")).to_have_count(0)
    assert Operator.objects.get(pk=bob.pk).name == "Robert"
    assert desktop.window_was_not_reloaded()


def test_setting_weights_updates_every_operators_share(
    desktop: Browsing, make_operator, make_source
):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source("Bot", weights={ann: 1})
    page = desktop.page
    page.goto(f"/sources/{source.pk}/")
    desktop.mark_window()
    ann_share = page.locator(f"#weight-{ann.pk} .expected-pct")
    expect(ann_share).to_contain_text("100%")

    page.get_by_label("Operator").select_option(label="Bob")
    page.locator("#weights form.add-weight").get_by_label("Weight", exact=True).fill("3")
    page.get_by_role("button", name="Add").click()
    bob_share = page.locator(f"#weight-{bob.pk} .expected-pct")
    expect(bob_share).to_contain_text("75%")
    expect(ann_share).to_contain_text("25%")

    page.locator(f"#weight-{ann.pk}").get_by_label("Weight", exact=True).fill("3")
    page.locator(f"#weight-{ann.pk}").get_by_role("button", name="Save").click()
    expect(ann_share).to_contain_text("50%")
    expect(bob_share).to_contain_text("50%")

    page.locator(f"#weight-{bob.pk}").get_by_role("button", name="Remove").click()
    expect(page.locator(f"#weight-{bob.pk}")).to_have_count(0)
    expect(ann_share).to_contain_text("100%")
    weights = SourceOperatorConfig.objects.filter(source=source)
    assert dict(weights.values_list("operator_id", "weight")) == {ann.pk: 3}
    assert desktop.window_was_not_reloaded()


def test_registering_a_contact_through_the_form_says_who_got_it(
    desktop: Browsing, make_operator, make_source
):
    make_operator("Ann")
    bob = make_operator("Bob")
    make_source("Bot", weights={bob: 1})
    page = desktop.page
    page.goto("/contacts/new/")
    page.get_by_label("Lead identifier").fill("eve@example.com")
    page.get_by_label("Lead name").fill("Eve")
    page.get_by_label("Source").select_option(label="Bot")
    page.get_by_label("Message").fill("Do you ship to Lisbon?")
    page.get_by_role("button", name="Register contact").click()
    expect(page.locator("#result")).to_contain_text("was assigned to Bob")
    contact = Contact.objects.get()
    assert contact.operator_id == bob.pk and contact.lead.name == "Eve"

    # A blank identifier is refused next to its field, and nothing is registered.
    page.get_by_label("Source").select_option(label="Bot")
    page.get_by_role("button", name="Register contact").click()
    expect(page.locator("#id_lead_identifier_error")).to_contain_text("required")
    assert Contact.objects.count() == 1


def test_closing_a_contact_assigns_the_queued_one(
    desktop: Browsing, make_operator, make_source, register
):
    ann = make_operator("Ann", limit=1)
    source = make_source("Bot", weights={ann: 1})
    first = register(source, "first@example.com")
    queued = register(source, "second@example.com")
    assert queued.operator_id is None
    page = desktop.page
    page.goto("/contacts/")
    desktop.mark_window()
    queued_row = page.locator(f"#contact-{queued.pk}")
    expect(queued_row.locator(".operator-cell")).to_have_text("Queued")

    page.locator(f"#contact-{first.pk}").get_by_role("button", name="Close").click()
    expect(queued_row.locator(".operator-cell")).to_have_text("Ann")
    expect(page.locator(f"#contact-{first.pk}")).to_contain_text("Closed")
    # Said in the closed row, where the pointer is: the queue took the freed slot.
    expect(page.locator(f"#contact-{first.pk}").get_by_role("status")).to_have_text(
        f"Closed #{first.pk}; its slot went to #{queued.pk}."
    )
    assert Contact.objects.get(pk=queued.pk).operator_id == ann.pk
    assert desktop.window_was_not_reloaded()


def test_filters_swap_the_list_and_keep_the_url(
    desktop: Browsing, make_operator, make_source, register
):
    ann = make_operator("Ann")
    bot = make_source("Bot", weights={ann: 1})
    ads = make_source("Ads", weights={ann: 1})
    in_bot, in_ads = register(bot), register(ads)
    page = desktop.page
    page.goto("/contacts/")
    desktop.mark_window()
    page.get_by_label("Source").select_option(label="Ads")
    expect(page.locator(f"#contact-{in_bot.pk}")).to_have_count(0)
    expect(page.locator(f"#contact-{in_ads.pk}")).to_be_visible()
    expect(page).to_have_url(
        f"{desktop.base_url}/contacts/?lead=&view=&source={ads.pk}&operator=&status="
    )
    assert desktop.window_was_not_reloaded()


def test_the_dashboard_fits_a_phone(phone: Browsing, make_operator, make_source, register):
    operators = [make_operator(f"Operator with a long name {i}", limit=2) for i in range(4)]
    for i in range(3):
        source = make_source(f"Source {i}", weights={op: i + 1 for op in operators})
        for _ in range(3):
            register(source, f"a-rather-long-identifier-{i}@example.com")
    services.operator_update(operator_id=operators[0].pk, is_active=False)
    page = phone.page
    page.goto("/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator("#queue-tile")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for path in ("/operators/", "/sources/", "/contacts/", "/contacts/new/", "/leads/"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path


def test_a_sources_weights_and_shares_fit_a_phone(phone: Browsing, make_operator, make_source):
    operators = [make_operator(f"Operator with a long name {i}") for i in range(3)]
    source = make_source("Telegram bot", weights={op: i + 1 for i, op in enumerate(operators)})
    page = phone.page
    page.goto(f"/sources/{source.pk}/")
    expect(page.get_by_role("heading", name="Operators and weights")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Every operator's share is on the screen, not scrolled away to the right of the table.
    shares = page.locator(".share-cell")
    assert shares.count() == 3
    for i in range(3):
        box = shares.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390


@pytest.fixture
def unbroken_paths(make_operator, make_source, register) -> list[str]:
    """Pages showing what a bot may send: the longest names and identifier, without spaces."""
    operator = make_operator("O" * 200, limit=5)
    source = make_source("S" * 200, weights={operator: 1})
    contact = register(source, "L" * 255, message="M" * 3000, lead_name="N" * 200)
    other = make_operator("P" * 200)
    log_story(contact, operator, other)
    services.contact_close(contact_id=contact.pk, note="T" * 2000)
    decision_log.record(
        [
            decision_log.setting_change(
                "weight", 1, 2, actor=BOSS, operator_id=operator.pk, source_id=source.pk
            )
        ]
    )
    return [
        "/",
        "/operators/",
        f"/operators/{operator.pk}/",
        f"/contacts/{contact.pk}/",
        "/sources/",
        f"/sources/{source.pk}/",
        "/contacts/",
        f"/contacts/new/?registered={contact.pk}",
        "/leads/",
        f"/leads/{contact.lead_id}/",
    ]


def assert_no_page_is_wider_than_the_window(browsing: Browsing, paths: list[str]) -> None:
    width = browsing.page.viewport_size["width"]
    for path in paths:
        browsing.page.goto(path)
        assert browsing.page.evaluate("document.documentElement.scrollWidth") <= width, path


def test_long_unbroken_words_do_not_widen_a_page_on_a_phone(phone: Browsing, unbroken_paths):
    assert_no_page_is_wider_than_the_window(phone, unbroken_paths)


def test_long_unbroken_words_do_not_widen_a_page_on_a_desktop(desktop: Browsing, unbroken_paths):
    assert_no_page_is_wider_than_the_window(desktop, unbroken_paths)


def test_the_sources_list_shows_the_queue_on_a_phone(phone: Browsing, make_source, register):
    source = make_source("Telegram bot")
    register(source)
    page = phone.page
    page.goto("/sources/")
    queued = page.locator("td[data-label='Queued'] .badge")
    expect(queued).to_have_text("1")
    box = queued.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390


def test_routing_settings_are_saved_in_place_with_errors_next_to_the_field(
    desktop: Browsing, make_source
):
    source = make_source("Telegram bot")
    page = desktop.page
    page.goto(f"/sources/{source.pk}/")
    desktop.mark_window()
    card = page.locator("#source-settings")

    card.get_by_label("Sticky owner (days)").fill("400")
    card.get_by_role("button", name="Save settings").click()
    expect(card.locator("#id_sticky_days_error")).to_contain_text("less than or equal to 365")
    assert Source.objects.get(pk=source.pk).sticky_days is None

    card.get_by_label("Routing mode").select_option("balanced")
    card.get_by_label("Sticky owner (days)").fill("30")
    card.get_by_role("button", name="Save settings").click()
    expect(card.locator(".changes-table")).to_contain_text("off → 30")
    expect(card.locator(".changes-table")).to_contain_text("Balanced by weight")
    source.refresh_from_db()
    assert (source.mode, source.sticky_days) == ("balanced", 30)
    assert desktop.window_was_not_reloaded()


def test_a_contacts_decision_log_opens_its_candidates_on_a_phone(
    phone: Browsing, make_operator, make_source, register
):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    contact = register(make_source(weights={ann: 1}))
    log_story(contact, ann, bob)
    page = phone.page
    page.goto("/contacts/")
    page.get_by_role("link", name=f"#{contact.pk}", exact=True).click()
    expect(page.get_by_role("heading", name=f"Contact #{contact.pk}")).to_be_visible()

    page.get_by_text("2 operators considered").click()
    expect(page.get_by_role("cell", name="full")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
