"""The catalogue in a real browser: live search, language switch, municipal catalogues, no-JS fallback, embedding."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, Response, expect

from tests.fixtures.browser import LivePortal

pytestmark = pytest.mark.browser

COUNT_LV = re.compile(r"^(Atrasts|Atrasti) \d+ pakalpojum(s|i)$")


def query_of(url: str) -> dict[str, list[str]]:
    """The non-empty query parameters of `url`."""
    return parse_qs(urlsplit(url).query)


def number_in(text: str) -> int:
    """The first number in `text` (a results count)."""
    match = re.search(r"\d+", text)
    assert match, text
    return int(match.group())


def is_htmx_catalogue_response(response: Response, fragment: str) -> bool:
    """Say whether `response` is the catalogue fragment htmx asked for, with `fragment` in its URL."""
    return fragment in response.url and response.request.headers.get("hx-request") == "true"


def test_live_search_swaps_results_without_a_page_load(page: Page) -> None:
    page.goto("/lv/services")
    heading = page.locator("#results-heading")
    status = page.locator("#results-status")
    all_services = heading.inner_text()
    page.evaluate("window.__sameDocument = true")  # a full page load would drop it

    search = page.get_by_label("Meklēt pakalpojumu")
    with page.expect_response(lambda r: is_htmx_catalogue_response(r, "q=pabalsts")) as fragment:
        search.press_sequentially("pabalsts")
    body = fragment.value.text()
    assert fragment.value.status == 200 and "<html" not in body and 'id="results"' in body  # only the block

    expect(page).to_have_url(re.compile(r"/lv/services\?q=pabalsts$"))  # the clean URL from HX-Push-Url
    assert query_of(page.url) == {"q": ["pabalsts"]}
    expect(heading).not_to_have_text(all_services)
    found = heading.inner_text()
    assert COUNT_LV.match(found), found
    expect(status).to_have_text(found)  # announced in the live region after the swap
    expect(search).to_be_focused()  # typing is not interrupted by the swap
    titles = page.locator("#results .service-card__title").all_inner_texts()
    assert sum("pabalsts" in t for t in titles) >= 5, titles  # the benefits, not the first page of everything

    with page.expect_response(lambda r: is_htmx_catalogue_response(r, "institution=vsaa")):
        page.get_by_label("Iestāde").select_option("vsaa")
    expect(page).to_have_url(re.compile(r"/lv/services\?q=pabalsts&institution=vsaa$"))
    assert query_of(page.url) == {"q": ["pabalsts"], "institution": ["vsaa"]}
    expect(heading).not_to_have_text(found)
    narrowed = heading.inner_text()
    assert COUNT_LV.match(narrowed), narrowed
    expect(status).to_have_text(narrowed)
    assert 0 < number_in(narrowed) < number_in(found)  # a filter narrows the search
    assert page.evaluate("window.__sameDocument") is True

    page.reload()  # the pushed URL is a real address of the same results
    expect(heading).to_have_text(narrowed)
    expect(search).to_have_value("pabalsts")


def test_language_switch_keeps_page_and_query(page: Page) -> None:
    page.goto("/lv/services?q=pase")
    expect(page.locator("html")).to_have_attribute("lang", "lv")
    page.get_by_role("navigation", name="Valoda").get_by_role("link", name="English").click()
    expect(page).to_have_url(re.compile(r"/en/services\?q=pase$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Services")
    expect(page.get_by_label("Search for a service")).to_have_value("pase")
    expect(page.get_by_role("button", name="Show services")).to_be_visible()
    expect(page.locator("#results-heading")).to_have_text(re.compile(r"^\d+ services? found$"))
    expect(page.get_by_role("link", name="Latviešu")).to_have_attribute("href", "/lv/services?q=pase")


@pytest.mark.parametrize(
    ("point", "own", "foreign"),
    [("riga", "riga", ("valmiera", "liepaja")), ("valmiera", "valmiera", ("riga", "liepaja"))],
)
def test_municipal_point_lists_its_own_services_only(
    page: Page, live_portal: LivePortal, point: str, own: str, foreign: tuple[str, ...]
) -> None:
    page.goto(live_portal.url(point, "/lv/services"))
    expect(page.locator("body")).to_have_class(f"point-{point}")
    page.get_by_label("Meklēt pakalpojumu").press_sequentially("pirmsskola")
    expect(page).to_have_url(re.compile(r"\?q=pirmsskola(&|$)"))
    results = page.locator("#results")
    expect(results.locator(f'a[href="/lv/services/pii-rinda-{own}"]')).to_have_count(1)
    for other in foreign:
        expect(results.locator(f'a[href*="pii-rinda-{other}"]')).to_have_count(0)


@pytest.fixture
def no_js_page(browser: Browser, browser_context_args: dict[str, Any]) -> Iterator[Page]:
    """A page in a context with JavaScript switched off (htmx never runs)."""
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.mark.parametrize("submit", ["enter", "button"])
def test_catalogue_form_works_without_javascript(no_js_page: Page, submit: str) -> None:
    page = no_js_page
    page.goto("/lv/services")
    page.get_by_label("Meklēt pakalpojumu").fill("pase")
    with page.expect_request(lambda r: r.is_navigation_request() and "q=pase" in r.url) as navigation:
        if submit == "enter":
            page.get_by_label("Meklēt pakalpojumu").press("Enter")
        else:
            page.get_by_role("button", name="Rādīt pakalpojumus").click()
    assert "hx-request" not in navigation.value.headers  # a plain form submission, a full page load
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/lv/services" and query_of(page.url) == {"q": ["pase"]}
    expect(page.get_by_label("Meklēt pakalpojumu")).to_have_value("pase")
    expect(page.locator("#results-heading")).to_have_text(COUNT_LV)
    expect(page.locator('#results a[href="/lv/services/pases-izsniegsana"]')).to_have_count(1)


def test_embed_on_an_allowed_site_shows_the_catalogue_and_resizes(page: Page, live_portal: LivePortal) -> None:
    page.goto(f"{live_portal.embed_host}/host.html")
    frame = page.frame_locator("iframe[data-lv-eservices]")
    expect(frame.locator("h1")).to_be_visible()
    expect(frame.locator("h1")).to_have_text("Pakalpojumi")
    expect(frame.locator("body")).to_have_class("point-riga")
    # embed-child.js reports the content height, embed-resize.js on the host applies it
    page.wait_for_function(
        "() => document.querySelector('iframe[data-lv-eservices]').getBoundingClientRect().height > 300",
        timeout=5000,
    )
    iframe = page.locator("iframe[data-lv-eservices]")
    expect(iframe).to_have_attribute("scrolling", "no")
    assert 300 < iframe.evaluate("e => e.getBoundingClientRect().height") <= 20000


@pytest.mark.parametrize(
    ("host", "host_page", "directive"),
    [
        ("other_host", "other-host.html", "frame-ancestors 'self' http://embed-host.localhost:"),
        ("embed_host", "host-not-embeddable.html", "frame-ancestors 'none'"),
    ],
    ids=["foreign-site", "non-embed-route"],
)
def test_framing_is_blocked(page: Page, live_portal: LivePortal, host: str, host_page: str, directive: str) -> None:
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(f"{getattr(live_portal, host)}/{host_page}")
    iframe = page.locator("iframe[data-lv-eservices]")
    frame = iframe.element_handle().content_frame()
    assert frame is not None
    frame.wait_for_load_state()
    assert not frame.url.startswith(live_portal.url("riga", "/")), frame.url  # Chromium shows its error page
    expect(page.frame_locator("iframe[data-lv-eservices]").locator("#main")).to_have_count(0)
    for _ in range(20):
        if any(directive in text for text in console):
            break
        page.wait_for_timeout(100)
    assert any(directive in text and "blocked" in text for text in console), console
    assert iframe.evaluate("e => e.getBoundingClientRect().height") == 300  # nothing reached embed-resize.js
