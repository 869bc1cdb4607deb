"""Accessibility in a real Chromium: axe-core on every page at both screen sizes, the skip
link, where focus goes after an in-place update, aria-describedby ids, and touch targets.

axe-core is vendored in tests/browser/vendor/ (see its README.md for the version).
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from distribution import services

from .conftest import DESKTOP, PHONE, Browsing

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
# The smallest touch target WCAG 2.5.5 asks for, in CSS pixels.
TOUCH = 44
OPERATOR_PASSWORD = "a11y-pass-phrase"

# What axe reports as serious or critical, one line per element: rule, impact, element, help.
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  const lines = [];
  for (const v of result.violations) {
    if (v.impact !== 'serious' && v.impact !== 'critical') continue;
    for (const node of v.nodes) {
      lines.push(`${v.id} (${v.impact}) ${node.target.join(' ')}: ${v.help}`);
    }
  }
  return lines;
}"""

# Every aria-describedby (and aria-labelledby, aria-controls) id that names nothing on the page.
MISSING_IDS = """() => {
  const missing = [];
  const attrs = ['aria-describedby', 'aria-labelledby', 'aria-controls', 'aria-errormessage'];
  for (const attr of attrs) {
    for (const el of document.querySelectorAll(`[${attr}]`)) {
      for (const id of el.getAttribute(attr).split(/\\s+/).filter(Boolean)) {
        if (document.getElementById(id)) continue;
        missing.push(`${el.tagName.toLowerCase()}#${el.id} ${attr}=${id}`);
      }
    }
  }
  return missing;
}"""

# Every visible control a finger aims at, in the navigation and the page, smaller than TOUCH
# in either direction. Links inside a sentence (a <p>) are exempt, as WCAG exempts them; a
# checkbox is measured with its label, which toggles it too.
SMALL_TARGETS = """(touch) => {
  const selector = [
    'header a', 'header button', 'main button', 'main .btn', 'main summary', 'main select',
    'main textarea', 'main input:not([type=hidden])', 'main table a', 'main .pager a',
    'main .crumbs a', 'main nav a',
  ].join(', ');
  const small = [];
  for (const el of document.querySelectorAll(selector)) {
    if (el.closest('p:not(.crumbs)')) continue;
    const style = getComputedStyle(el);
    if (!el.getClientRects().length || style.visibility === 'hidden') continue;
    let box = el.getBoundingClientRect();
    if (el.type === 'checkbox' || el.type === 'radio') {
      const label = el.labels && el.labels[0];
      if (label) {
        const l = label.getBoundingClientRect();
        const left = Math.min(box.left, l.left), right = Math.max(box.right, l.right);
        const top = Math.min(box.top, l.top), bottom = Math.max(box.bottom, l.bottom);
        box = {width: right - left, height: bottom - top};
      }
    }
    if (box.width < touch - 0.5 || box.height < touch - 0.5) {
      const name = (el.innerText || el.value || el.name || el.id || '').trim().slice(0, 30);
      const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
      small.push(`${el.tagName.toLowerCase()} "${name}" ${size}`);
    }
  }
  return small;
}"""


@pytest.fixture
def world(transactional_db, make_operator, make_source, register):
    """A small team: Ann full and with a login, Bob with room, a queue, a lead with history."""
    ann, bob = make_operator("Ann", limit=1), make_operator("Bob", limit=2)
    bot = make_source("Telegram bot", weights={ann: 1})
    make_source("Website")
    services.operator_login_create(operator_id=ann.pk, username="ann", password=OPERATOR_PASSWORD)
    first = register(bot, "eve@example.com", message="Do you ship to Lisbon?")
    register(bot, "zoe@example.com")
    return {"ann": ann, "bob": bob, "bot": bot, "lead": first.lead}


def supervisor_pages(world) -> list[str]:
    return [
        "/",
        "/operators/",
        f"/operators/{world['ann'].pk}/schedule/",
        "/sources/",
        f"/sources/{world['bot'].pk}/",
        f"/sources/{world['bot'].pk}/fairness/",
        "/contacts/",
        "/contacts/new/",
        "/leads/",
        f"/leads/{world['lead'].pk}/",
        "/accounts/password_change/",
        "/accounts/password_change/done/",
        "/accounts/logout/",
        "/my/",  # The operators' workspace: a 403 page for a supervisor.
        "/no-such-page/",
    ]


OPERATOR_PAGES = ["/my/", "/operators/", "/no-such-page/", "/accounts/password_change/"]


def log_in_through_the_form(browsing: Browsing, username: str, password: str) -> None:
    page = browsing.page
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def check_pages(browsing: Browsing, paths: list[str], check: str, *args) -> dict[str, list[str]]:
    """Run the check (a script above) on each page; return what it found, by page."""
    found = {}
    for path in paths:
        browsing.page.goto(path)
        if check == AXE_RUN:
            browsing.page.evaluate(AXE)
        lines = browsing.page.evaluate(check, *args)
        if lines:
            found[path] = lines
    return found


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def viewport(request):
    return request.param


def test_no_page_has_a_serious_or_critical_axe_finding(browser, live_server, world, viewport):
    anonymous = Browsing(browser, live_server.url, viewport)
    found = check_pages(anonymous, ["/accounts/login/"], AXE_RUN)
    log_in_through_the_form(anonymous, "ann", OPERATOR_PASSWORD)
    found |= {
        f"ann {path}": lines
        for path, lines in check_pages(anonymous, OPERATOR_PAGES, AXE_RUN).items()
    }
    anonymous.context.close()

    boss = _supervisor_browsing(browser, live_server, viewport)
    found |= check_pages(boss, supervisor_pages(world), AXE_RUN)
    # And a form showing its errors.
    boss.page.goto("/contacts/new/")
    boss.page.get_by_role("button", name="Register contact").click()
    expect(boss.page.locator("[aria-invalid=true]").first).to_be_visible()
    boss.page.evaluate(AXE)
    if lines := boss.page.evaluate(AXE_RUN):
        found["/contacts/new/ with errors"] = lines
    boss.context.close()

    assert found == {}, "\n".join(
        f"{page}: {line}" for page, lines in found.items() for line in lines
    )
    assert anonymous.csp_violations == boss.csp_violations == []


def _supervisor_browsing(browser, live_server, viewport) -> Browsing:
    from django.contrib.auth import get_user_model

    boss = get_user_model().objects.create_user("boss", password="unused-pass-1", is_staff=True)
    browsing = Browsing(browser, live_server.url, viewport)
    browsing.log_in_as(boss)
    return browsing


def test_every_aria_describedby_id_exists_on_every_page(desktop: Browsing, world):
    found = check_pages(desktop, supervisor_pages(world), MISSING_IDS)
    page = desktop.page

    # And where forms show errors: a full page, and rows and headings swapped in place.
    page.goto("/contacts/new/")
    page.get_by_role("button", name="Register contact").click()
    expect(page.locator("[aria-invalid=true]").first).to_be_visible()
    found |= {"new contact, errors": page.evaluate(MISSING_IDS)}
    page.goto(f"/sources/{world['bot'].pk}/")
    page.get_by_text("Rename", exact=True).click()
    page.get_by_label("Name", exact=True).fill("")
    page.get_by_role("button", name="Save name").click()
    expect(page.locator("#source-heading [aria-invalid=true]")).to_be_visible()
    found |= {"source rename, error": page.evaluate(MISSING_IDS)}
    page.get_by_label("Name", exact=True).fill("Bot")
    page.get_by_role("button", name="Save name").click()
    expect(page.locator("#source-heading h1")).to_have_text("Bot")
    found |= {"source rename, fixed": page.evaluate(MISSING_IDS)}
    page.goto("/leads/?search=" + "x" * 300)
    found |= {"leads, search error": page.evaluate(MISSING_IDS)}
    search = page.get_by_label("Search leads")
    expect(search).to_have_attribute("aria-invalid", "true")
    search.fill("eve")
    expect(page.locator("#search-errors")).to_be_empty()
    expect(search).not_to_have_attribute("aria-invalid", "true")
    found |= {"leads, search fixed": page.evaluate(MISSING_IDS)}

    found = {where: lines for where, lines in found.items() if lines}
    assert found == {}


def test_touch_targets_are_44_px_on_a_phone(browser, live_server, world):
    operator = Browsing(browser, live_server.url, PHONE)
    found = check_pages(operator, ["/accounts/login/"], SMALL_TARGETS, TOUCH)
    log_in_through_the_form(operator, "ann", OPERATOR_PASSWORD)
    found |= {
        f"ann {p}": lines
        for p, lines in check_pages(operator, ["/my/"], SMALL_TARGETS, TOUCH).items()
    }
    operator.context.close()

    boss = _supervisor_browsing(browser, live_server, PHONE)
    found |= check_pages(boss, supervisor_pages(world), SMALL_TARGETS, TOUCH)
    boss.context.close()

    assert found == {}, "\n".join(
        f"{page}: {line}" for page, lines in found.items() for line in lines
    )


def test_the_skip_link_comes_first_and_moves_focus_to_main(desktop: Browsing, world):
    page = desktop.page
    page.goto("/operators/")
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    expect(skip).to_have_text("Skip to content")
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    # The next Tab goes on from the page's content, past the navigation.
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")


def test_an_in_place_form_error_takes_the_focus(desktop: Browsing, world):
    page = desktop.page
    page.goto(f"/sources/{world['bot'].pk}/")
    desktop.mark_window()
    page.get_by_text("Rename", exact=True).click()
    page.get_by_label("Name", exact=True).fill("   ")
    page.get_by_role("button", name="Save name").click()

    expect(page.get_by_label("Name", exact=True)).to_be_focused()
    expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
    assert desktop.window_was_not_reloaded()


def test_an_in_place_update_puts_the_focus_on_the_changed_row(desktop: Browsing, world):
    bob = world["bob"]
    page = desktop.page
    page.goto("/operators/")
    desktop.mark_window()
    row = page.locator(f"#operator-{bob.pk}")
    row.get_by_role("button", name="Deactivate").click()

    expect(row.get_by_role("button", name="Activate")).to_be_visible()
    expect(row).to_be_focused()
    assert desktop.window_was_not_reloaded()


def test_typing_a_search_keeps_the_focus_in_the_search_box(desktop: Browsing, world):
    page = desktop.page
    page.goto("/leads/")
    search = page.get_by_label("Search leads")
    search.fill("eve")
    expect(page.locator("#lead-list")).not_to_contain_text("zoe@example.com")
    expect(search).to_be_focused()


def test_the_leads_table_stacks_on_a_phone(phone: Browsing, world):
    page = phone.page
    page.goto("/leads/")
    table = page.locator("#lead-list table")

    expect(table.locator("thead")).to_be_hidden()
    row = table.locator("tbody tr").first
    assert row.evaluate("tr => getComputedStyle(tr).display") == "block"
    expect(row.locator("td[data-label=Contacts]")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_live_dashboard_refresh_never_takes_the_focus_away(desktop: Browsing, world):
    page = desktop.page
    page.goto("/")

    def refresh_and_wait() -> None:
        page.evaluate("""() => new Promise(done => {
            document.addEventListener("htmx:afterSettle", () => setTimeout(done, 0), {once: true});
            htmx.trigger(document.querySelector("[data-live]"), "live-tick");
        })""")

    # Nothing focused: a refresh focuses nothing (and scrolls nowhere).
    refresh_and_wait()
    assert page.evaluate("document.activeElement === document.body")

    # On a link inside the refreshed numbers (one without an id, which htmx cannot find again
    # by itself): the focus comes back to the same link in the new numbers.
    link = page.locator("[data-live] a[href]:not([id])").first
    href = link.get_attribute("href")
    link.focus()
    refresh_and_wait()
    assert page.evaluate("document.activeElement.getAttribute('href')") == href
    assert page.evaluate("document.querySelector('[data-live]').contains(document.activeElement)")
