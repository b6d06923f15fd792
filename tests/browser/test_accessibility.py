"""Accessibility in a real browser: axe-core on every page type and delivery point, reflow at 320 px, keyboard."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.fixtures.browser import POINT_HOSTS, LivePortal

pytestmark = pytest.mark.browser

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PAGES = {
    "home": "/{lang}/",
    "catalogue": "/{lang}/services?q=pabalsts",
    "service": "/{lang}/services/dzivesvietas-deklaresana",
    "institution": "/{lang}/institutions/vsaa",
    "embed-catalogue": "/{lang}/embed/services",
}
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
