"""Accessibility in a real browser: axe-core on every page type and delivery point, reflow at 320 px, keyboard."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

from tests.fixtures.browser import POINT_HOSTS, LivePortal

pytestmark = pytest.mark.browser

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
PAGES = {
    "home": "/{lang}/",
    "catalogue": "/{lang}/services?q=pabalsts",
    "service": "/{lang}/services/dzivesvietas-deklaresana",
    "institution": "/{lang}/institutions/vsaa",
    "embed-catalogue": "/{lang}/embed/services",
    "sign-in": "/{lang}/sign-in",
    "verify": "/{lang}/verify",
}
# Printable forms of level 2 services, on the points that offer those services.
PRINTABLE = [
    ("latvija", "/lv/services/laulibas-registracija-riga/form"),
    ("riga", "/lv/services/laulibas-registracija-riga/form"),
    ("valmiera", "/lv/services/socialas-palidzibas-pabalsts-valmiera/form"),
    ("latvija", "/en/services/socialas-palidzibas-pabalsts-valmiera/form"),
]
CASES = [(point, "lv", kind) for point in POINT_HOSTS for kind in PAGES] + [("latvija", "en", kind) for kind in PAGES]


@pytest.fixture(scope="session")
def axe() -> Axe:
    """axe-core as bundled by axe-playwright-python (works offline and under the portal's CSP)."""
    return Axe()


@pytest.mark.parametrize(("point", "lang", "kind"), CASES, ids=["-".join(case) for case in CASES])
def test_no_axe_violations(page: Page, live_portal: LivePortal, axe: Axe, point: str, lang: str, kind: str) -> None:
    response = page.goto(live_portal.url(point, PAGES[kind].format(lang=lang)))
    assert response is not None and response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", lang)
    results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    assert results.violations_count == 0, results.generate_report()
    checked = {rule["id"] for rule in results.response["passes"]}
    assert {"color-contrast", "document-title", "html-has-lang", "target-size"} <= checked, checked  # rules ran


@pytest.mark.parametrize(("point", "path"), PRINTABLE)
def test_no_axe_violations_on_printable_forms(
    page: Page, live_portal: LivePortal, axe: Axe, point: str, path: str
) -> None:
    response = page.goto(live_portal.url(point, path))
    assert response is not None and response.status == 200
    results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("point", list(POINT_HOSTS))
def test_catalogue_reflows_at_320_px(page: Page, live_portal: LivePortal, point: str) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(live_portal.url(point, "/lv/services?q=pabalsts"))
    expect(page.locator("#results .service-card").first).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"horizontal scroll at 320 px: scrollWidth {width}"


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(page: Page) -> None:
    page.goto("/lv/services")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Pāriet uz galveno saturu")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # visible when focused, not only to screen readers
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    page.keyboard.press("Tab")  # the next stop is inside main, not back in the header
    expect(page.get_by_label("Meklēt pakalpojumu")).to_be_focused()


def tab_to(page: Page, target: Locator, limit: int = 40) -> None:
    """Press Tab until `target` has focus (as a keyboard user would), failing after `limit` presses."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{target} never got focus with Tab")


def test_sign_in_with_the_keyboard_only(page: Page) -> None:
    page.goto("/lv/services?q=pabalsts")
    tab_to(page, page.get_by_role("navigation", name="Jūsu konts").get_by_role("link", name="Pieteikties"))
    page.keyboard.press("Enter")
    expect(page).to_have_title(re.compile(r"^Pieteikties – "))

    first = page.get_by_role("radio", name="Līga Bērziņa")
    tab_to(page, first)
    page.keyboard.press("Space")
    expect(first).to_be_checked()
    page.keyboard.press("ArrowDown")  # arrows move within the group, as in every radio group
    expect(page.get_by_role("radio", name="Jānis Ozoliņš")).to_be_checked()
    tab_to(page, page.get_by_role("button", name="Pieteikties"), limit=2)  # the button right after the group
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/lv/services\?q=pabalsts$"))  # back where the person started
    account = page.get_by_role("navigation", name="Jūsu konts")
    expect(account).to_contain_text("Jānis Ozoliņš")
    sign_out = account.get_by_role("button", name="Iziet")
    tab_to(page, sign_out)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/lv/$"))
    expect(page.get_by_role("navigation", name="Jūsu konts").get_by_role("link", name="Pieteikties")).to_be_visible()


def test_sign_in_errors_are_announced_and_linked(page: Page) -> None:
    page.goto("/lv/sign-in")
    page.get_by_role("button", name="Pieteikties").click()
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()  # moved there on load, so it is read first
    expect(page).to_have_title(re.compile(r"^Kļūda: Pieteikties – "))
    summary.get_by_role("link").click()
    expect(page.get_by_role("radio", name="Līga Bērziņa")).to_be_in_viewport()


@pytest.mark.parametrize("person", ["Līga Bērziņa", "Elīna Žagare"])
def test_no_axe_violations_when_signed_in(page: Page, axe: Axe, person: str) -> None:
    page.goto("/lv/sign-in")
    page.get_by_role("radio", name=person).check()
    page.get_by_role("button", name="Pieteikties").click()
    expect(page.get_by_role("navigation", name="Jūsu konts")).to_contain_text(person)
    for path in ("/lv/", "/lv/services/dzivesvietas-deklaresana"):
        page.goto(path)
        results = axe.run(
            page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
        )
        assert results.violations_count == 0, results.generate_report()


def test_signed_in_header_reflows_at_320_px(page: Page) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto("/lv/sign-in")
    page.get_by_role("radio", name="Elīna Žagare").check()
    page.get_by_role("button", name="Pieteikties").click()
    expect(page.get_by_role("button", name="Iziet")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"horizontal scroll at 320 px: scrollWidth {width}"


APPLY_CASES = [("latvija", "lv"), ("latvija", "en"), ("riga", "lv")]
APPLY_TEXT = {
    "lv": {
        "sign_in": "Pieteikties",
        "email": "E-pasts paziņojumiem",
        "by_email": "E-pastā",
        "continue": "Saglabāt un turpināt",
        "send": "Nosūtīt pieteikumu",
        "mine": "Mani pieteikumi",
    },
    "en": {
        "sign_in": "Sign in",
        "email": "Email for notifications",
        "by_email": "By email",
        "continue": "Save and continue",
        "send": "Send the application",
        "mine": "My applications",
    },
}


@pytest.mark.parametrize(("point", "lang"), APPLY_CASES, ids=["-".join(case) for case in APPLY_CASES])
def test_no_axe_violations_when_applying_online(
    page: Page,
    live_portal: LivePortal,
    axe: Axe,
    fresh_drafts: Callable[[str, str], None],
    point: str,
    lang: str,
) -> None:
    """A form page with errors, the check page (also with its error), the receipt and My applications.

    Elīna Žagare applies for an e-address (it needs an eID card or eParaksts: Jānis signs in with an internet bank);
    her drafts of it are deleted before and after, as in test_journeys_browser.py.
    """
    fresh_drafts("elina-zagare", "e-adreses-izveide")
    text = APPLY_TEXT[lang]

    def no_violations(kind: str) -> None:
        expect(page.locator("html")).to_have_attribute("lang", lang)
        results = axe.run(page, options=AXE_OPTIONS)
        assert results.violations_count == 0, f"{kind}: {results.generate_report()}"

    page.goto(live_portal.url(point, f"/{lang}/sign-in"))
    page.get_by_role("radio", name="Elīna Žagare").check()
    page.get_by_role("button", name=text["sign_in"]).click()
    page.goto(live_portal.url(point, f"/{lang}/services/e-adreses-izveide/apply"))
    if page.url.endswith("/check"):  # a draft left by an earlier failure: start from its page again
        page.goto(page.url.removesuffix("/check") + "/pages/notifications")

    email = page.get_by_label(text["email"])
    email.fill("not-an-email")
    page.get_by_role("button", name=text["continue"]).click()  # and no way to be told chosen either
    expect(page.get_by_role("alert").get_by_role("link")).to_have_count(2)
    no_violations("form page with errors")

    email.fill("janis@example.lv")
    page.get_by_role("checkbox", name=text["by_email"]).check()
    page.get_by_role("button", name=text["continue"]).click()
    expect(page).to_have_url(re.compile(r"/check$"))
    no_violations("check page")

    page.get_by_role("button", name=text["send"]).click()  # without the declaration
    expect(page.get_by_role("alert")).to_be_visible()
    no_violations("check page with errors")

    page.locator("#declaration").check()
    page.get_by_role("button", name=text["send"]).click()
    expect(page).to_have_url(re.compile(rf"/{lang}/my/applications/[0-9a-f]{{32}}$"))
    no_violations("receipt")

    page.get_by_role("link", name=text["mine"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(text["mine"])
    no_violations("My applications")
